"""``save_every``: step images in the run directory and the first-vs-last progress figure."""

from __future__ import annotations

import re

from PIL import Image

import nstx
from nstx.image.montage import montage
from nstx.tracking.snapshots import PROGRESS_NAME, SNAPSHOT_KEY
from tests.support import FAST


def test_save_every_writes_steps_and_progress_figure(tmp_path, content_path, style_path):
    options = {**FAST, "iterations": 5, "save_every": 2, "tracking": {"enabled": False}}
    config = nstx.compose(content=str(content_path), style=str(style_path), **options)
    result = nstx.api.run(config, output_dir=tmp_path / "run")
    files = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert files == [PROGRESS_NAME, "step_00002.png", "step_00004.png", "stylized.png"]
    with Image.open(tmp_path / "run" / PROGRESS_NAME) as figure:
        two_tiles = montage([[result.image, result.image]], column_labels=["step 1", "step 5"])
        assert figure.size == two_tiles.size
        # The right-hand tile is the final image.
        width, height = result.image.size
        x, y = figure.width - 2 - width, figure.height - 2 - height
        assert figure.crop((x, y, x + width, y + height)).tobytes() == result.image.tobytes()


def test_no_snapshots_without_save_every(tmp_path, content_path, style_path):
    config = nstx.compose(
        content=str(content_path), style=str(style_path), tracking={"enabled": False}, **FAST
    )
    nstx.api.run(config, output_dir=tmp_path / "run")
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["stylized.png"]


def test_snapshots_reach_mlflow_as_step_images(nstx_cli, mlflow_store):
    done = nstx_cli.without("iterations")("iterations=4", "save_every=2")
    assert done.returncode == 0, done.stderr
    (run,) = mlflow_store.runs()
    assert PROGRESS_NAME in mlflow_store.artifacts(run)
    logged = mlflow_store.artifacts(run, "images")
    # MLflow names step images <key>+step+<step>+timestamp+...png
    snapshot_steps = sorted(
        int(match.group(1))
        for path in logged
        if (match := re.search(rf"{SNAPSHOT_KEY}\+step\+(\d+)\+.*\.png$", path))
    )
    assert snapshot_steps == [2, 4]
