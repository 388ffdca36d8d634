"""The MLflow UI after a sweep, as a person sees it: the experiment opened as model training,
the sweep's saved view (swept parameters and the judge's scores as columns, best first), the
chart view's image grid of the children's step images, the parent's ranked description, the
runs compared side by side, and a run's image served.

Drives Debian's chromium through selenium and chromedriver (no browser download); skipped
where they are not installed. CI installs them in .ci/run. With $NSTX_UI_SCREENSHOTS set to a
folder, the sweep is made with the original weights at 128 px and the screenshots that
docs/tracking.md shows are saved there:

    NSTX_UI_SCREENSHOTS=docs/figures python -m pytest tests/test_mlflow_ui.py
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
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


# Resolved where pytest starts: the test itself runs in its own directory.
SCREENSHOTS = (
    Path(os.environ["NSTX_UI_SCREENSHOTS"]).resolve() if os.environ.get("NSTX_UI_SCREENSHOTS") else None
)
QUICK = ["weights=random", "image_size=32", "iterations=2", "tracking.image_every=1"]
# For the docs' screenshots: pictures worth looking at, a few steps apart.
SHOWN = ["image_size=128", "iterations=30", "tracking.image_every=10"]


def make_sweep(work: Path, env: dict[str, str]) -> str:
    """A 2x2 sweep with the real `nstx -m`, tracked into $MLFLOW_TRACKING_URI: one parent run,
    a nested child run per job with the config as dotted params and its images. Returns the
    command's output."""
    command = [
        str(Path(sys.executable).with_name("nstx")),
        "-m",
        "correlation=gram,covariance",
        "style_layers=early,late",
        *(SHOWN if SCREENSHOTS else QUICK),
        f"hydra.sweep.dir={work / 'multirun'}",
    ]
    result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def sweep_runs(experiment_name: str):
    """The sweep's parent run and its children, read back from the tracking store."""
    from mlflow import MlflowClient

    client = MlflowClient()
    experiment = client.get_experiment_by_name(experiment_name)
    runs = client.search_runs([experiment.experiment_id])
    children = [run for run in runs if "mlflow.parentRunId" in run.data.tags]
    parent_ids = {child.data.tags["mlflow.parentRunId"] for child in children}
    parents = [run for run in runs if run.info.run_id in parent_ids]
    assert len(parents) == 1 and len(children) == 4, [run.info.run_name for run in runs]
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
    """A sweep in a fresh SQLite store, and `mlflow ui` serving it on 127.0.0.1: its URL and
    the address the sweep's last line gives for its view (on `mlflow ui`'s default port)."""
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    monkeypatch.chdir(tmp_path)
    env = {**os.environ, "MLFLOW_TRACKING_URI": store}
    output = make_sweep(tmp_path, env)
    view = re.search(r"its view in the UI: http://127\.0\.0\.1:5000/(\S+)", output)
    assert view, output

    options = ["--backend-store-uri", store]
    with mlflow_server("ui", options, tmp_path / "mlflow-ui.log", env=env, cwd=tmp_path) as server:
        yield server.url, view.group(1)


@pytest.fixture
def browser():
    with chromium(1440, 900) as driver:
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
        driver.save_screenshot("not-shown.png")  # next to the test's store, for a look
        text = driver.find_element("tag name", "body").text
        raise AssertionError(f"{what} not shown within {timeout} s; page text:\n{text}") from None


def element(driver, xpath: str, what: str):
    return wait_for(driver, lambda d: d.find_element("xpath", xpath), what)


def run_name_cells(driver) -> dict[str, object]:
    """Run name -> its cell in the runs table (a cell also holds the run's colour label)."""
    cells = driver.find_elements("css selector", "[role=gridcell][col-id='attributes.`Run Name`']")
    return {cell.text.splitlines()[-1].strip(): cell for cell in cells if cell.text.strip()}


def click(driver, element) -> None:
    """Click as a person would, through MLflow's one-time hints that lie over the page."""
    driver.execute_script("arguments[0].click()", element)


def screenshot(driver, name: str, folder: Path) -> None:
    driver.save_screenshot(str(folder / name))
    assert (folder / name).read_bytes().startswith(PNG_SIGNATURE)
    if SCREENSHOTS:
        shutil.copyfile(folder / name, SCREENSHOTS / name)


def column(driver, key: str) -> list[str]:
    """The runs table's cells of column ``key`` (``params.`a.b```, ``metrics.`eval/style```), top down."""
    cells = driver.find_elements("css selector", f"[role=gridcell][col-id='{key}']")
    rows = [(int(cell.find_element("xpath", "./..").get_attribute("row-index")), cell) for cell in cells]
    return [cell.get_attribute("textContent").strip() for _, cell in sorted(rows, key=lambda row: row[0])]


def test_sweep_in_the_mlflow_ui(mlflow_ui, browser, tmp_path):
    url, view = mlflow_ui
    experiment_id, parent, children = sweep_runs("nstx")
    names = [child.info.run_name for child in children]
    swept = [
        key for key in children[0].data.params if len({child.data.params.get(key) for child in children}) > 1
    ]
    assert "correlation.name" in swept

    # The sweep's view, from the address its last line gives: the swept parameters and the
    # judge's scores as columns, every child's row, best style score first.
    browser.get(f"{url}/{view}")
    wait_for(browser, lambda d: set(names) <= set(run_name_cells(d)), f"child runs {names}")
    for key in swept:
        values = {child.data.params.get(key, "-") for child in children}
        wait_for(browser, lambda d, k=key, v=values: v <= set(column(d, f"params.`{k}`")), f"column {key}")
    scores = wait_for(
        browser,
        lambda d: [float(text) for text in column(d, "metrics.`eval/style`") if text not in ("", "-")],
        "column eval/style",
    )
    assert len(scores) == len(children) and scores == sorted(scores), scores
    for button in browser.find_elements("css selector", "button[aria-label=Close]"):  # the assistant
        click(browser, button)
    screenshot(browser, "mlflow-sweep-view.png", tmp_path)

    # The chart view: an image grid of the children's step images, side by side at full screen.
    mode = "//input[@name='runs-view-mode'][@value='CHART']/ancestor::label"
    click(browser, element(browser, mode, "the chart view's button"))

    def grid_title(d):  # charts are drawn once scrolled into sight, and the page re-renders
        d.execute_script("arguments[0].scrollIntoView()", d.find_element("xpath", "//*[text()='images']"))
        return d.find_element("xpath", "//*[normalize-space(text())='stylized']")

    title = wait_for(browser, grid_title, "the image grid")
    full_screen = ".//button[@data-component-id='fullscreen_button_chartcard']"
    card = title.find_element("xpath", f"./ancestor::*[{full_screen}][1]")
    click(browser, card.find_element("xpath", full_screen))
    dialog = element(browser, "//*[@role='dialog']", "the full-screen grid")

    def images_shown(_):
        shown = {}
        for img in dialog.find_elements("tag name", "img"):
            loaded = browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img)
            run = urllib.parse.parse_qs(urllib.parse.urlparse(img.get_attribute("src")).query).get("run_uuid")
            if loaded and run:
                shown[run[0]] = img
        return {child.info.run_id for child in children} <= set(shown)

    wait_for(browser, images_shown, "each child's image in the grid")
    for name in names:
        assert name in dialog.text
    screenshot(browser, "mlflow-image-grid.png", tmp_path)

    # The parent run: its description ranks the children by the judge's style score.
    browser.get(
        f"{url}/#/experiments/{experiment_id}/runs/{parent.info.run_id}?workflowType=machine_learning"
    )
    click(browser, element(browser, "//*[normalize-space(text())='Show more']", "the description"))
    body = browser.find_element("tag name", "body")
    for child in children:
        wait_for(browser, lambda d, c=child: f"{c.data.metrics['eval/style']:.3g}" in body.text, "each score")
    screenshot(browser, "mlflow-sweep-parent.png", tmp_path)

    # The children compared: each swept parameter with one value per run.
    runs = json.dumps([child.info.run_id for child in children])
    query = urllib.parse.urlencode({"runs": runs, "experiments": json.dumps([experiment_id])})
    browser.get(f"{url}/#/compare-runs?{query}")
    for key in [key for key in swept if all(key in child.data.params for child in children)]:
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
    with urllib.request.urlopen(f"{url}/get-artifact?{query}", timeout=30) as response:
        served = response.read()
    assert served.startswith(PNG_SIGNATURE)
    width = Image.open(io.BytesIO(served)).width
    browser.get(f"{url}/#/experiments/{experiment_id}/runs/{run_id}/artifacts/{artifact}")
    wait_for(
        browser,
        lambda d: any(
            d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) == width
            for img in d.find_elements("tag name", "img")
        ),
        f"image artifact {artifact!r}",
    )
    browser.save_screenshot(str(tmp_path / "artifact.png"))

    # Without the link: MLflow 3.17 opens an experiment on its GenAI overview until "Model
    # training" is chosen once (whatever the experiment's kind); the browser remembers it.
    browser.get(f"{url}/#/experiments/{experiment_id}")
    click(browser, element(browser, "//*[normalize-space(text())='Model training']", "the toggle"))
    wait_for(browser, lambda d: "/runs" in d.current_url, "the runs page")
    browser.get(f"{url}/#/experiments")
    browser.get(f"{url}/#/experiments/{experiment_id}")
    wait_for(browser, lambda d: parent.info.run_name in run_name_cells(d), "the runs table, remembered")
