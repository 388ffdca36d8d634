"""The MLflow tracker: one MLflow run per nstx run, as a plugin of the lifecycle hooks.

mlflow is imported only when a run starts with ``tracking.enabled``, so ``nstx --help``
and untracked runs never pay for it. Metrics are buffered and written in batches so
that tracking does not dominate the step time of small images.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig, OmegaConf

from nstx.errors import InputError
from nstx.registry.hookspecs import Scorer, hookimpl
from nstx.tracking import ui

# The sweep callback (nstx.tracking.sweep) creates each job's child run and hands its id over here.
RUN_ID_ENV = "NSTX_MLFLOW_RUN_ID"

FLUSH_SECONDS = 1.0  # write buffered metrics at most this often (and at the end)
MAX_BATCH_METRICS = 1000  # MLflow's log_batch limits
MAX_BATCH_PARAMS = 100
IMAGE_KEY = "stylized"
LOSS_TERMS = ("total", "content", "style", "tv")
MAX_TAG_CHARS = 5000  # MLflow refuses tag values over 8000 characters


def image_due(step: int, final: int, every: int, last: int) -> bool:
    """Whether ``step`` gets an image: the final step, and the first step at or past each
    multiple of ``every`` since step ``last`` (reports come every ``log_every`` steps)."""
    return step == final or (every > 0 and step // every > last // every)


def enabled(config: DictConfig) -> bool:
    """Whether ``config`` asks for tracking (a config without a ``tracking`` block does not)."""
    return bool(OmegaConf.select(config, "tracking.enabled", default=False))


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


def store(config: DictConfig) -> str:
    """The tracking URI runs of ``config`` go to: ``tracking.uri``, else MLflow's (from
    $MLFLOW_TRACKING_URI or its default)."""
    import mlflow

    return OmegaConf.select(config, "tracking.uri") or mlflow.get_tracking_uri()


def in_store(uri: str) -> str:
    """Where runs are, and how to look at them."""
    return f"in {uri} (compare: mlflow ui --backend-store-uri {uri})"


def open_experiment(config: DictConfig) -> tuple[Any, str]:
    """A client on ``tracking.uri`` (else $MLFLOW_TRACKING_URI, else MLflow's default) and the id
    of experiment ``tracking.experiment``, created when missing."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException
    from mlflow.tracking.registry import UnsupportedModelRegistryStoreURIException

    name = config.tracking.experiment
    if name is None or not str(name).strip():
        raise InputError(f"tracking.experiment must be a non-empty name, got {name!r}")
    name = str(name)
    uri = OmegaConf.select(config, "tracking.uri") or None
    with quiet_startup():
        try:
            client = MlflowClient(tracking_uri=uri)
        except UnsupportedModelRegistryStoreURIException as error:
            schemes = ", ".join(f"{scheme}:" for scheme in error.supported_uri_schemes if scheme)
            raise InputError(
                f"tracking.uri {uri!r} is not a store MLflow can open (accepted: a path, or {schemes})"
            ) from None
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            ui.mark_experiment(client, experiment)
            return client, experiment.experiment_id
        try:
            return client, client.create_experiment(name, tags=ui.experiment_tags())
        except MlflowException:  # created meanwhile by a parallel job
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                raise
            return client, experiment.experiment_id


def flatten(node: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": "1"}``: the dotted keys MLflow shows as params."""
    flat = {}
    for key, value in node.items():
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


def log_config(client: Any, run_id: str, config: DictConfig) -> None:
    """Params (the config flattened to dotted keys) and the config itself as ``config.yaml``."""
    from mlflow.entities import Param

    params = [Param(k, v) for k, v in flatten(OmegaConf.to_container(config, resolve=True)).items()]
    for begin in range(0, len(params), MAX_BATCH_PARAMS):
        client.log_batch(run_id, params=params[begin : begin + MAX_BATCH_PARAMS])
    client.log_text(run_id, OmegaConf.to_yaml(config, resolve=True), "config.yaml")


def log_error(client: Any, run_id: str, error: BaseException) -> None:
    """The error that ended a run, as tag ``nstx.error``."""
    client.set_tag(run_id, "nstx.error", f"{type(error).__name__}: {error}"[:MAX_TAG_CHARS])


@dataclass
class TrackedRun:
    """The MLflow side of one nstx run: its client, run id and buffered metrics."""

    client: Any
    run_id: str
    where: str  # the run's name and store, as the end of a run says it
    iterations: int
    image_every: int
    pending: list[Any] = field(default_factory=list)
    flushed_at: float = 0.0
    last_image_step: int = 0
    scored_step: int | None = None

    def log_step(
        self, step: int, losses: Mapping[str, float], image: Any, seconds: float, judge: Scorer | None
    ) -> None:
        """Buffer the step's losses; when an image is due, log it and the ``judge``'s scores of it."""
        stamp = int(time.time() * 1000)
        # A term switched off (weight 0) contributes exactly 0: log it so every run has the same curves.
        terms = dict.fromkeys(LOSS_TERMS, 0.0) | dict(losses)
        values = {f"loss/{name}": value for name, value in terms.items()} | {"time/step_s": seconds}
        self.buffer(step, values, stamp)
        if image_due(step, self.iterations, self.image_every, self.last_image_step):
            picture = image()
            self.client.log_image(self.run_id, picture, key=IMAGE_KEY, step=step)
            self.last_image_step = step
            if judge is not None:
                self.log_scores(step, judge(step, picture), stamp)
        if time.monotonic() - self.flushed_at >= FLUSH_SECONDS or len(self.pending) >= MAX_BATCH_METRICS:
            self.flush()

    def buffer(self, step: int, values: Mapping[str, float], stamp: int) -> None:
        from mlflow.entities import Metric

        self.pending += [Metric(key, float(value), stamp, step) for key, value in values.items()]

    def log_scores(self, step: int, scores: Mapping[str, float], stamp: int | None = None) -> None:
        """The judge's scores as ``eval/<name>`` metrics, once per step."""
        if scores and step != self.scored_step:
            stamp = stamp if stamp is not None else int(time.time() * 1000)
            self.buffer(step, {f"eval/{name}": value for name, value in scores.items()}, stamp)
            self.scored_step = step

    def flush(self) -> None:
        for start in range(0, len(self.pending), MAX_BATCH_METRICS):
            self.client.log_batch(self.run_id, metrics=self.pending[start : start + MAX_BATCH_METRICS])
        self.pending = []
        self.flushed_at = time.monotonic()


def start(run: Any) -> TrackedRun:
    """Create the MLflow run for ``run`` (or take over $NSTX_MLFLOW_RUN_ID, a sweep's child)
    and log its params, tags, composed config and inputs."""
    from mlflow.entities import RunTag

    from nstx.image import io

    config = run.config
    client, experiment_id = open_experiment(config)
    run_id = os.environ.get(RUN_ID_ENV)
    if run_id is None:  # named after what it is, and when: MLflow's own names repeat under a fixed seed
        run_id = client.create_run(
            experiment_id, run_name=f"{run.name} {time.strftime('%H:%M:%S')}"
        ).info.run_id
    tags = dict(run.tags)  # the versions among them (version.nstx, version.torch, ...)
    if run.output_dir is not None:
        tags["nstx.output_dir"] = str(run.output_dir)
    client.log_batch(run_id, tags=[RunTag(key, value) for key, value in tags.items()])
    log_config(client, run_id, config)
    client.log_image(run_id, io.to_pil(run.content), artifact_file="inputs/content.png")
    for index, style in enumerate(run.styles):
        suffix = f"_{index + 1}" if len(run.styles) > 1 else ""
        client.log_image(run_id, io.to_pil(style), artifact_file=f"inputs/style{suffix}.png")
    return TrackedRun(
        client=client,
        run_id=run_id,
        where=f"run '{client.get_run(run_id).info.run_name}' {in_store(store(config))}",
        iterations=run.total_steps,
        image_every=int(OmegaConf.select(config, "tracking.image_every", default=0) or 0),
    )


def finish(tracked: TrackedRun, result: Any, status: str, error: BaseException | None) -> None:
    """Write what is left, the final image and the error if any, then end with ``status``."""
    try:
        if result is not None:
            result.records["MLflow"] = tracked.where
            tracked.log_scores(result.steps, result.scores)
        tracked.flush()
        if result is not None and result.output is not None:
            tracked.client.log_artifact(tracked.run_id, str(result.output))
        elif result is not None:
            tracked.client.log_image(tracked.run_id, result.image, artifact_file="stylized.png")
        if error is not None:
            log_error(tracked.client, tracked.run_id, error)
    finally:
        tracked.client.set_terminated(tracked.run_id, status)


class MlflowTracker:
    """Lifecycle plugin: each nstx run with ``tracking.enabled`` becomes an MLflow run."""

    def __init__(self) -> None:
        self.runs: dict[int, TrackedRun] = {}

    @hookimpl
    def nstx_run_start(self, run):
        if enabled(run.config):
            self.runs[id(run)] = start(run)

    @hookimpl
    def nstx_step(self, run, step, losses, image, seconds):
        tracked = self.runs.get(id(run))
        if tracked is not None:
            tracked.log_step(step, losses, image, seconds, run.judge)

    @hookimpl
    def nstx_run_end(self, run, result, status, error):
        tracked = self.runs.pop(id(run), None)
        if tracked is not None:
            finish(tracked, result, status, error)


tracker = MlflowTracker()
