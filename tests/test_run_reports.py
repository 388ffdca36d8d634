"""What a run tells its user: a name that says what it is, one closing line saying where its image
and record went, a log file with what the terminal showed, and nothing left behind by bad input."""

from __future__ import annotations

import logging
import re

from nstx.encoder import weights
from tests.support import NSTX_FEATURES


def test_single_runs_are_named_after_their_pictures_and_overrides_and_never_repeat(nstx_cli, mlflow_store):
    for _ in range(2):
        done = nstx_cli("correlation=covariance")
        assert done.returncode == 0, done.stderr
    names = sorted(run.info.run_name for run in mlflow_store.runs())
    assert len(set(names)) == 2
    for name in names:
        # content.png with style.png, what the command line set besides them, and the time
        assert re.fullmatch(r"content / style correlation=covariance weights=random .* \d\d:\d\d:\d\d", name)


def test_a_finished_run_ends_with_its_image_its_run_its_store_and_how_to_look(nstx_cli, mlflow_store):
    done = nstx_cli()  # piped, not a terminal: the line is there all the same
    assert done.returncode == 0, done.stderr
    [line] = [line for line in done.stdout.splitlines() if "nstx.cli.app" in line]
    [run] = mlflow_store.runs()
    image = nstx_cli.cwd / run.data.tags["nstx.output_dir"] / "stylized.png"
    assert f"image {image};" in line
    uri = mlflow_store.uri
    assert f"MLflow run '{run.info.run_name}' in {uri} (compare: mlflow ui --backend-store-uri {uri})" in line
    log = (image.parent / "nstx.log").read_text()
    assert "image " in log and run.info.run_name in log  # the log file has what the terminal showed


def test_a_sweep_ends_with_its_directory_grid_and_parent_run(nstx_cli, mlflow_store):
    done = nstx_cli("-m", "correlation=gram,covariance")
    assert done.returncode == 0, done.stderr
    parent, _ = mlflow_store.sweep()
    sweep = parent.data.tags["nstx.output_dir"]
    closing = done.stdout.strip().splitlines()[-1]
    assert closing.startswith(
        f"nstx: sweep {sweep} (2 jobs, FINISHED); comparison grid {sweep}/comparison_grid.png;"
    )
    assert f"MLflow parent run '{parent.info.run_name}' in {mlflow_store.uri}" in closing


def test_bad_input_leaves_no_run_directory_behind(nstx_cli):
    done = nstx_cli.without("content")("content=missing.png")
    assert done.returncode == 2
    assert done.stderr.strip() == "nstx: error: image 'missing.png' does not exist"
    assert not (nstx_cli.cwd / "outputs").exists()


def test_falling_back_to_random_weights_is_a_log_line(caplog):
    with caplog.at_level(logging.WARNING, logger="nstx.encoder.weights"):
        state, used = weights.resolve("auto", "http://127.0.0.1:9/no-such-vgg16.pth")
    assert (state, used) == (None, "random")
    [record] = [r for r in caplog.records if r.name == "nstx.encoder.weights"]
    assert "USING RANDOM WEIGHTS" in record.getMessage()


def test_nstx_features_has_a_help_page_of_its_own():
    import subprocess

    done = subprocess.run([str(NSTX_FEATURES), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("nstx-features: what the backbone sees of an image.")
    assert "Usage:\n  nstx-features [key=value ...]" in done.stdout
    assert "powered by Hydra" not in done.stdout and "correlation:" not in done.stdout
