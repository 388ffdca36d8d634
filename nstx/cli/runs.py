"""The ``nstx-runs`` command: upkeep of the MLflow store that nstx records runs in.

``nstx-runs repair`` ends FAILED every RUNNING run of this host whose process no longer exists
(killed with SIGKILL, or on a machine that went down), as every ``nstx`` run and sweep does when
it starts, and lists the RUNNING runs of other hosts, which it leaves alone: their processes
cannot be seen from here, so run it on those hosts too.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from nstx.errors import InputError
from nstx.version import __version__


def describe(run: Any) -> str:
    from nstx.tracking.repair import HOST_TAG, PID_TAG

    tags = run.data.tags
    return (
        f"  {run.info.run_id}  {run.info.run_name}  (experiment {run.info.experiment_id}, "
        f"process {tags.get(PID_TAG)} on {tags.get(HOST_TAG)})"
    )


def repair_store(uri: str | None) -> list[str]:
    """Repair the store ``uri`` names (as ``tracking.uri`` does); the lines that say what was done."""
    from nstx.tracking.repair import repair
    from nstx.tracking.store import connect

    client, resolved = connect(uri)
    done = repair(client, by="nstx-runs repair")
    if done.ended:
        lines = [f"ended FAILED {len(done.ended)} run(s) of {resolved} whose process had died:"]
        lines += [describe(run) for run in done.ended]
    else:
        lines = [f"no RUNNING run of this host in {resolved} has lost its process"]
    if done.elsewhere:
        lines.append(
            f"left alone {len(done.elsewhere)} RUNNING run(s) of other hosts (their processes cannot "
            "be seen from here; run nstx-runs repair there):"
        )
        lines += [describe(run) for run in done.elsewhere]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nstx-runs", description="Upkeep of nstx's MLflow store.")
    parser.add_argument("--version", action="version", version=f"nstx {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    repair = commands.add_parser(
        "repair",
        help="end FAILED the RUNNING runs of this host whose process died; list other hosts' runs",
        description="End FAILED, with tag nstx.repaired, every RUNNING run of this host whose process "
        "no longer exists; list the RUNNING runs of other hosts, which are left alone.",
    )
    repair.add_argument(
        "--tracking-uri",
        metavar="URI",
        help="the store, as tracking.uri takes it: a directory, a .db file, or an MLflow URI "
        "(default: $MLFLOW_TRACKING_URI, else MLflow's default, ./mlflow.db)",
    )
    args = parser.parse_args(argv)
    try:
        lines = repair_store(args.tracking_uri)
    except InputError as error:
        print(f"nstx-runs: error: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0
