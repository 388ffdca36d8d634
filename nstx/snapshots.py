"""Snapshots of a run's progress, as a plugin of the lifecycle hooks.

With ``save_every=N`` the engine writes ``step_NNNNN.png`` into the run directory. At the end
of the run this plugin writes ``progress.png``, the first and the last iteration side by side,
and, when the run is tracked, logs every snapshot to its MLflow run as a step image (key
``snapshot``, beside the tracker's ``stylized`` images) and the figure as an artifact.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from nstx.hookspecs import hookimpl

if TYPE_CHECKING:
    from nstx.engine import Result, Run

PROGRESS_NAME = "progress.png"
SNAPSHOT_KEY = "snapshot"
STEP_FILE = re.compile(r"step_(\d+)\.png")


def saved_steps(directory: Path) -> list[tuple[int, Path]]:
    """The ``step_NNNNN.png`` files in ``directory`` as (step, path), in step order."""
    found = ((STEP_FILE.fullmatch(path.name), path) for path in directory.glob("step_*.png"))
    return sorted((int(match.group(1)), path) for match, path in found if match)


def progress_figure(first: tuple[int, Image.Image], last: tuple[int, Image.Image]) -> Image.Image:
    """The first and the last iteration next to each other, each captioned with its step."""
    from nstx.montage import montage

    return montage([[first[1], last[1]]], column_labels=[f"step {first[0]}", f"step {last[0]}"])


class Snapshots:
    """Keeps the first reported image of each run that saves snapshots."""

    def __init__(self) -> None:
        self.first: dict[int, tuple[int, Image.Image]] = {}

    @staticmethod
    def active(run: Run) -> bool:
        return bool(run.config.get("save_every")) and run.output_dir is not None

    @hookimpl
    def nstx_step(self, run: Run, step: int, image: Any) -> None:
        if self.active(run) and id(run) not in self.first:
            self.first[id(run)] = (step, image())

    # First, so that a tracker ending its MLflow run in this hook has not done so yet.
    @hookimpl(tryfirst=True)
    def nstx_run_end(self, run: Run, result: Result | None) -> None:
        first = self.first.pop(id(run), None)
        if not self.active(run):
            return
        assert run.output_dir is not None
        steps = saved_steps(run.output_dir)
        if result is not None:
            last = (result.steps, result.image)
        elif steps:
            last = (steps[-1][0], Image.open(steps[-1][1]))
        else:
            last = None
        figure = None
        if first is not None and last is not None:
            from nstx import images

            figure = images.save_png(progress_figure(first, last), run.output_dir / PROGRESS_NAME)
        log_to_mlflow(run, steps, figure)


def log_to_mlflow(run: Run, steps: list[tuple[int, Path]], figure: Path | None) -> None:
    """Snapshots as step images and the progress figure as an artifact of the run's MLflow run."""
    from nstx.tracking import tracker

    tracked = tracker.runs.get(id(run))
    if tracked is None:
        return
    for step, path in steps:
        with Image.open(path) as image:
            tracked.client.log_image(tracked.run_id, image, key=SNAPSHOT_KEY, step=step)
    if figure is not None:
        tracked.client.log_artifact(tracked.run_id, str(figure))


snapshots = Snapshots()
