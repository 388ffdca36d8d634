"""Sweeps in MLflow: a parent run per Hydra multirun, each job a nested child run.

The Hydra callback opens the parent when the multirun starts. In each job's own
process (the basic launcher's, or a joblib/submitit worker's, where this callback
travels with the launcher's context) it creates the job's child run and hands its
id to the tracker through $NSTX_MLFLOW_RUN_ID; a job that fails before its run
starts still leaves a FAILED child with its params and error. Hydra skips
``on_multirun_end`` when a job fails or on Ctrl-C, so ``nstx.cli.main.main`` calls
:func:`end_sweep` as well: the parent always ends, with the comparison grid.

Hydra turns an error in a callback into a warning and goes on; a sweep whose parent run
cannot be made (its store cannot be used) must stop before any job, so that error is
:class:`~nstx.errors.Escalated` past Hydra to the command, which reports it in one line.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.utils import JobStatus
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from nstx.errors import Escalated
from nstx.tracking import tracker as tracking
from nstx.tracking import ui
from nstx.tracking.repair import owner_tags, repair
from nstx.tracking.store import Store, enabled, open_store
from nstx.tracking.tracker import RUN_ID_ENV
from nstx.version import __version__

log = logging.getLogger(__name__)

GRID_FILE = "comparison_grid.png"


@dataclass
class OpenSweep:
    """The parent run of the multirun in progress in this process."""

    store: Store
    run_id: str
    axes: dict[str, list[str]]
    directory: Path
    name: str

    @property
    def client(self) -> Any:
        return self.store.client

    def children(self) -> list[Any]:
        return self.client.search_runs(
            [self.store.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{self.run_id}'"
        )


_open: OpenSweep | None = None


def parse_overrides(overrides: list[str]) -> dict[str, str]:
    """Hydra override strings -> key -> value as typed (a sweep keeps its sweep syntax)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(overrides)
    return {o.key_or_group: o.input_line.partition("=")[2] for o in parsed}


def swept_axes(overrides: list[str]) -> dict[str, list[str]]:
    """Swept key -> its values in sweep order, for the sweep overrides among ``overrides``."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    axes = {}
    for override in OverridesParser.create().parse_overrides(overrides):
        if override.is_sweep_override():
            try:
                axes[override.key_or_group] = list(override.sweep_string_iterator())
            except Exception:  # e.g. glob(), which needs the config to expand
                axes[override.key_or_group] = []
    return axes


def job_config(config: DictConfig) -> DictConfig:
    """A job's config without Hydra's own node: what the run itself sees."""
    return OmegaConf.masked_copy(config, [key for key in config if key != "hydra"])


class SweepTracker(Callback):
    """Hydra callback (``hydra.callbacks`` in conf/config.yaml) nesting a multirun's jobs in MLflow."""

    def __init__(self) -> None:
        self.parent_run_id: str | None = None
        self.axes: dict[str, list[str]] = {}

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        global _open
        try:
            if not enabled(config):
                return
            store = open_store(config)
            repair(store.client, by=f"the nstx sweep of process {os.getpid()}")
        except Exception as error:
            raise Escalated(error) from error
        # As Hydra's basic sweeper does: sweeps set in the config (an experiment preset's
        # hydra.sweeper.params) first, then the command line's overrides.
        params = OmegaConf.select(config, "hydra.sweeper.params") or {}
        overrides = [f"{key}={value}" for key, value in params.items()] + list(config.hydra.overrides.task)
        self.axes = swept_axes(overrides)
        typed = parse_overrides(overrides)
        name = " ".join(f"{key}={typed[key]}" for key in self.axes) or "multirun"
        directory = Path(str(config.hydra.sweep.dir))
        tags = {
            "nstx.sweep": " ".join(overrides),
            "nstx.sweep.axes": json.dumps(self.axes),
            "nstx.output_dir": str(directory),
            "version.nstx": __version__,
        } | owner_tags()
        try:
            parent = store.client.create_run(store.experiment_id, run_name=name, tags=tags)
        except Exception as error:
            raise Escalated(error) from error
        self.parent_run_id = parent.info.run_id
        _open = OpenSweep(store, self.parent_run_id, self.axes, directory, name)

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        if self.parent_run_id is None or not enabled(config):
            return
        values = parse_overrides(list(config.hydra.overrides.task))
        name = child_name(values, self.axes) or f"job {config.hydra.job.num}"
        tags = {"mlflow.parentRunId": self.parent_run_id, "nstx.overrides": json.dumps(values)} | owner_tags()
        try:
            store = open_store(config)
            child = store.client.create_run(store.experiment_id, run_name=name, tags=tags)
        except Exception as error:  # the job's own check says it in one line
            log.warning("no MLflow run for this job: %s", error)
            return
        os.environ[RUN_ID_ENV] = child.info.run_id

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        run_id = os.environ.pop(RUN_ID_ENV, None)
        if run_id is None:
            return
        try:
            client = open_store(config).client
            if client.get_run(run_id).info.status != "RUNNING":
                return  # the tracker ran and ended it
            # The job ended before its run started (bad input, say): record it with its config.
            tracking.log_config(client, run_id, job_config(config))
            failed = job_return.status == JobStatus.FAILED
            if failed:  # JobReturn.return_value would re-raise; the error itself is what we want
                tracking.log_error(client, run_id, job_return._return_value)
            client.set_terminated(run_id, "FAILED" if failed else "FINISHED")
        except Exception as error:  # the store went away: the job's own line says so
            log.warning("MLflow run %s of this job could not be ended: %s", run_id, error)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        end_sweep()


def end_sweep(error: BaseException | None = None) -> None:
    """End the open sweep's parent run, if any, after adding the comparison grid.

    KILLED on Ctrl-C; FAILED when ``error`` is given or a child failed; else FINISHED.
    Children left running (a worker that died) end KILLED or FAILED the same way. ``error``
    gets a note saying how the parent was recorded, or that it could not be.
    """
    global _open
    sweep, _open = _open, None
    os.environ.pop(RUN_ID_ENV, None)
    if sweep is None:
        return
    interrupted = isinstance(error, KeyboardInterrupt)
    status = "KILLED" if interrupted else "FAILED" if error is not None else "FINISHED"
    try:
        try:
            if error is not None:
                tracking.log_error(sweep.client, sweep.run_id, error)
            for child in sweep.children():
                if child.info.status == "RUNNING":
                    sweep.client.set_terminated(child.info.run_id, "KILLED" if interrupted else "FAILED")
            children = sweep.children()
            if status == "FINISHED" and any(c.info.status != "FINISHED" for c in children):
                status = "FAILED"
            grid = view = None
            if children:
                sweep.client.set_tag(sweep.run_id, "mlflow.note.content", summary(sweep, children))
                grid = log_grid(sweep, children)
                view = save_view(sweep, children)
        finally:
            sweep.client.set_terminated(sweep.run_id, status)
        line = f"sweep run {sweep.run_id} was recorded as {status}"
    except Exception as failure:  # the store went away
        line = f"sweep run {sweep.run_id} could not be ended ({failure}); nstx-runs repair ends it FAILED"
        log.warning("%s", line)
    else:
        print(
            f"nstx: sweep {sweep.directory} ({len(children)} jobs, {status}); comparison grid {grid}; "
            f"MLflow parent run '{sweep.name}' {tracking.in_store(sweep.store.uri)}"
            + (f"; its view in the UI: {view}" if view else "")
        )
    if error is not None:
        error.add_note(line)


def save_view(sweep: OpenSweep, children: list[Any]) -> str | None:
    """Save the sweep's view of the runs page (:mod:`nstx.tracking.ui`); return its address."""
    try:
        link = ui.save_sweep_view(
            sweep.client, sweep.store.experiment_id, sweep.run_id, sweep.name, children, tracking.IMAGE_KEY
        )
    except Exception as error:  # a missing view must not hide how the sweep ended
        log.warning("no saved view for sweep run %s: %s", sweep.run_id, error)
        return None
    return ui.ui_address(sweep.store.uri) + link


def child_name(values: dict[str, str], axes: dict[str, list[str]]) -> str:
    """A job's run name: its swept values first, so that they show in MLflow's runs table (a
    file's name for an image path); the keys are in the parent's name."""
    return " · ".join(
        Path(values[key]).name if "/" in values[key] else values[key] for key in axes if key in values
    )


def summary(sweep: OpenSweep, children: list[Any]) -> str:
    """The parent run's description: one table row per job, its swept values and the judge's
    final scores (lower is better), best style score first."""
    keys = list(sweep.axes)
    rows = []
    for child in children:
        overrides = json.loads(child.data.tags.get("nstx.overrides", "{}"))
        metrics = child.data.metrics
        scores = [metrics.get(f"eval/{name}") for name in ("content", "style")]
        cells = [str(overrides.get(key, "?")) for key in keys]
        cells += [f"{score:.3g}" if score is not None else "" for score in scores]
        rows.append((scores[1] if scores[1] is not None else float("inf"), [*cells, child.info.status]))
    header = [*keys, "eval/content", "eval/style", "status"]
    lines = [f"Sweep over {', '.join(keys) or 'jobs'}: the judge's scores of each job (lower is better).", ""]
    lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for _, cells in sorted(rows, key=lambda row: row[0])]
    return "\n".join(lines)


def log_grid(sweep: OpenSweep, children: list[Any]) -> Path | None:
    """Write the comparison grid into the sweep dir, log it on the parent run, return its path."""
    from nstx.tracking.grid import comparison_grid

    try:
        grid = comparison_grid([child_tile(sweep, child) for child in children], sweep.axes)
        sweep.directory.mkdir(parents=True, exist_ok=True)
        path = sweep.directory / GRID_FILE
        grid.save(path)
        sweep.client.log_artifact(sweep.run_id, str(path))
    except Exception as error:  # a missing grid must not hide how the sweep ended
        log.warning("no comparison grid for sweep run %s: %s", sweep.run_id, error)
        return None
    return path


def child_tile(sweep: OpenSweep, child: Any) -> Any:
    """A grid tile for ``child``: its swept values and the final image its job wrote, if any."""
    from PIL import Image

    from nstx.tracking.grid import Tile

    overrides = json.loads(child.data.tags.get("nstx.overrides", "{}"))
    values = {key: overrides.get(key, "?") for key in sweep.axes}
    output = Path(child.data.tags.get("nstx.output_dir", "")) / "stylized.png"
    if child.info.status != "FINISHED" or not output.is_file():
        return Tile(values, None, child.info.status)
    with Image.open(output) as image:
        return Tile(values, image.convert("RGB"), caption=scores_caption(child.data.metrics))


def scores_caption(metrics: Mapping[str, float]) -> str:
    """The judge's final scores of a run, as a tile caption (empty when it was not judged)."""
    if not all(f"eval/{name}" in metrics for name in ("content", "style")):
        return ""
    return f"content {metrics['eval/content']:.3g} · style {metrics['eval/style']:.3g}"
