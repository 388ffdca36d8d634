"""Helpers shared by the tests: fast run options and tiny generated images."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

from PIL import Image

FAST = {"weights": "random", "device": "cpu", "image_size": 32, "iterations": 2}


def gradient_image(size: tuple[int, int], seed: int = 0, mode: str = "RGB") -> Image.Image:
    """A small deterministic picture with structure (gradients plus a seeded pattern)."""
    rng = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size)
    pixels = image.load()
    a, b = rng.randint(1, 7), rng.randint(1, 7)
    for y in range(height):
        for x in range(width):
            pixels[x, y] = ((x * 255) // width, (y * 255) // height, ((x * a + y * b) * 37) % 256)
    return image.convert(mode)


# The same tiny run as FAST, as command-line overrides, with no MLflow store.
TINY_CLI = ["image_size=32", "iterations=2", "weights=random", "device=cpu", "tracking.enabled=false"]


def run_script(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run console script ``name`` (installed next to this Python) in ``cwd``, MLflow store there."""
    script = Path(sys.executable).parent / name
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{cwd / 'mlflow.db'}"}
    return subprocess.run([str(script), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
