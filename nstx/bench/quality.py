"""``nstx-bench --quality``: the judge's scores against wall time, nstx against pastiche.

Seconds per step do not say how soon a run is good; that also depends on what each step
gains. For each content and style pair and size, three contenders run one after the
other, so that background load hits them alike, and each records at checkpoints the wall
seconds since it started and its image there:

- ``nstx``: nstx's defaults (the step count aside: the point at the default's step count
  is what a default run gives, as later steps do not change earlier ones);
- ``nstx coarse-to-fine``: two octaves, a third of the steps at half the size;
- ``pastiche``: pastiche 1.6.0's defaults, its own command in a subprocess, with the same
  original VGG19 weights and its style image at the output's size, as the judge sees it.

Each clock includes loading the weights and images and computing the targets. The fixed
judge (:mod:`nstx.judge.ruler`) scores the images after each run, outside its clock.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from nstx.bench.common import clock, machine, prepare, registered
from nstx.bench.curves import COARSE_TO_FINE, NSTX, PASTICHE, Capture, Curve, Point, plot, table, targets
from nstx.bench.pastiche import run_pastiche
from nstx.errors import InputError
from nstx.registry.hookspecs import hookimpl

PAIRS = (
    ("tubingen.jpg", "starry_night.jpg"),
    ("astronaut.png", "the_scream.jpg"),
    ("coffee.png", "shipwreck.jpg"),
)
SIZES = (256, 512)
STEPS = 300  # pastiche's step count in the measurements that chose nstx's defaults
EVERY = 10
_ROOT = Path(__file__).resolve().parents[2]
# ../shared/images beside a checkout, or shared/images inside one (as a device machine gets it)
_PLACES = (_ROOT.parent / "shared" / "images", _ROOT / "shared" / "images")
IMAGES = next((folder for folder in _PLACES if folder.is_dir()), _PLACES[0])


class Checkpoints:
    """Lifecycle plugin: the image at every ``every``-th step and the last, with the wall
    seconds since :meth:`start`, less the time spent copying images out."""

    def __init__(self, every: int, device: Any) -> None:
        self.every, self.device = every, device
        self.captured: list[Capture] = []
        self.started = self.copying = 0.0

    def start(self) -> None:
        self.captured, self.copying = [], 0.0
        self.started = clock(self.device)[0]

    @hookimpl(trylast=True)
    def nstx_step(self, run, step, image):
        if step % self.every and step != run.total_steps:
            return
        reached = clock(self.device)[0]
        self.captured.append((step, reached - self.started - self.copying, image()))
        self.copying += clock(self.device)[0] - reached


def image_pairs(folder: Path | None) -> list[tuple[Path, Path]]:
    """The (content, style) paths of :data:`PAIRS` in ``folder``, or an :class:`InputError`."""
    if folder is None:
        if not IMAGES.is_dir():
            raise InputError(f"--quality needs --images DIR: there is no {IMAGES}")
        folder = IMAGES
    if not folder.is_dir():
        raise InputError(f"image folder {str(folder)!r} does not exist")
    missing = [name for pair in PAIRS for name in pair if not (folder / name).is_file()]
    if missing:
        raise InputError(f"image folder {str(folder)!r} lacks {', '.join(missing)}")
    return [(folder / content, folder / style) for content, style in PAIRS]


def nstx_configs(size: int, args: argparse.Namespace) -> dict[str, Any]:
    """The two nstx contenders' configs at ``size``, checked as a run would check them."""
    from nstx import api, registry
    from nstx.engine.assemble import check_plugins
    from nstx.engine.settings import Settings

    options = {
        "image_size": size,
        "iterations": args.nstx_steps,
        "weights": args.weights,
        "device": args.device,
        "precision": args.precision,
        "compile": args.compile,
        "judge": False,  # judged after the run, off the clock
    }
    coarse = max(1, args.nstx_steps // 3)
    levels = {"octaves": 2, "scale_iterations": [coarse, args.nstx_steps - coarse]}
    configs = {
        NSTX: api.compose(["tracking.enabled=false", *args.overrides], **options),
        COARSE_TO_FINE: api.compose(["tracking.enabled=false", *args.overrides], **options, **levels),
    }
    for config in configs.values():
        check_plugins(registry.default(), Settings.from_config(config))
    return configs


def check_sizes(configs: dict[int, dict[str, Any]], pictures: dict[Path, Any], device: Any) -> None:
    """Refuse a size whose coarsest level leaves an image side below what the network needs."""
    from nstx.engine.settings import Settings
    from nstx.image import io
    from nstx.judge import ruler

    network = ruler.network(device)
    for size, contenders in configs.items():
        coarsest = Settings.from_config(contenders[COARSE_TO_FINE]).levels[0].size
        for path, picture in pictures.items():
            side = min(io.resize_longest(picture, coarsest).size)
            if side < network.min_size:
                raise InputError(
                    f"size {size} is too small: at its coarse level ({coarsest} px) {path.name} has a "
                    f"{side} px side, below the {network.min_size} px that {network.deepest} needs"
                )


def run_nstx(config: Any, content: Path, style: Path, every: int, device: Any) -> list[Capture]:
    """One nstx run through the real engine, its checkpoints captured."""
    from nstx import api
    from nstx.engine.assemble import forget_backbones

    recorder = Checkpoints(every, device)
    forget_backbones()  # each run loads its weights, as each pastiche process does
    with registered(recorder, "nstx-bench-quality"):
        recorder.start()
        api.run(config, content=str(content), style=str(style))
    return recorder.captured


def score(judge: Any, captured: list[Capture]) -> list[Point]:
    """The judge's scores of each captured image, at the final image's size (a coarse level's
    image upsampled as the next level would start from it)."""
    from nstx.image import io
    from nstx.optim.pyramid import upsample

    shape = io.to_tensor(captured[-1][2]).shape[-2:]
    points = []
    for step, seconds, picture in captured:
        tensor = io.to_tensor(picture)
        if tensor.shape[-2:] != shape:
            tensor = upsample(tensor, shape)
        points.append(Point(step, seconds, **judge(tensor)))
    return points


def benchmark(args: argparse.Namespace, command: str) -> None:
    """Run every pair, size and contender, then print the tables and write the report."""
    pairs = image_pairs(args.images)  # before importing torch: a mistyped folder fails at once
    from nstx import api
    from nstx.image import io
    from nstx.judge.ruler import Judge

    device, threads = prepare(args)
    configs = {size: nstx_configs(size, args) for size in args.sizes}
    default_steps = int(api.compose(["tracking.enabled=false", *args.overrides]).iterations)
    pictures = {path: io.open_image(path) for pair in pairs for path in pair}
    check_sizes(configs, pictures, device)
    curves = []
    for size in args.sizes:
        for content, style in pairs:
            judge = Judge.of(pictures[content], [pictures[style]], device=device)
            for name in (PASTICHE, NSTX, COARSE_TO_FINE):
                if name == PASTICHE:
                    captured = run_pastiche(content, style, size, args, device, threads)
                else:
                    captured = run_nstx(configs[size][name], content, style, args.every, device)
                curve = Curve(content.name, style.name, size, name, score(judge, captured))
                curves.append(curve)
                final = curve.points[-1]
                print(
                    f"{size} px, {content.name} / {style.name}: {name}, {final.step} steps in "
                    f"{final.seconds:.1f} s, eval/content {final.content:.3g}, eval/style {final.style:.3g}",
                    file=sys.stderr,
                    flush=True,
                )
    print(f"{command}\n{machine(device, threads)}\n")
    print(table(curves, default_steps))
    print()
    print(targets(curves))
    if args.json is not None:
        report = {
            "command": command,
            "machine": machine(device, threads) | {"pastiche": importlib.metadata.version("pastiche")},
            "settings": {
                "images": str(pairs[0][0].parent),
                "pairs": PAIRS,
                "sizes": args.sizes,
                "pastiche_steps": args.pastiche_steps,
                "nstx_steps": args.nstx_steps,
                "nstx_default_steps": default_steps,
                "every": args.every,
                "weights": args.weights,
                "precision": args.precision,
                "overrides": args.overrides,
            },
            "curves": [asdict(curve) for curve in curves],
        }
        args.json.expanduser().write_text(json.dumps(report, indent=2) + "\n")
    if args.plot is not None:
        plot(curves, args.plot.expanduser())
