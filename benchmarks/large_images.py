"""How large an output fits: coarse-to-fine runs at growing sizes, each in its own process.

For every final size, one process runs ``levels`` levels (each twice the previous, ending
at that size) with a few steps per level, and reports its wall time, the seconds per step
of each level and its peak resident memory (``ru_maxrss`` of that process alone).

    python benchmarks/large_images.py 1024 2048 --levels 3 --iterations 2 --json large.json
    python benchmarks/large_images.py 2560 optimizer.history_size=20   # any config overrides

Steps per level are few on purpose: time per step and peak memory do not depend on the
step count, except for L-BFGS's history (2 x history_size image-sized vectors), which
the table reports separately as what a long run adds at the final level.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def child(spec: dict) -> None:
    """Run one coarse-to-fine plan in this process and print its timings as JSON."""
    import nstx
    from nstx import registry
    from nstx.hookspecs import hookimpl

    class StepTimes:
        def __init__(self) -> None:
            self.shapes: list[tuple[int, int]] = []
            self.seconds: list[float] = []

        @hookimpl
        def nstx_step(self, step, seconds, image):
            self.shapes.append(image().size)
            self.seconds.append(seconds)

    timer = StepTimes()
    registry.default().register(timer, name="large-images-timer")
    started = time.perf_counter()
    config = nstx.compose(
        spec["overrides"],
        weights="random",
        scales=spec["scales"],
        iterations=spec["iterations"],
        device="cpu",
        tracking={"enabled": False},
    )
    result = nstx.run(config, content=spec["content"], style=spec["style"]).image
    history = config.optimizer.get("history_size", 0) if config.optimizer.name == "lbfgs" else 0
    levels = {}
    for shape, seconds in zip(timer.shapes, timer.seconds, strict=True):
        levels.setdefault(f"{shape[0]}x{shape[1]}", []).append(seconds)
    print(
        json.dumps(
            {
                "wall_s": time.perf_counter() - started,
                "output": list(result.size),
                "lbfgs_history_size": history,
                "seconds_per_step": {size: min(times) for size, times in levels.items()},
            }
        )
    )


def measure(size: int, levels: int, iterations: int, overrides: list[str], content: str, style: str) -> dict:
    scales = [max(1, size // 2**k) for k in reversed(range(levels))]
    spec = {
        "scales": scales,
        "iterations": iterations,
        "overrides": overrides,
        "content": content,
        "style": style,
    }
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", json.dumps(spec)], stdout=subprocess.PIPE, text=True
    )
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    row = {"size": size, "scales": scales, "iterations_per_level": iterations, "overrides": overrides}
    row["peak_rss_gib"] = usage.ru_maxrss / 2**20  # ru_maxrss is in KiB on Linux
    if process.returncode != 0:
        return row | {"error": f"exit status {process.returncode}"}
    row |= json.loads(output.strip().splitlines()[-1])
    width, height = row["output"]
    row["lbfgs_history_gib"] = 2 * row["lbfgs_history_size"] * 3 * width * height * 4 / 2**30
    return row


def main() -> None:
    from nstx import samples

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", help="final sizes (longest side), then config overrides")
    parser.add_argument("--levels", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=2, help="steps per level")
    parser.add_argument("--content", default=str(samples.CONTENT), help="default: the bundled cat")
    parser.add_argument("--style", default=str(samples.STYLE), help="default: the bundled Hubble field")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    sizes = [int(arg) for arg in args.sizes if arg.isdigit()] or [1024, 2048]
    overrides = [arg for arg in args.sizes if not arg.isdigit()]
    rows = []
    print("| output | levels | s/step at final level | wall s | peak RSS GiB | + L-BFGS history GiB |")
    print("| --- | --- | --- | --- | --- | --- |")
    for size in sizes:
        row = measure(size, args.levels, args.iterations, overrides, args.content, args.style)
        rows.append(row)
        if "error" in row:
            rss = row["peak_rss_gib"]
            print(f"| {size} | {row['scales']} | {row['error']} | | {rss:.1f} | |", flush=True)
            continue
        final = list(row["seconds_per_step"].values())[-1]
        print(
            f"| {row['output'][0]}x{row['output'][1]} | {row['scales']} | {final:.1f} | "
            f"{row['wall_s']:.0f} | {row['peak_rss_gib']:.1f} | {row['lbfgs_history_gib']:.1f} |",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
