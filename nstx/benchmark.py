"""``nstx-bench``: nstx's seconds per optimizer step against the hardware floor.

The floor of one step is a forward pass of the frozen backbone up to the deepest layer in
use plus the backward pass to the input image: the work no implementation can skip. It
uses the very modules the run uses (same weights, truncation, memory format, precision).

Everything runs in one process. nstx steps are timed through the real engine
(:func:`nstx.api.run`) by a lifecycle plugin, which runs one floor pass after every nstx
step: floor and nstx alternate, so background load on a shared machine hits both alike,
and the medians are compared. Warm-up steps fill an optimizer's history first
(``history_size``: L-BFGS reads its stored pairs every step), so that the figures are those
of most of a real run, not of its first steps.

``nstx-bench --quality`` measures something else, the judge's scores against wall time
(:mod:`nstx.quality_bench`).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nstx.errors import InputError
from nstx.hookspecs import hookimpl

SIZES = (128, 256, 512)
LARGE = 1024
OPTIMIZERS = ("lbfgs", "adam")
WARMUP = 3


@dataclass
class Row:
    """One measured (size, optimizer): medians in seconds, samples, peak memory.

    ``ratio`` is the median over steps of (nstx step / the floor pass right after it), in
    wall time; ``cpu_ratio`` the same in process CPU time.
    """

    size: int
    height: int
    width: int
    optimizer: str
    warmup: int
    floor_s: float
    nstx_s: float
    ratio: float
    cpu_ratio: float
    peak_memory_mb: float
    floor_samples: list[float] = field(default_factory=list)
    nstx_samples: list[float] = field(default_factory=list)
    floor_cpu_samples: list[float] = field(default_factory=list)
    nstx_cpu_samples: list[float] = field(default_factory=list)
    floor_contiguous_s: float | None = None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from nstx import quality_bench

    pairs = ", ".join(" with ".join(pair) for pair in quality_bench.PAIRS)
    parser = argparse.ArgumentParser(prog="nstx-bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=None,
        help=f"image sides in pixels (default: {SIZES}; with --quality {quality_bench.SIZES})",
    )
    parser.add_argument("--large", action="store_true", help=f"also measure {LARGE} px")
    parser.add_argument("--optimizers", nargs="+", default=list(OPTIMIZERS), help="optimizer plugins")
    parser.add_argument("--steps", type=int, default=5, help="measured steps per run (median)")
    parser.add_argument(
        "--warmup",
        type=int,
        default=None,
        help=f"unmeasured steps first (default: {WARMUP} plus the optimizer's history_size, if it has one)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    parser.add_argument("--precision", default="fp32", help="fp32, bf16, fp16")
    parser.add_argument("--compile", action="store_true", help="torch.compile the feature extractor")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument(
        "--weights", default="auto", help="backbone weights (default: auto, the original VGG19, as nstx runs)"
    )
    parser.add_argument(
        "--compare-formats", action="store_true", help="also time the floor in the contiguous (NCHW) format"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the results as JSON here")
    quality = parser.add_argument_group(
        "quality against time", "the judge's scores against wall time, nstx against pastiche 1.6.0"
    )
    quality.add_argument(
        "--quality", action="store_true", help="measure the judge's scores against wall time instead"
    )
    quality.add_argument(
        "--images",
        metavar="DIR",
        type=Path,
        default=None,
        help=f"the folder holding {pairs} (default: {quality_bench.IMAGES})",
    )
    quality.add_argument(
        "--pastiche-steps", metavar="N", type=int, default=quality_bench.STEPS, help="pastiche's steps"
    )
    quality.add_argument(
        "--nstx-steps", metavar="N", type=int, default=quality_bench.STEPS, help="each nstx run's steps"
    )
    quality.add_argument(
        "--every", metavar="N", type=int, default=quality_bench.EVERY, help="steps between scored checkpoints"
    )
    quality.add_argument(
        "--plot", metavar="FILE", type=Path, default=None, help="draw eval/style against wall time here (PNG)"
    )
    parser.add_argument(
        "overrides", nargs="*", help="config overrides, e.g. backbone=vgg16 or tracking.enabled=true"
    )
    args = parser.parse_args(argv)
    if args.sizes is None:
        args.sizes = list(quality_bench.SIZES if args.quality else SIZES)
    if args.large and LARGE not in args.sizes:
        args.sizes.append(LARGE)
    if args.steps < 1 or (args.warmup is not None and args.warmup < 0):
        parser.error("--steps must be >= 1 and --warmup >= 0")
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    if args.pastiche_steps < 1 or args.nstx_steps < 2 or args.every < 1:
        parser.error("--pastiche-steps and --every must be >= 1, --nstx-steps >= 2 (two levels)")
    return args


@contextmanager
def registered(plugin: object, name: str) -> Iterator[None]:
    """``plugin``'s lifecycle hooks take part in the runs made inside the block."""
    from nstx import registry

    reg = registry.default()
    reg.register(plugin, name=name)
    try:
        yield
    finally:
        reg.pm.unregister(plugin)


def clock(device: Any) -> tuple[float, float]:
    """Wall and process CPU seconds, once ``device`` has finished its queued work."""
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter(), time.process_time()


class PeakMemory:
    """Peak resident memory on CPU (Linux: VmHWM, reset per run), peak allocated on CUDA."""

    def __init__(self, device: Any) -> None:
        self.device = device
        self.kind = "cuda_max_memory_allocated" if device.type == "cuda" else "rss"

    def reset(self) -> None:
        import torch

        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
            return
        try:  # "5" resets the peak RSS (VmHWM) of this process
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            self.kind = "rss_process_peak"

    def megabytes(self) -> float:
        import torch

        if self.device.type == "cuda":
            return torch.cuda.max_memory_allocated(self.device) / 2**20
        status = Path("/proc/self/status")
        if status.exists():
            match = re.search(r"VmHWM:\s+(\d+) kB", status.read_text())
            if match:
                return int(match.group(1)) / 1024
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024


class Interleaved:
    """A lifecycle plugin that times every nstx step and runs one floor pass after each.

    A step is timed from the end of this plugin's previous call to the start of this one,
    so it covers the optimizer step, the engine's reporting and every other plugin's hooks.
    Samples are (wall seconds, process CPU seconds): CPU time is what load from other
    processes disturbs least.
    """

    def __init__(self, warmup: int, compare_formats: bool) -> None:
        self.warmup = warmup
        self.compare_formats = compare_formats
        self.nstx: list[tuple[float, float]] = []
        self.floor: list[tuple[float, float]] = []
        self.floor_contiguous: list[tuple[float, float]] = []
        self.shape: tuple[int, int] = (0, 0)

    @hookimpl
    def nstx_run_start(self, run):
        import torch

        from nstx import engine, registry
        from nstx.arguments import LAYER_GROUPS
        from nstx.features import FeatureExtractor

        self.device = run.device
        backbone = engine.load_backbone(registry.default(), run.config, run.device)
        layers = [
            backbone.canonical(layer)
            for key in LAYER_GROUPS
            for layer in engine.layer_weights(run.config, key)
        ]
        deepest = FeatureExtractor(backbone, layers).deepest
        extractor = FeatureExtractor(backbone, [deepest])
        self.passes = [(run.execution.features(extractor), deepest, self.floor)]
        if self.compare_formats:
            contiguous = copy.deepcopy(extractor).to(memory_format=torch.contiguous_format)
            self.passes.append((run.execution.features(contiguous), deepest, self.floor_contiguous))
        # Laid out like the engine's image: a contiguous fp32 leaf.
        self.image = run.content.detach().clone().contiguous().requires_grad_(True)
        self.shape = tuple(run.content.shape[-2:])
        self.left = self.now()

    @hookimpl(trylast=True)
    def nstx_step(self, step):
        import torch

        self.nstx.append(self.since(self.left))
        # The last warm-up step warms the floor passes too (a compiled floor compiles there).
        for features, deepest, samples in self.passes if step >= self.warmup else ():
            started = self.now()
            self.image.grad = None
            out = features(self.image)[deepest]
            # A dense gradient in the layer's layout, as a loss hands back (a stride-0
            # ``expand`` of one scalar takes a faster path in the last convolution).
            out.backward(torch.ones_like(out))
            if step > self.warmup:
                samples.append(self.since(started))
        self.left = self.now()

    def now(self) -> tuple[float, float]:
        return clock(self.device)

    def since(self, start: tuple[float, float]) -> tuple[float, float]:
        wall, cpu = self.now()
        return wall - start[0], cpu - start[1]


def square_samples() -> tuple[Any, Any]:
    """The bundled sample images, centre-cropped square so that every size is size x size."""
    from nstx import images, samples

    def square(path: Any) -> Any:
        image = images.open_image(path, 10**9)
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        return image.crop((left, top, left + side, top + side))

    return square(samples.CONTENT), square(samples.STYLE)


def measure(size: int, optimizer: str, args: argparse.Namespace, inputs: tuple[Any, Any]) -> Row:
    """Run nstx for warm-up + measured steps at ``size`` with ``optimizer``, floor interleaved."""
    from omegaconf import OmegaConf

    from nstx import api, engine

    config = api.compose(
        # Tracking is off unless an override turns it on: the loop is measured, not MLflow.
        ["tracking.enabled=false", f"optimizer={optimizer}", *args.overrides],
        image_size=size,
        weights=args.weights,
        device=args.device,
        precision=args.precision,
        compile=args.compile,
        log_every=1,
        save_every=0,
    )
    warmup = args.warmup
    if warmup is None:
        warmup = WARMUP + int(OmegaConf.select(config, "optimizer.history_size", default=0))
    config.iterations = warmup + args.steps
    timer = Interleaved(warmup, args.compare_formats)
    memory = PeakMemory(engine.resolve_device(args.device))
    with registered(timer, f"nstx-bench-{size}-{optimizer}"):
        memory.reset()
        api.run(config, content=inputs[0], style=inputs[1])
    peak = memory.megabytes()
    nstx_wall, nstx_cpu = map(list, zip(*timer.nstx[warmup:], strict=True))
    floor_wall, floor_cpu = map(list, zip(*timer.floor, strict=True))
    return Row(
        size=size,
        height=timer.shape[0],
        width=timer.shape[1],
        optimizer=optimizer,
        warmup=warmup,
        floor_s=statistics.median(floor_wall),
        nstx_s=statistics.median(nstx_wall),
        ratio=paired_ratio(nstx_wall, floor_wall),
        cpu_ratio=paired_ratio(nstx_cpu, floor_cpu),
        peak_memory_mb=peak,
        floor_samples=floor_wall,
        nstx_samples=nstx_wall,
        floor_cpu_samples=floor_cpu,
        nstx_cpu_samples=nstx_cpu,
        floor_contiguous_s=(
            statistics.median(wall for wall, _ in timer.floor_contiguous) if args.compare_formats else None
        ),
    )


def paired_ratio(nstx: list[float], floor: list[float]) -> float:
    """The median of each nstx step over the floor pass that followed it."""
    return statistics.median(n / f for n, f in zip(nstx, floor, strict=True))


def machine(device: Any, threads: int) -> dict[str, Any]:
    import torch

    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "torch_threads": threads,
        "device": str(device),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        if match:
            return match.group(1).strip()
    return platform.processor() or "unknown"


def table(rows: list[Row], memory_kind: str) -> str:
    """The results as a Markdown table."""
    memory = "peak GPU MB" if memory_kind.startswith("cuda") else "peak RSS MB"
    header = ["size", "optimizer", "floor s/step", "nstx s/step", "nstx/floor", "nstx/floor CPU time", memory]
    contiguous = any(row.floor_contiguous_s is not None for row in rows)
    if contiguous:
        header.insert(3, "floor NCHW s/step")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [
            f"{row.height}x{row.width}",
            row.optimizer,
            f"{row.floor_s:.3f}",
            f"{row.nstx_s:.3f}",
            f"{row.ratio:.2f}",
            f"{row.cpu_ratio:.2f}",
            f"{row.peak_memory_mb:.0f}",
        ]
        if contiguous:
            cells.insert(3, f"{row.floor_contiguous_s:.3f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """The console script: bad input is one line and exit status 2, as with ``nstx``."""
    args = parse_args(argv)
    command = "nstx-bench " + " ".join(sys.argv[1:] if argv is None else argv)
    try:
        if args.quality:
            from nstx import quality_bench

            quality_bench.benchmark(args, command)
        else:
            benchmark(args, command)
    except InputError as error:
        print(f"nstx-bench: error: {error}", file=sys.stderr)
        return 2
    return 0


def prepare(args: argparse.Namespace) -> tuple[Any, int]:
    """What both benchmarks do first: check the output paths, load plugins, set the threads.

    Returns the device and the number of torch threads.
    """
    import torch

    from nstx import cli, engine, images

    for path in (args.json, args.plot):
        if path is not None:  # before minutes of measuring, not after
            images.ensure_writable(path.expanduser().parent)
    cli.load_plugins(args.overrides)  # plugins_dir= overrides, so that their plugins can be named
    if args.threads:
        torch.set_num_threads(args.threads)
    return engine.resolve_device(args.device), torch.get_num_threads()


def benchmark(args: argparse.Namespace, command: str) -> None:
    """Measure every size and optimizer, print the table and write the JSON report."""
    device, threads = prepare(args)
    inputs = square_samples()
    rows = [measure(size, optimizer, args, inputs) for size in args.sizes for optimizer in args.optimizers]
    memory_kind = PeakMemory(device).kind
    print(f"{command}\n{machine(device, threads)}\n")
    print(table(rows, memory_kind))
    if args.json is not None:
        report = {
            "command": command,
            "machine": machine(device, threads),
            "settings": {
                "precision": args.precision,
                "compile": args.compile,
                "weights": args.weights,
                "warmup": args.warmup,
                "steps": args.steps,
                "overrides": args.overrides,
                "memory": memory_kind,
            },
            "results": [asdict(row) for row in rows],
        }
        args.json.expanduser().write_text(json.dumps(report, indent=2) + "\n")
