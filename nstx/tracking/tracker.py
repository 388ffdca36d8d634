"""The MLflow tracker: one MLflow run per nstx run, as a plugin of the lifecycle hooks.

mlflow is imported only when a run starts with ``tracking.enabled``, so ``nstx --help``
and untracked runs never pay for it. The store is checked before any work; afterwards every
call goes through the run's :class:`~nstx.tracking.outbox.Outbox`, so the optimisation never
waits for MLflow, and metrics are buffered and written in batches. The image is saved locally
before the record is finished; a record that could not be finished is one line saying so.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig, OmegaConf

from nstx.errors import RecordIncomplete
from nstx.registry.hookspecs import Scorer, hookimpl
from nstx.tracking.outbox import Outbox
from nstx.tracking.repair import owner_tags, repair
from nstx.tracking.store import Store, enabled, open_store

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


def in_store(uri: str) -> str:
    """Where runs are, and how to look at them."""
    return f"in {uri} (compare: mlflow ui --backend-store-uri {uri})"


def log_error(client: Any, run_id: str, error: BaseException) -> None:
    """The error that ended a run, as tag ``nstx.error``."""
    client.set_tag(run_id, "nstx.error", f"{type(error).__name__}: {error}"[:MAX_TAG_CHARS])


@dataclass
class TrackedRun:
    """The MLflow side of one nstx run: its store, run id (set by the outbox's first call for
    a run of its own) and name (a sweep's child is named by the sweep), the outbox its calls
    go through, and buffered metrics."""

    store: Store
    run_id: str | None
    name: str | None
    outbox: Outbox
    iterations: int
    image_every: int
    pending: list[Any] = field(default_factory=list)
    flushed_at: float = 0.0
    last_image_step: int = 0
    scored_step: int | None = None

    @property
    def client(self) -> Any:
        return self.store.client

    def send(self, call: Any, *args: Any, **kwargs: Any) -> None:
        """``call(run_id, *args, **kwargs)`` through the outbox, with the run id known by then."""
        self.outbox.put(lambda: call(self.run_id, *args, **kwargs))

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
            self.send(self.client.log_image, picture, key=IMAGE_KEY, step=step)
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
            self.send(self.client.log_batch, metrics=self.pending[start : start + MAX_BATCH_METRICS])
        self.pending = []
        self.flushed_at = time.monotonic()


def start(run: Any) -> TrackedRun:
    """Open the MLflow run for ``run`` (or take over $NSTX_MLFLOW_RUN_ID, a sweep's child) and
    send its params, tags, composed config and inputs."""
    from mlflow.entities import RunTag

    from nstx.image import io

    config = run.config
    store = open_store(config)
    run_id = os.environ.get(RUN_ID_ENV)
    tracked = TrackedRun(
        store=store,
        run_id=run_id,
        # named after what it is, and when: MLflow's own names repeat under a fixed seed
        name=None if run_id else f"{run.name} {time.strftime('%H:%M:%S')}",
        outbox=Outbox(f"mlflow run of {run.output_dir or 'nstx'}"),
        iterations=run.total_steps,
        image_every=int(OmegaConf.select(config, "tracking.image_every", default=0) or 0),
    )
    tags = dict(run.tags) | owner_tags()  # the versions among them (version.nstx, version.torch, ...)
    if run.output_dir is not None:
        tags["nstx.output_dir"] = str(run.output_dir)
    if tracked.run_id is None:

        def create() -> None:  # with its tags: a run that exists says whose it is, for a repair
            created = store.client.create_run(store.experiment_id, run_name=tracked.name, tags=tags)
            tracked.run_id = created.info.run_id

        tracked.outbox.put(create)
    else:
        tracked.send(store.client.log_batch, tags=[RunTag(key, value) for key, value in tags.items()])
    tracked.send(functools.partial(log_config, store.client), config)
    tracked.send(store.client.log_image, io.to_pil(run.content), artifact_file="inputs/content.png")
    for index, style in enumerate(run.styles):
        suffix = f"_{index + 1}" if len(run.styles) > 1 else ""
        tracked.send(store.client.log_image, io.to_pil(style), artifact_file=f"inputs/style{suffix}.png")
    return tracked


def finish(
    tracked: TrackedRun, run: Any, result: Any, status: str, error: BaseException | None
) -> tuple[str, bool]:
    """Send what is left, the final image and the error if any, end the run with ``status``, and
    wait for it, bounded. The line that says what became of the record, and whether it is whole."""
    if result is not None:
        tracked.log_scores(result.steps, result.scores)
    tracked.flush()
    if result is not None and result.output is not None:
        tracked.send(tracked.client.log_artifact, str(result.output))
    elif result is not None:
        tracked.send(tracked.client.log_image, result.image, artifact_file="stylized.png")
    if error is not None:
        tracked.send(functools.partial(log_error, tracked.client), error)
    tracked.send(tracked.client.set_terminated, status)
    reason = tracked.outbox.close()
    named = f"MLflow run {tracked.run_id}" if tracked.run_id else "the MLflow run"
    if reason is None:
        if result is not None:
            run_name = f"run '{tracked.name}'" if tracked.name else f"run {tracked.run_id}"
            result.records["MLflow"] = f"{run_name} {in_store(tracked.store.uri)}"
        return f"{named} was recorded as {status}", True
    outputs = run.output_dir if run.output_dir is not None else "the returned result"
    return (
        f"{named} in {tracked.store.uri} is incomplete: {reason}; the run's "
        f"outputs are in {outputs} (nstx-runs repair, or the next run, ends it FAILED)"
    ), False


class MlflowTracker:
    """Lifecycle plugin: each nstx run with ``tracking.enabled`` becomes an MLflow run."""

    def __init__(self) -> None:
        self.runs: dict[int, TrackedRun] = {}

    @hookimpl
    def nstx_check(self, config):
        if enabled(config):
            repair(open_store(config).client, by=f"the nstx run of process {os.getpid()}")

    @hookimpl
    def nstx_run_start(self, run):
        if enabled(run.config):
            self.runs[id(run)] = start(run)

    @hookimpl
    def nstx_step(self, run, step, losses, image, seconds):
        tracked = self.runs.get(id(run))
        if tracked is not None:
            tracked.log_step(step, losses, image, seconds, run.judge)

    # Around the other plugins' ends (the judge's scores, the snapshots), so that the MLflow run
    # ends after them, and ends whatever they do.
    @hookimpl(wrapper=True)
    def nstx_run_end(self, run, result, status, error) -> Generator[None, list[str], list[str]]:
        try:
            lines = yield
        except Exception as failure:
            tracked = self.runs.pop(id(run), None)
            if tracked is not None:
                failure.add_note(finish(tracked, run, result, "FAILED", failure)[0])
            raise
        tracked = self.runs.pop(id(run), None)
        if tracked is None:
            return lines
        line, whole = finish(tracked, run, result, status, error)
        if not whole and error is None:
            raise RecordIncomplete(line)
        return [*lines, line]


tracker = MlflowTracker()
