"""Regenerate every figure of docs/experiments/ from scratch.

    python docs/make_figures.py                      # all figures, inputs from ../shared/images
    python docs/make_figures.py --images DIR --only layer_depth pooling

Each experiment figure is the comparison grid of the one command on its page: the sweep of
``conf/experiment/<name>.yaml`` on a photo and a painting from ``--images``, at figure size
(``FIGURE_SIZE``), with seeded random backbone weights unless ``--weights`` names others.
The runs are tracked in a throw-away MLflow store; the grids are written as PNG into
``docs/experiments/figures/``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIGURES = REPO / "docs" / "experiments" / "figures"
DEFAULT_IMAGES = REPO.parent / "shared" / "images"

# Small enough for every figure to be made in minutes on two CPU cores.
FIGURE_SIZE = ("image_size=128", "iterations=30")
# Random weights give a weaker style term than ImageNet weights: the figures raise it so the
# factor under study moves the picture visibly.
RANDOM_WEIGHTS_STYLE = ("style_weight=1e7",)


@dataclass(frozen=True)
class Figure:
    """One documented command: the nstx arguments (``{images}``-relative inputs) and its output."""

    name: str
    arguments: tuple[str, ...]
    strong_style: bool = True
    script: str = "nstx"
    folders: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def command(self, weights: str = "random") -> list[str]:
        """The command as a page shows it: inputs relative to the image directory."""
        extra = [f"weights={weights}", *FIGURE_SIZE] if self.script == "nstx" else [f"weights={weights}"]
        if self.strong_style and weights == "random":
            extra += RANDOM_WEIGHTS_STYLE
        return [self.script, *self.arguments, *extra]


def experiment(name: str, content: str, style: str, *extra: str, strong_style: bool = True) -> Figure:
    arguments = ("-m", f"+experiment={name}", f"content={content}", f"style={style}", *extra)
    return Figure(name, arguments, strong_style)


EXPERIMENT_FIGURES = [
    experiment("layer_depth", "tubingen.jpg", "starry_night.jpg"),
    experiment("correlation", "chelsea.png", "the_scream.jpg"),
    experiment("style_cost", "tubingen.jpg", "shipwreck.jpg"),
    # From noise, L-BFGS with the per-step clamp to [0, 1] stalls at this size; Adam does not
    # (and, with no content term, does not depend on the style weight's scale).
    experiment(
        "style_reconstruction",
        "starry_night.jpg",
        "starry_night.jpg",
        "optimizer=adam",
        "optimizer.lr=0.1",
        strong_style=False,
    ),
    experiment("content_style_ratio", "tubingen.jpg", "the_scream.jpg", strong_style=False),
    experiment("style_scale", "coffee.png", "starry_night.jpg"),
    experiment("pooling", "astronaut.png", "starry_night.jpg"),
    experiment("backbone", "chelsea.png", "starry_night.jpg"),
]
OTHER_FIGURES = [
    Figure(
        "pairs",
        ("-m", "content=photos/", "style=paintings/"),
        folders={
            "photos": ("chelsea.png", "tubingen.jpg"),
            "paintings": ("starry_night.jpg", "the_scream.jpg"),
        },
    ),
    Figure("snapshots", ("content=tubingen.jpg", "style=starry_night.jpg", "save_every=10")),
    Figure(
        "feature_maps",
        ("image=tubingen.jpg", "layers=[relu1_1,relu2_1,relu3_1,relu4_1,relu5_1]", "channels=8"),
        strong_style=False,
        script="nstx-features",
    ),
]
ALL_FIGURES = {figure.name: figure for figure in (*EXPERIMENT_FIGURES, *OTHER_FIGURES)}


def run(figure: Figure, images: Path, work: Path, weights: str) -> Path:
    """Run ``figure``'s command in ``work`` on copies of its inputs; return the figure's PNG."""
    for folder, names in figure.folders.items():
        (work / folder).mkdir(parents=True, exist_ok=True)
        for name in names:
            (work / folder / name).symlink_to(images / name)
    command = figure.command(weights)
    output = work / "out"
    arguments = [local(arg, images) for arg in command[1:]]
    if figure.script == "nstx-features":
        arguments.append(f"output={output / 'features.png'}")
    elif "-m" in arguments:
        arguments.append(f"hydra.sweep.dir={output}")
    else:
        arguments.append(f"hydra.run.dir={output}")
    script = Path(sys.executable).parent / figure.script
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}"}
    print("+", shlex.join(command), flush=True)
    subprocess.run([str(script), *arguments], cwd=work, env=env, check=True)
    return figure_image(figure, output)


def local(argument: str, images: Path) -> str:
    """``content=x.jpg`` -> ``content=<images>/x.jpg`` for the runs (folders stay relative)."""
    key, sep, value = argument.partition("=")
    if sep and key in ("content", "style", "image") and not value.endswith("/"):
        return f"{key}={images / value}"
    return argument


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
    parser.add_argument(
        "--images", type=Path, default=DEFAULT_IMAGES, help="paintings and photos (default: %(default)s)"
    )
    parser.add_argument("--out", type=Path, default=FIGURES, help="where the PNGs go (default: %(default)s)")
    parser.add_argument(
        "--weights", default="random", help="backbone weights: random (default), imagenet or a path"
    )
    parser.add_argument("--only", nargs="+", choices=sorted(ALL_FIGURES), help="make only these figures")
    options = parser.parse_args()
    images = options.images.resolve()
    if not images.is_dir():
        parser.error(f"--images {str(options.images)!r} is not a directory; pass --images DIR")
    options.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for name in options.only or ALL_FIGURES:
        began = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=f"nstx-{name}-") as work:
            made = run(ALL_FIGURES[name], images, Path(work), options.weights)
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
