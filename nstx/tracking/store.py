"""Where a run's record goes: ``tracking.uri`` resolved, the store opened and its experiment
found, all checked before any work, so that a store nstx cannot use is one line, not a
traceback once the backbone is loaded.

A plain path in ``tracking.uri`` names a directory (created if missing) whose ``mlflow.db``
holds the runs and whose ``artifacts/`` their files; a path ending in ``.db`` is the SQLite file
itself. Every other value is MLflow's own (``sqlite:///...``, ``postgresql://...``, ``http://...``).
A tracking server must answer within :data:`PROBE_SECONDS`; every request to it afterwards is
bounded by MLflow's HTTP settings (:data:`HTTP_POLICY`), which the environment may override.
"""

from __future__ import annotations

import contextlib
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from nstx.errors import InputError, flag
from nstx.tracking import ui

PROBE_SECONDS = 5
# MLflow reads these at each request: 5 s per attempt, 2 retries, the first at once and the second
# 2 to 3 s later, so a request to a dead server fails within about 3 s and to a hung one within 18 s.
HTTP_POLICY = {
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "5",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
}
LOCK_SECONDS = 120  # the longest a first open waits for another process's
STORE_FILE = "mlflow.db"
ARTIFACTS_FOLDER = "artifacts"


@dataclass(frozen=True)
class Store:
    """An opened tracking store and the id of the run's experiment in it."""

    client: Any
    uri: str
    experiment_id: str


def enabled(config: DictConfig) -> bool:
    """Whether ``config`` asks for tracking (a config without a ``tracking`` block does not)."""
    return flag(OmegaConf.select(config, "tracking.enabled", default=False), "tracking.enabled")


@contextlib.contextmanager
def quiet_startup() -> Iterator[None]:
    """Hide MLflow's start-up INFO chatter (table creation, migrations); warnings still show."""
    loggers = [logging.getLogger(name) for name in ("mlflow", "alembic")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def resolve_uri(given: object) -> str:
    """``tracking.uri`` as MLflow takes it; when unset, $MLFLOW_TRACKING_URI, else MLflow's default."""
    if given is None or str(given) == "":
        import mlflow

        return mlflow.get_tracking_uri()
    given = str(given)
    if is_uri(given):
        return given
    path = Path(given).expanduser().resolve()
    if path.suffix != ".db":
        if path.exists() and not path.is_dir():
            raise InputError(
                f"tracking.uri {given!r} is a file, not a directory: a plain path names a directory "
                f"to keep the runs in (a SQLite file itself must end in .db)"
            )
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputError(f"tracking.uri {given!r} cannot be made a directory: {error.strerror}") from None
        path = path / STORE_FILE
    return f"sqlite:///{path}"


def is_uri(given: str) -> bool:
    return len(urllib.parse.urlparse(given).scheme) > 1  # a one-letter scheme is a Windows drive


def artifacts_of(uri: str, given: object) -> str | None:
    """Where a new experiment keeps its files: beside the database that a plain path named."""
    if given is None or str(given) == "" or is_uri(str(given)):
        return None  # MLflow's default
    return (Path(uri.removeprefix("sqlite:///")).parent / ARTIFACTS_FOLDER).as_uri()


def sqlite_file(uri: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(uri[len(prefix) :]) if uri.startswith(prefix) and uri != f"{prefix}:memory:" else None


@contextlib.contextmanager
def first_open_lock(uri: str) -> Iterator[None]:
    """One process at a time opens a SQLite store: the first open creates its tables, and two
    processes creating them at once fail. The lock is a file next to the store."""
    database = sqlite_file(uri)
    if database is None:
        yield
        return
    from filelock import FileLock, Timeout

    lock = FileLock(f"{database}.lock", timeout=LOCK_SECONDS)
    try:
        with lock:
            yield
    except Timeout:
        raise InputError(
            f"tracking store {uri} stayed locked by another process for {LOCK_SECONDS} s; "
            f"if no nstx is running, remove {lock.lock_file}"
        ) from None


def probe(uri: str) -> None:
    """A tracking server must answer within :data:`PROBE_SECONDS` (any HTTP status will do)."""
    if urllib.parse.urlparse(uri).scheme not in ("http", "https"):
        return
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=PROBE_SECONDS):
            pass
    except urllib.error.HTTPError:
        pass  # it answered
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise InputError(
            f"tracking.uri {uri!r} did not answer within {PROBE_SECONDS} s ({reason}); start the "
            f"server, fix the address, or turn tracking off with tracking.enabled=false"
        ) from None


def connect(given: object) -> tuple[Any, str]:
    """A client on the store that ``tracking.uri`` ``given`` names, and its URI; an
    :class:`InputError` when it cannot be used."""
    from mlflow import MlflowClient
    from mlflow.tracking.registry import UnsupportedModelRegistryStoreURIException

    for key, value in HTTP_POLICY.items():
        os.environ.setdefault(key, value)
    uri = resolve_uri(given)
    probe(uri)
    with quiet_startup(), first_open_lock(uri), unusable(uri):
        try:
            client = MlflowClient(tracking_uri=uri)
        except UnsupportedModelRegistryStoreURIException as error:
            schemes = ", ".join(f"{scheme}:" for scheme in error.supported_uri_schemes if scheme)
            raise InputError(
                f"tracking.uri {uri!r} is not a store MLflow can open (accepted: a path, or {schemes})"
            ) from None
        client.search_experiments(max_results=1)  # a new SQLite store makes its tables here
    return client, uri


@contextlib.contextmanager
def unusable(uri: str) -> Iterator[None]:
    """MLflow's refusal of a store, as one line with what to use instead."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as error:
        raise InputError(
            f"tracking.uri {uri!r} cannot be used: {first_sentence(error.message)}; use a directory "
            f"(tracking.uri=runs), sqlite:///mlflow.db or a server's http:// address"
        ) from None


def open_store(config: DictConfig) -> Store:
    """The store of ``config`` opened, and the id of ``tracking.experiment`` in it (created when
    missing); an :class:`InputError` when either cannot be used."""
    name = OmegaConf.select(config, "tracking.experiment")
    if name is None or not str(name).strip():
        raise InputError(f"tracking.experiment must be a non-empty name, got {name!r}")
    given = OmegaConf.select(config, "tracking.uri")
    client, uri = connect(given)
    with unusable(uri):
        return Store(client, uri, experiment_id(client, str(name), uri, artifacts_of(uri, given)))


def experiment_id(client: Any, name: str, uri: str, artifacts: str | None) -> str:
    """The id of experiment ``name``, created when missing; a deleted one is named, with how to
    restore it, rather than restored behind its owner's back."""
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        try:
            return client.create_experiment(name, artifact_location=artifacts, tags=ui.experiment_tags())
        except MlflowException:  # created meanwhile by a parallel job
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                raise
    if experiment.lifecycle_stage == "deleted":
        raise InputError(
            f"tracking.experiment {name!r} is deleted in {uri}: restore it with "
            f"`MLFLOW_TRACKING_URI={uri} mlflow experiments restore --experiment-id "
            f"{experiment.experiment_id}`, or choose another name with tracking.experiment=..."
        )
    ui.mark_experiment(client, experiment)
    return experiment.experiment_id


def first_sentence(text: str) -> str:
    return " ".join(text.split()).split(". ")[0]
