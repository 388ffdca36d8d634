"""Bundled sample images (CC0 / public domain: scikit-image's data and The Starry Night; see SOURCES.md)."""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).parent
CONTENT = HERE / "chelsea.png"
STYLE = HERE / "starry_night.jpg"
IMAGE_SUFFIXES = (".png", ".jpg")


def bundled(name: str | os.PathLike[str]) -> Path | None:
    """The bundled sample that the bare file name ``name`` names, or None.

    This is what lets ``content=astronaut.png`` work from any directory. Only a bare name
    (no directory part) of one of the images here matches; callers try it only when no
    file exists at ``name`` itself, so a file of the same name always wins.
    """
    text = os.fspath(name)
    candidate = HERE / text
    if not text or Path(text).name != text or candidate.suffix.lower() not in IMAGE_SUFFIXES:
        return None
    return candidate if candidate.is_file() else None
