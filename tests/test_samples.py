"""Bundled samples: listed with their licence, and addressable by bare name from anywhere."""

from __future__ import annotations

import subprocess

import pytest

from nstx import samples
from nstx.errors import InputError
from nstx.image import io
from tests.support import FAST, NSTX, cli_args, gradient_image

SAMPLE_IMAGES = sorted(path.name for path in samples.HERE.iterdir() if path.suffix in samples.IMAGE_SUFFIXES)


def test_every_bundled_image_is_attributed_in_sources():
    sources = (samples.HERE / "SOURCES.md").read_text()
    assert {"astronaut.png", "brick.png", "chelsea.png", "coffee.png", "gravel.png"} <= set(SAMPLE_IMAGES)
    for name in SAMPLE_IMAGES:
        assert f"| {name} |" in sources


@pytest.mark.parametrize("name", SAMPLE_IMAGES)
def test_a_bare_sample_name_opens_the_bundled_image(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert samples.bundled(name) == samples.HERE / name
    assert io.open_image(name).size == io.open_image(samples.HERE / name).size


def test_a_file_of_that_name_comes_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    gradient_image((40, 32)).save("astronaut.png")
    assert io.open_image("astronaut.png").size == (40, 32)


@pytest.mark.parametrize("name", ["nope.png", "samples/astronaut.png", "SOURCES.md", "__init__.py", ""])
def test_anything_else_is_not_a_sample(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert samples.bundled(name) is None


def test_a_name_that_is_neither_a_file_nor_a_sample_is_the_usual_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as error:
        io.open_image("nope.png")
    assert str(error.value) == "image 'nope.png' does not exist"


def test_the_command_line_takes_sample_names_for_content_style_and_init(tmp_path):
    options = {**FAST, "tracking.enabled": "false", "hydra.run.dir": "out"}
    command = [str(NSTX), "content=coffee.png", "style=brick.png", "init=astronaut.png", *cli_args(options)]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "stylized.png").is_file()
