"""Regenerate every figure of docs/experiments/ from scratch.

    python docs/make_figures.py                      # all figures
    python docs/make_figures.py --only layer_depth pooling

Each figure is made by the one command its page prints, run as printed in an empty
temporary directory: the inputs are bundled samples named by their bare file names, the
weights are the default (``weights=auto``: the original VGG19), and the runs are tracked in
a throw-away MLflow store. Experiment figures are the comparison grids of their sweeps, at
figure size (``FIGURE_SIZE``); the PNGs are written into ``docs/experiments/figures/``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIGURES = REPO / "docs" / "experiments" / "figures"

# Real style transfer at a size where the whole set takes about half an hour on two CPU cores.
FIGURE_SIZE = ("image_size=192", "iterations=80")


@dataclass(frozen=True)
class Figure:
    """One documented command (bundled inputs by bare name) and the figure it makes."""

    name: str
    arguments: tuple[str, ...]
    script: str = "nstx"

    def command(self) -> list[str]:
        """The command as its page shows it."""
        size = FIGURE_SIZE if self.script == "nstx" else ()
        return [self.script, *self.arguments, *size]


def experiment(name: str, content: str, style: str, *extra: str) -> Figure:
    return Figure(name, ("-m", f"+experiment={name}", f"content={content}", f"style={style}", *extra))


EXPERIMENT_FIGURES = [
    experiment("layer_depth", "chelsea.png", "starry_night.jpg"),
    experiment("correlation", "astronaut.png", "starry_night.jpg"),
    experiment("style_cost", "coffee.png", "starry_night.jpg"),
    experiment("style_reconstruction", "starry_night.jpg", "starry_night.jpg"),
    experiment("content_style_ratio", "chelsea.png", "starry_night.jpg"),
    experiment("style_scale", "coffee.png", "starry_night.jpg"),
    experiment("pooling", "astronaut.png", "starry_night.jpg"),
    experiment("backbone", "chelsea.png", "starry_night.jpg"),
]
OTHER_FIGURES = [
    Figure(
        "pairs", ("-m", "content=chelsea.png,astronaut.png", "style=starry_night.jpg,hubble_deep_field.jpg")
    ),
    Figure("snapshots", ("content=astronaut.png", "style=starry_night.jpg", "save_every=10")),
    Figure(
        "feature_maps",
        ("image=astronaut.png", "layers=[relu1_1,relu2_1,relu3_1,relu4_1,relu5_1]", "channels=8"),
        script="nstx-features",
    ),
]
ALL_FIGURES = {figure.name: figure for figure in (*EXPERIMENT_FIGURES, *OTHER_FIGURES)}


def run(figure: Figure, work: Path) -> Path:
    """Run ``figure``'s command in the empty directory ``work``; return the PNG it made."""
    command = figure.command()
    output = work / "out"
    if figure.script == "nstx-features":
        destination = f"output={output / 'features.png'}"
    elif "-m" in command:
        destination = f"hydra.sweep.dir={output}"
    else:
        destination = f"hydra.run.dir={output}"
    script = Path(sys.executable).parent / figure.script
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}"}
    print("+", shlex.join(command), flush=True)
    subprocess.run([str(script), *command[1:], destination], cwd=work, env=env, check=True)
    return figure_image(figure, output)


def figure_image(figure: Figure, output: Path) -> Path:
    """The PNG a figure's command made: the sweep grid, the progress figure or the sheet."""
    if figure.script == "nstx-features":
        return output / "features.png"
    if figure.name == "snapshots":
        return output / "progress.png"
    from nstx.tracking.sweep import GRID_FILE

    return output / GRID_FILE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=FIGURES, help="where the PNGs go (default: %(default)s)")
    parser.add_argument("--only", nargs="+", choices=sorted(ALL_FIGURES), help="make only these figures")
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for name in options.only or ALL_FIGURES:
        began = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=f"nstx-{name}-") as work:
            made = run(ALL_FIGURES[name], Path(work))
            target = options.out / f"{name}.png"
            optimise_png(made, target)
        print(
            f"{target}: {target.stat().st_size / 1024:.0f} KB, {time.perf_counter() - began:.0f} s",
            flush=True,
        )
    print(f"all figures in {time.perf_counter() - started:.0f} s")


def optimise_png(source: Path, target: Path) -> None:
    """Re-encode as an optimised PNG (smaller files, same pixels)."""
    from PIL import Image

    with Image.open(source) as image:
        image.convert("RGB").save(target, optimize=True)


if __name__ == "__main__":
    main()
