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
