"""Shared fixtures: tiny generated content and style images."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import gradient_image


@pytest.fixture
def content_path(tmp_path: Path) -> Path:
    path = tmp_path / "content.png"
    gradient_image((48, 40), seed=1).save(path)
    return path


@pytest.fixture
def style_path(tmp_path: Path) -> Path:
    path = tmp_path / "style.png"
    gradient_image((40, 40), seed=2).save(path)
    return path


@pytest.fixture
def image_folders(tmp_path: Path) -> tuple[Path, Path]:
    """A folder of two content images and a folder of two style images (plus a stray text file)."""
    content, style = tmp_path / "photos", tmp_path / "paintings"
    for folder, names, seed in ((content, ("cat.png", "dog.jpg"), 3), (style, ("waves.png", "stars.png"), 5)):
        folder.mkdir()
        for offset, name in enumerate(names):
            gradient_image((40, 32), seed=seed + offset).save(folder / name)
    (content / "notes.txt").write_text("not an image")
    return content, style
