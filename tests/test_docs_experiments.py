"""docs/experiments/: a page per experiment whose command is the one that made its figure."""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys
from importlib.resources import files
from pathlib import Path

import pytest

from nstx import samples

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = DOCS / "experiments"
MAX_FIGURE_BYTES = 500 * 1024


def figure_script():
    spec = importlib.util.spec_from_file_location("make_figures", DOCS / "make_figures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


FIGURES = figure_script().ALL_FIGURES


def test_every_experiment_config_has_a_figure():
    experiments = {p.name.removesuffix(".yaml") for p in files("nstx.conf").joinpath("experiment").iterdir()}
    assert experiments <= set(FIGURES)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_page_shows_the_command_that_made_its_figure(name):
    page = (PAGES / f"{name}.md").read_text()
    commands = re.findall(r"<!-- figure-command -->\n```bash\n(.+?)\n```", page)
    assert commands == [shlex.join(FIGURES[name].command())]
    assert f"](figures/{name}.png)" in page
    figure = PAGES / "figures" / f"{name}.png"
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert figure.stat().st_size < MAX_FIGURE_BYTES
    weights = page.split("## Weights", 1)[1]
    assert "original VGG19" in weights and "`weights=auto`" in weights, "the page says which weights made it"


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_commands_use_only_bundled_samples(name):
    """So that every figure command runs as printed from a fresh clone."""
    for argument in FIGURES[name].command():
        key, _, value = argument.partition("=")
        if key in ("content", "style", "image"):
            assert all(samples.bundled(image) for image in value.split(",")), argument
