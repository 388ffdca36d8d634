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
judge (:mod:`nstx.judge`) scores the images after each run, outside its clock.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from itertools import groupby
from operator import attrgetter
from pathlib import Path
from typing import Any

from nstx.benchmark import clock, machine, prepare, registered
from nstx.errors import InputError
from nstx.hookspecs import hookimpl

PAIRS = (
    ("tubingen.jpg", "starry_night.jpg"),
    ("astronaut.png", "the_scream.jpg"),
    ("coffee.png", "shipwreck.jpg"),
)
SIZES = (256, 512)
STEPS = 300  # pastiche's step count in the measurements that chose nstx's defaults
EVERY = 10
IMAGES = Path(__file__).resolve().parents[2] / "shared" / "images"
NSTX, COARSE_TO_FINE, PASTICHE = "nstx", "nstx coarse-to-fine", "pastiche"

# pastiche's own main(), with the time of its image writes printed: it converts an image
# to bytes value by value (1.4 s at 512 px, against a 2 s step), a cost of the
# intermediate images this benchmark asks for, which comes off its clock.
PASTICHE_RUNNER = """
import sys, time
from pastiche import pastiche
save_image = pastiche.save_image
def timed(image, path):
    started = time.time()
    save_image(image, path)
    print(f"wrote {time.time() - started:.6f}", flush=True)
pastiche.save_image = timed
sys.exit(pastiche.main(sys.argv))
"""
STEP_LINE = re.compile(r"(\d+)\s+(\d+\.\d+)\s+\S+")
WRITE_LINE = re.compile(r"wrote (\d+\.\d+)")

Capture = tuple[int, float, Any]  # step, seconds since the run started, its image (PIL)


@dataclass
class Point:
    """A checkpoint: the step, wall seconds since the run started, the judge's scores."""

    step: int
    seconds: float
    content: float
    style: float


@dataclass
class Curve:
    """One contender's checkpoints on one pair at one size."""

    content: str
    style: str
    size: int
    contender: str
    points: list[Point]

    def until(self, step: int) -> Curve:
        """The curve of the same run stopped at ``step``."""
        points = [point for point in self.points if point.step <= step]
        return Curve(self.content, self.style, self.size, self.contender, points)

    def reaching(self, mark: Point) -> Point | None:
        """The first checkpoint with eval/style at most ``mark``'s and eval/content no worse."""
        return next((p for p in self.points if p.style <= mark.style and p.content <= mark.content), None)


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
    from nstx import api, engine, multiscale, registry

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
        engine.validate(config)
        engine.check_plugins(registry.default(), config)
        multiscale.plan(config)
    return configs


def check_sizes(configs: dict[int, dict[str, Any]], pictures: dict[Path, Any], device: Any) -> None:
    """Refuse a size whose coarsest level leaves an image side below what the network needs."""
    from nstx import images, judge, multiscale

    network = judge.network(device)
    for size, contenders in configs.items():
        coarsest = multiscale.sizes(contenders[COARSE_TO_FINE])[0]
        for path, picture in pictures.items():
            side = min(images.resize_longest(picture, coarsest).size)
            if side < network.min_size:
                raise InputError(
                    f"size {size} is too small: at its coarse level ({coarsest} px) {path.name} has a "
                    f"{side} px side, below the {network.min_size} px that {network.deepest} needs"
                )


def run_nstx(config: Any, content: Path, style: Path, every: int, device: Any) -> list[Capture]:
    """One nstx run through the real engine, its checkpoints captured."""
    from nstx import api, engine

    recorder = Checkpoints(every, device)
    engine._backbones.clear()  # each run loads its weights, as each pastiche process does
    with registered(recorder, "nstx-bench-quality"):
        recorder.start()
        api.run(config, content=str(content), style=str(style))
    return recorder.captured


def pastiche_clock(output: str) -> dict[int, float]:
    """Seconds since pastiche started at each step it printed, its image writes taken off."""
    writing, seconds = 0.0, {}
    for line in output.splitlines():
        if written := WRITE_LINE.fullmatch(line.strip()):
            writing += float(written[1])
        elif step := STEP_LINE.fullmatch(line.strip()):
            seconds[int(step[1])] = float(step[2]) - writing
    return seconds


def run_pastiche(
    content: Path, style: Path, size: int, args: argparse.Namespace, device: Any, threads: int
) -> list[Capture]:
    """One pastiche run with its defaults, in its own process with as many threads as nstx."""
    from nstx import images

    with tempfile.TemporaryDirectory(prefix="nstx-bench-pastiche-") as work:
        workspace, output = Path(work) / "steps", Path(work) / "final.png"
        command = [sys.executable, "-c", PASTICHE_RUNNER, "--device", str(device), "--seed", "0"]
        command += ["--size", str(size), "--style-size", str(size), "--num-steps", str(args.pastiche_steps)]
        command += ["--content", str(content), "--styles", str(style), "--output", str(output)]
        command += ["--workspace", str(workspace), "--workspace-step", str(args.every), "--info-step", "1"]
        environment = os.environ | {"OMP_NUM_THREADS": str(threads)}
        done = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"pastiche exited with status {done.returncode}:\n{done.stderr}")
        seconds = pastiche_clock(done.stdout)
        digits = len(str(args.pastiche_steps))  # pastiche names its images by the zero-padded step
        captured = [
            (step, seconds[step], images.open_image(workspace / f"{step:0{digits}d}.png"))
            for step in range(args.every, args.pastiche_steps, args.every)
        ]
        return [*captured, (args.pastiche_steps, seconds[args.pastiche_steps], images.open_image(output))]


def score(judge: Any, captured: list[Capture]) -> list[Point]:
    """The judge's scores of each captured image, at the final image's size (a coarse level's
    image upsampled as the next level would start from it)."""
    from nstx import images, multiscale

    shape = images.to_tensor(captured[-1][2]).shape[-2:]
    points = []
    for step, seconds, picture in captured:
        tensor = images.to_tensor(picture)
        if tensor.shape[-2:] != shape:
            tensor = multiscale.upsample(tensor, shape)
        points.append(Point(step, seconds, **judge(tensor)))
    return points


def benchmark(args: argparse.Namespace, command: str) -> None:
    """Run every pair, size and contender, then print the tables and write the report."""
    pairs = image_pairs(args.images)  # before importing torch: a mistyped folder fails at once
    from nstx import api, images
    from nstx.judge import Judge

    device, threads = prepare(args)
    configs = {size: nstx_configs(size, args) for size in args.sizes}
    default_steps = int(api.compose(["tracking.enabled=false", *args.overrides]).iterations)
    pictures = {path: images.open_image(path) for pair in pairs for path in pair}
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


def groups(curves: list[Curve]) -> list[dict[str, Curve]]:
    """The curves of each (size, pair), by contender, in the order they ran."""
    by_pair = attrgetter("size", "content", "style")
    return [{curve.contender: curve for curve in group} for _, group in groupby(curves, by_pair)]


def reached(curve: Curve, mark: Point) -> str:
    point = curve.reaching(mark)
    if point is None:
        return "not reached"
    return f"{point.seconds:.1f} s (step {point.step}), {point.seconds / mark.seconds:.2f} of pastiche's"


def table(curves: list[Curve], default_steps: int) -> str:
    """Each contender's final scores and time, and when it first matched pastiche's final image."""
    header = ["size", "content / style", "contender", "steps", "eval/content", "eval/style", "wall s"]
    header.append("reaches pastiche's eval/style, eval/content no worse")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for group in groups(curves):
        mark = group[PASTICHE].points[-1]
        rows = [group[PASTICHE], group[NSTX], group[COARSE_TO_FINE]]
        stopped = group[NSTX].until(default_steps)  # what a run of nstx's default length gives
        if stopped.points and stopped.points[-1].step < group[NSTX].points[-1].step:
            rows.insert(1, stopped)
        for curve in rows:
            final = curve.points[-1]
            cells = [f"{curve.size}", f"{curve.content} / {curve.style}", curve.contender, f"{final.step}"]
            cells += [f"{final.content:.3g}", f"{final.style:.3g}", f"{final.seconds:.1f}"]
            cells.append("the reference" if curve.contender == PASTICHE else reached(curve, mark))
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(curves: list[Curve]) -> str:
    """Per pair and size: whether an nstx contender matched pastiche's final image within half
    of pastiche's time (the project's target, set at 512 px)."""
    lines = [
        "| size | content / style | half of pastiche's wall s | nstx | nstx coarse-to-fine | target holds |",
        "|" + "---|" * 6,
    ]
    for group in groups(curves):
        mark = group[PASTICHE].points[-1]
        reaches = {name: group[name].reaching(mark) for name in (NSTX, COARSE_TO_FINE)}
        cells = [f"{mark.seconds / 2:.1f}"]
        cells += ["not reached" if p is None else f"{p.seconds:.1f}" for p in reaches.values()]
        within = [name for name, p in reaches.items() if p is not None and p.seconds <= mark.seconds / 2]
        cells.append(f"yes ({', '.join(within)})" if within else "no")
        pair = group[PASTICHE]
        lines.append(f"| {pair.size} | {pair.content} / {pair.style} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(curves: list[Curve], path: Path) -> None:
    """eval/style against wall seconds, one panel per pair and size; dashed: pastiche's final
    eval/style; dotted: half of pastiche's time."""
    from matplotlib.figure import Figure

    sizes = list(dict.fromkeys(curve.size for curve in curves))
    pairs = list(dict.fromkeys((curve.content, curve.style) for curve in curves))
    figure = Figure(figsize=(4.5 * len(pairs), 3.5 * len(sizes)), layout="constrained")
    axes = figure.subplots(len(sizes), len(pairs), squeeze=False)
    for curve in curves:
        ax = axes[sizes.index(curve.size)][pairs.index((curve.content, curve.style))]
        ax.plot(
            [p.seconds for p in curve.points], [p.style for p in curve.points], ".-", label=curve.contender
        )
        if curve.contender == PASTICHE:
            ax.axhline(curve.points[-1].style, color="grey", linestyle="--", linewidth=0.8)
            ax.axvline(curve.points[-1].seconds / 2, color="grey", linestyle=":", linewidth=0.8)
        ax.set_xlim(left=0)
        ax.set(
            title=f"{curve.content} / {curve.style}, {curve.size} px", xlabel="wall s", ylabel="eval/style"
        )
        ax.legend(fontsize="small")
    figure.savefig(path, dpi=100)
