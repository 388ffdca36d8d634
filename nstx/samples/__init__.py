"""Bundled sample images (CC0 / public domain: scikit-image's data and The Starry Night; see SOURCES.md)."""

from pathlib import Path

HERE = Path(__file__).parent
CONTENT = HERE / "chelsea.png"
STYLE = HERE / "starry_night.jpg"
