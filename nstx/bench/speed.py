"""nstx's seconds per optimizer step against the hardware floor.

The floor of one step is a forward pass of the frozen backbone up to the deepest layer in
use plus the backward pass to the input image: the work no implementation can skip. It
uses the very modules the run uses (same weights, truncation, memory format, precision).

Everything runs in one process. nstx steps are timed through the real engine
(:func:`nstx.api.run`) by a lifecycle plugin, which runs one floor pass after every nstx
step: floor and nstx alternate, so background load on a shared machine hits both alike,
and the medians are compared. Warm-up steps fill an optimizer's history first
(``history_size``: L-BFGS reads its stored pairs every step), so that the figures are those
of most of a real run, not of its first steps.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import statistics
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nstx.bench.common import clock, machine, prepare, registered, square_samples
from nstx.registry.hookspecs import hookimpl

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

        from nstx.encoder.backbone import FeatureExtractor
        from nstx.engine.assemble import load_backbone
        from nstx.engine.settings import Settings
        from nstx.registry import default

        self.device = run.device
        settings = Settings.from_config(run.config)
        chosen = settings.plugins["backbone"], settings.plugins["pooling"]
        backbone = load_backbone(default(), *chosen, settings.weights, settings.device)
        layers = [
            backbone.canonical(layer)
            for group in (settings.style_layers, settings.content_layers)
            for layer in group
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


def measure(size: int, optimizer: str, args: argparse.Namespace, inputs: tuple[Any, Any]) -> Row:
    """Run nstx for warm-up + measured steps at ``size`` with ``optimizer``, floor interleaved."""
    from omegaconf import OmegaConf

    from nstx import api
    from nstx.encoder.execution import resolve_device

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
    memory = PeakMemory(resolve_device(args.device))
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
