"""Shared fixtures: tiny generated images, a throwaway MLflow store, the ``nstx`` command."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from tests.support import FAST, Cli, Server, Store, cli_args, gradient_image, mlflow_server

T = TypeVar("T")


ROOT = Path(__file__).resolve().parents[1]
# What a run may write where it is started: nothing of it may appear in the checkout.
RUN_LEFTOVERS = ("mlflow.db", "mlruns", "outputs", "multirun")


def leftovers(folder: Path) -> dict[str, float]:
    return {name: (folder / name).stat().st_mtime for name in RUN_LEFTOVERS if (folder / name).exists()}


@pytest.fixture(scope="session", autouse=True)
def checkout_left_alone() -> Iterator[None]:
    """Fail the session if any test wrote a store, run or sweep into the checkout or the directory
    pytest was started from (the user's own ./mlflow.db among them)."""
    folders = {ROOT, Path.cwd()}
    before = {folder: leftovers(folder) for folder in folders}
    yield
    changed = {str(folder): leftovers(folder) for folder in folders if leftovers(folder) != before[folder]}
    assert not changed, f"tests wrote into {changed}"


@pytest.fixture(scope="session")
def session_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow-session') / 'mlflow.db'}"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, session_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in its own temporary directory, and tracks into a throwaway store unless it
    asks for one of its own (:func:`mlflow_store`)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", session_store)


@pytest.fixture(autouse=True)
def root_logging_restored() -> Iterator[None]:
    """An in-process ``nstx`` configures the root logger (Hydra's job logging) with handlers bound
    to that test's captured streams; later tests must not log through them once closed."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


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


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty MLflow SQLite store, created once: creating the tables takes seconds."""
    from mlflow import MlflowClient

    from nstx.tracking.store import quiet_startup

    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"

    with quiet_startup():
        MlflowClient(f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def mlflow_store(tmp_path: Path, mlflow_template: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """A fresh MLflow store in ``tmp_path``, set as $MLFLOW_TRACKING_URI for this test and its children."""
    path = tmp_path / "mlflow.db"
    shutil.copyfile(mlflow_template, path)
    uri = f"sqlite:///{path}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return Store(uri)


@pytest.fixture
def nstx_cli(tmp_path: Path, content_path: Path, style_path: Path) -> Cli:
    """The installed ``nstx`` command, run in ``tmp_path`` on the tiny test images."""
    return Cli(tmp_path, [f"content={content_path}", f"style={style_path}", *cli_args(FAST)])


@pytest.fixture
def registered() -> Iterator[Callable[[T], T]]:
    """``registered(plugin)`` adds a plugin to the process-wide registry for this test only."""
    from nstx import registry

    plugins = []

    def register(plugin: T) -> T:
        registry.default().register(plugin)
        plugins.append(plugin)
        return plugin

    yield register
    for plugin in plugins:
        registry.default().unregister(plugin)


@pytest.fixture
def image_folders(tmp_path: Path) -> tuple[Path, Path]:
    """A folder of two content images and a folder of two style images (plus a stray text file)."""
    content, style = tmp_path / "photos", tmp_path / "paintings"
    for folder, names, seed in ((content, ("cat.png", "dog.jpg"), 3), (style, ("waves.png", "stars.png"), 5)):
        folder.mkdir()
        for offset, name in enumerate(names):
            gradient_image((40, 32), seed=seed + offset).save(folder / name)
    (content / "notes.txt").write_text("not an image")
    return content, style


@pytest.fixture
def tracking_server(tmp_path: Path) -> Iterator[Server]:
    """``mlflow server`` on 127.0.0.1 and a free port, SQLite and artifacts in ``tmp_path``."""
    options = [
        "--backend-store-uri",
        f"sqlite:///{tmp_path / 'server.db'}",
        "--artifacts-destination",
        str(tmp_path / "server-artifacts"),
    ]
    with mlflow_server("server", options, tmp_path / "server.log") as server:
        yield server
