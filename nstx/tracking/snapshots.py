"""Snapshots of a run's progress, as a plugin of the lifecycle hooks.

With ``save_every=N`` (and an output directory) this plugin writes ``step_NNNNN.png`` into the
run directory every N steps. At the end of the run it writes ``progress.png``, the first and
the last iteration side by side, and, when the run is tracked, logs every snapshot to its
MLflow run as a step image (key ``snapshot``, beside the tracker's ``stylized`` images) and
the figure as an artifact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from nstx.image import io
from nstx.image.montage import montage
from nstx.registry.hookspecs import Result, Run, hookimpl

PROGRESS_NAME = "progress.png"
SNAPSHOT_KEY = "snapshot"


def step_file(directory: Path, step: int) -> Path:
    return directory / f"step_{step:05d}.png"


def progress_figure(first: tuple[int, Image.Image], last: tuple[int, Image.Image]) -> Image.Image:
    """The first and the last iteration next to each other, each captioned with its step."""
    return montage([[first[1], last[1]]], column_labels=[f"step {first[0]}", f"step {last[0]}"])


@dataclass
class Album:
    """One run's snapshots: the first reported image and the files written."""

    first: tuple[int, Image.Image] | None = None
    saved: list[tuple[int, Path]] = field(default_factory=list)


class Snapshots:
    """Keeps the first reported image of each run that saves snapshots, and writes the snapshots."""

    def __init__(self) -> None:
        self.albums: dict[int, Album] = {}

    @staticmethod
    def every(run: Run) -> int:
        """``save_every`` of a run that has an output directory; 0: no snapshots."""
        return int(run.config.get("save_every") or 0) if run.output_dir is not None else 0

    @hookimpl
    def nstx_step(self, run: Run, step: int, image: Any) -> None:
        every = self.every(run)
        if not every:
            return
        album = self.albums.setdefault(id(run), Album())
        if album.first is None or step % every == 0:
            picture = image()
            album.first = album.first or (step, picture)
            if step % every == 0:
                assert run.output_dir is not None
                album.saved.append((step, io.save_png(picture, step_file(run.output_dir, step))))

    @hookimpl
    def nstx_run_end(self, run: Run, result: Result | None) -> None:
        album = self.albums.pop(id(run), None)
        if album is None:
            return
        assert run.output_dir is not None
        if result is not None:
            last = (result.steps, result.image)
        elif album.saved:
            last = (album.saved[-1][0], Image.open(album.saved[-1][1]))
        else:
            last = None
        figure = None
        if album.first is not None and last is not None:
            figure = io.save_png(progress_figure(album.first, last), run.output_dir / PROGRESS_NAME)
        log_to_mlflow(run, album.saved, figure)


def log_to_mlflow(run: Run, steps: list[tuple[int, Path]], figure: Path | None) -> None:
    """Snapshots as step images and the progress figure as an artifact of the run's MLflow run."""
    from nstx.tracking.tracker import tracker

    tracked = tracker.runs.get(id(run))
    if tracked is None:
        return
    for step, path in steps:
        with Image.open(path) as image:
            image.load()
        tracked.send(tracked.client.log_image, image, key=SNAPSHOT_KEY, step=step)
    if figure is not None:
        tracked.send(tracked.client.log_artifact, str(figure))


snapshots = Snapshots()
