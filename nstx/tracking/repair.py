"""Runs whose process died (SIGKILL, a crash, a machine that lost power) stay RUNNING in MLflow
for ever; this ends them FAILED, with a tag saying why.

Every run records the host and the process that writes it (tags ``nstx.host``, ``nstx.pid``
and the process's start time ``nstx.pid.started``, which tells a reused process id from the
original). A RUNNING run of this host whose process no longer exists is ended; runs of other
hosts are left alone (their processes cannot be seen from here) and listed.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST_TAG, PID_TAG, STARTED_TAG = "nstx.host", "nstx.pid", "nstx.pid.started"
REPAIRED_TAG = "nstx.repaired"

log = logging.getLogger(__name__)


def process_started(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), or None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]  # field 22; the name before it may hold spaces


def owner_tags() -> dict[str, str]:
    """The tags that tie a run to this process."""
    pid = os.getpid()
    tags = {HOST_TAG: socket.gethostname(), PID_TAG: str(pid)}
    started = process_started(pid)
    return tags if started is None else {**tags, STARTED_TAG: started}


def alive(pid: int, started: str | None) -> bool:
    """Whether process ``pid`` of this host still runs, and is the one that started at ``started``."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return True  # no /proc: the signal test is all there is
    return state != "Z" and (started is None or process_started(pid) == started)


@dataclass
class Repair:
    """What a repair did: the runs it ended, and the RUNNING runs of other hosts it left alone."""

    ended: list[Any] = field(default_factory=list)
    elsewhere: list[Any] = field(default_factory=list)


def pages(fetch: Callable[[str | None], Any]) -> Iterator[Any]:
    """Every item of a paged MLflow search."""
    token = None
    while True:
        page = fetch(token)
        yield from page
        token = page.token
        if not token:
            return


def running_runs(client: Any) -> Iterator[Any]:
    """The RUNNING runs of every active experiment of the store."""
    ids = [e.experiment_id for e in pages(lambda token: client.search_experiments(page_token=token))]
    if not ids:
        return
    yield from pages(lambda token: client.search_runs(ids, "attributes.status = 'RUNNING'", page_token=token))


def repair(client: Any, by: str) -> Repair:
    """End FAILED every RUNNING run of this host whose process is gone; ``by`` names who did."""
    here, done = socket.gethostname(), Repair()
    for run in running_runs(client):
        tags = run.data.tags
        if HOST_TAG not in tags or PID_TAG not in tags:
            continue  # not written by nstx, or by a version that did not say by whom
        if tags[HOST_TAG] != here:
            done.elsewhere.append(run)
            continue
        if alive(int(tags[PID_TAG]), tags.get(STARTED_TAG)):
            continue
        note = f"process {tags[PID_TAG]} on {here} ended without ending this run; ended FAILED by {by}"
        client.set_tag(run.info.run_id, REPAIRED_TAG, note)
        client.set_terminated(run.info.run_id, "FAILED")
        done.ended.append(run)
    if done.ended:
        names = ", ".join(f"{run.info.run_id} ({run.info.run_name})" for run in done.ended)
        log.warning("ended FAILED %d run(s) whose process had died: %s", len(done.ended), names)
    return done
