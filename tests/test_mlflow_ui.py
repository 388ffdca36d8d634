"""The MLflow UI after a sweep, as a person sees it: the parent and child runs, the swept
parameters side by side, and a run's image served.

Drives Debian's chromium through selenium and chromedriver (no browser download); skipped
where they are not installed. CI installs them in .ci/run.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from tests.browser import CHROMEDRIVER, CHROMIUM, chromium
from tests.support import mlflow_server

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER),
        reason="needs chromium and chromedriver (apt-get install chromium chromium-driver)",
    ),
]


def make_sweep(work: Path, env: dict[str, str]) -> None:
    """A 2-job sweep with the real `nstx -m`, tracked into $MLFLOW_TRACKING_URI: one parent
    run, a nested child run per job with the config as dotted params and its images."""
    command = [
        str(Path(sys.executable).with_name("nstx")),
        "-m",
        "correlation=gram,covariance",
        "weights=random",
        "image_size=32",
        "iterations=2",
        "style_layers=early",
        f"hydra.sweep.dir={work / 'multirun'}",
    ]
    result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def sweep_runs(experiment_name: str):
    """The sweep's parent run and its children, read back from the tracking store."""
    from mlflow import MlflowClient

    client = MlflowClient()
    experiment = client.get_experiment_by_name(experiment_name)
    runs = client.search_runs([experiment.experiment_id])
    children = [run for run in runs if "mlflow.parentRunId" in run.data.tags]
    parent_ids = {child.data.tags["mlflow.parentRunId"] for child in children}
    parents = [run for run in runs if run.info.run_id in parent_ids]
    assert len(parents) == 1 and len(children) == 2, [run.info.run_name for run in runs]
    return experiment.experiment_id, parents[0], sorted(children, key=lambda run: run.info.run_name)


def png_artifacts(run_id: str, path: str | None = None) -> list[str]:
    from mlflow import MlflowClient

    found: list[str] = []
    for item in MlflowClient().list_artifacts(run_id, path):
        if item.is_dir:
            found += png_artifacts(run_id, item.path)
        elif item.path.endswith(".png"):
            found.append(item.path)
    return found


@pytest.fixture
def mlflow_ui(tmp_path, monkeypatch):
    """A sweep in a fresh SQLite store, and `mlflow ui` serving it on 127.0.0.1."""
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    monkeypatch.chdir(tmp_path)
    env = {**os.environ, "MLFLOW_TRACKING_URI": store}
    make_sweep(tmp_path, env)

    options = ["--backend-store-uri", store]
    with mlflow_server("ui", options, tmp_path / "mlflow-ui.log", env=env, cwd=tmp_path) as url:
        yield url


@pytest.fixture
def browser():
    with chromium() as driver:
        yield driver


def wait_for(driver, condition, what: str, timeout: float = 90):
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
        TimeoutException,
    )
    from selenium.webdriver.support.ui import WebDriverWait

    # The UI re-renders as data arrives: elements vanish and come back between polls.
    ignored = (NoSuchElementException, StaleElementReferenceException)
    try:
        return WebDriverWait(driver, timeout, 0.5, ignored).until(condition)
    except TimeoutException:
        text = driver.find_element("tag name", "body").text
        raise AssertionError(f"{what} not shown within {timeout} s; page text:\n{text}") from None


def run_name_cells(driver) -> dict[str, object]:
    """Run name -> its cell in the runs table (a cell also holds the run's colour label)."""
    cells = driver.find_elements("css selector", "[role=gridcell][col-id='attributes.`Run Name`']")
    return {cell.text.splitlines()[-1].strip(): cell for cell in cells if cell.text.strip()}


def test_sweep_in_the_mlflow_ui(mlflow_ui, browser, tmp_path):
    from selenium.webdriver.common.keys import Keys

    experiment_id, parent, children = sweep_runs("nstx")
    names = [child.info.run_name for child in children]

    swept = [
        key
        for key in children[0].data.params
        if len({child.data.params.get(key) for child in children}) == len(children)
    ]
    assert "correlation.name" in swept

    # The experiment's runs: the parent is one row; expanding it shows the children, and
    # the swept parameters, added as columns, show each child's value.
    # MLflow 3 opens experiments on a GenAI overview; "Model training" is the runs table.
    browser.get(f"{mlflow_ui}/#/experiments/{experiment_id}/runs?workflowType=machine_learning")
    parent_cell = wait_for(
        browser,
        lambda d: run_name_cells(d).get(parent.info.run_name),
        f"parent run {parent.info.run_name!r}",
    )
    parent_cell.find_element("tag name", "button").click()
    wait_for(browser, lambda d: set(names) <= set(run_name_cells(d)), f"child runs {names}")
    browser.find_element("css selector", "[data-testid=column-selection-dropdown]").click()
    for key in swept:
        wait_for(
            browser,
            lambda d, key=key: d.find_element("xpath", f"//*[normalize-space(text())='{key}']"),
            f"column choice {key!r}",
        ).click()
    browser.find_element("tag name", "body").send_keys(Keys.ESCAPE)
    for key in swept:
        values = {child.data.params[key] for child in children}
        wait_for(
            browser,
            lambda d, key=key, values=values: (
                values
                <= {
                    c.text
                    for c in d.find_elements("css selector", f"[role=gridcell][col-id='params.`{key}`']")
                }
            ),
            f"column {key} with {sorted(values)}",
        )
    browser.save_screenshot(str(tmp_path / "experiment.png"))

    # The children compared: each swept parameter with one value per run.
    runs = json.dumps([child.info.run_id for child in children])
    query = urllib.parse.urlencode({"runs": runs, "experiments": json.dumps([experiment_id])})
    browser.get(f"{mlflow_ui}/#/compare-runs?{query}")
    for key in swept:
        row = " ".join([key, *(child.data.params[key] for child in children)])
        wait_for(
            browser,
            lambda d, row=row: row in d.find_element("tag name", "body").text.splitlines(),
            f"parameter row {row!r}",
        )
    heading = browser.find_element("xpath", "//*[normalize-space(text())='Parameters']")
    browser.execute_script("arguments[0].scrollIntoView()", heading)
    browser.save_screenshot(str(tmp_path / "compare.png"))

    # A run's image: served over HTTP as a PNG, and shown on the run's artifact page.
    run_id = children[0].info.run_id
    artifact = min(png_artifacts(run_id), key=lambda path: (path.count("/"), path))  # the final image
    query = urllib.parse.urlencode({"path": artifact, "run_uuid": run_id})
    with urllib.request.urlopen(f"{mlflow_ui}/get-artifact?{query}", timeout=30) as response:
        served = response.read()
    assert served.startswith(PNG_SIGNATURE)
    width = Image.open(io.BytesIO(served)).width
    browser.get(f"{mlflow_ui}/#/experiments/{experiment_id}/runs/{run_id}/artifacts/{artifact}")
    wait_for(
        browser,
        lambda d: any(
            d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) == width
            for img in d.find_elements("tag name", "img")
        ),
        f"image artifact {artifact!r}",
    )
    browser.save_screenshot(str(tmp_path / "artifact.png"))

    for name in ("experiment.png", "compare.png", "artifact.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG_SIGNATURE)
