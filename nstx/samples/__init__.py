"""Bundled sample images (CC0 / public domain, from scikit-image's data; see README)."""

from pathlib import Path

HERE = Path(__file__).parent
CONTENT = HERE / "chelsea.png"
STYLE = HERE / "hubble_deep_field.jpg"
