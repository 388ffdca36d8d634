"""Helpers shared by the tests: fast run options and tiny generated images."""

from __future__ import annotations

import random

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
