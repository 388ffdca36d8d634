"""Shared helpers: tiny images and running the console scripts the way a user does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image


def write_image(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (40, 32)) -> Path:
    """A small noisy picture tinted ``colour`` (noise gives the features some texture)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    noise = Image.effect_noise(size, 60).convert("RGB")
    Image.blend(Image.new("RGB", size, colour), noise, 0.4).save(path)
    return path


@pytest.fixture
def image_folders(tmp_path: Path) -> tuple[Path, Path]:
    """A folder of two content images and a folder of two style images (plus a stray text file)."""
    content, style = tmp_path / "photos", tmp_path / "paintings"
    write_image(content / "cat.png", (200, 120, 60))
    write_image(content / "dog.jpg", (60, 160, 90))
    write_image(style / "waves.png", (30, 60, 200))
    write_image(style / "stars.png", (230, 210, 40))
    (content / "notes.txt").write_text("not an image")
    return content, style


@pytest.fixture
def make_image():
    """``make_image(path, colour, size=(40, 32))`` writes a tiny test picture."""
    return write_image


@pytest.fixture
def tiny() -> list[str]:
    """Overrides of a tiny CPU run: random weights, 32 px, 2 iterations, no MLflow store."""
    return ["image_size=32", "iterations=2", "weights=random", "tracking.enabled=false"]


def run_script(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run console script ``name`` (installed next to this Python) with ``args`` in ``cwd``."""
    script = Path(sys.executable).parent / name
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{cwd / 'mlflow.db'}"}
    return subprocess.run([str(script), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture
def script():
    """``script(name, *args, cwd=...)`` runs an installed console script, MLflow store in ``cwd``."""
    return run_script
