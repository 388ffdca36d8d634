"""Helpers shared by the tests: fast run options, tiny generated images, the CLI and its store."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

FAST = {"weights": "random", "device": "cpu", "image_size": 32, "iterations": 2}

# A plugin file that makes every step last 0.05 s longer: a run long enough to be hit mid-way.
SLOW_STEPS = """import time

from nstx.hookspecs import hookimpl


@hookimpl
def nstx_step(step):
    time.sleep(0.05)
"""

# The console script installed next to this interpreter: the real command users run.
NSTX = Path(sys.executable).with_name("nstx")
NSTX_FEATURES = Path(sys.executable).with_name("nstx-features")


def gradient_image(size: tuple[int, int], seed: int = 0, mode: str = "RGB") -> Image.Image:
    """A small deterministic picture with structure (gradients plus a seeded pattern)."""
    rng = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size)
    pixels = image.load()
    a, b = rng.randint(1, 7), rng.randint(1, 7)
    for y in range(height):
        for x in range(width):
            pixels[x, y] = ((x * 255) // width, (y * 255) // height, ((x * a + y * b) * 37) % 256)
    return image.convert(mode)


def cli_args(options: Mapping[str, Any]) -> list[str]:
    """``{"a": 1}`` -> ``["a=1"]``: options as Hydra overrides."""
    return [f"{key}={value}" for key, value in options.items()]


@dataclass
class Cli:
    """Runs ``nstx`` (or ``script``) in ``cwd`` with ``args`` (flags such as ``-m`` first) then
    ``base`` overrides."""

    cwd: Path
    base: list[str]
    script: Path = NSTX

    def __call__(self, *args: str, timeout: float = 300, **popen: Any) -> subprocess.CompletedProcess:
        command = [str(self.script), *args, *self.base]
        return subprocess.run(command, cwd=self.cwd, capture_output=True, text=True, timeout=timeout, **popen)

    def start(self, *args: str, **popen: Any) -> subprocess.Popen:
        """The same command started in its own session (a signal to it reaches nothing else), with
        SIGINT handled as at a terminal (shells start background jobs with it ignored)."""
        return subprocess.Popen(
            [str(self.script), *args, *self.base],
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
            **popen,
        )

    def without(self, key: str) -> Cli:
        """The same command without the base override of ``key`` (for a test that sets it)."""
        return Cli(self.cwd, [arg for arg in self.base if not arg.startswith(f"{key}=")], self.script)


class Store:
    """Read access to a test's MLflow store."""

    def __init__(self, uri: str) -> None:
        from mlflow import MlflowClient

        self.uri = uri
        self.client = MlflowClient(uri)

    def runs(self, experiment: str = "nstx") -> list[Any]:
        found = self.client.get_experiment_by_name(experiment)
        return [] if found is None else self.client.search_runs([found.experiment_id])

    def sweep(self) -> tuple[Any, list[Any]]:
        """The one parent run and its children."""
        runs = self.runs()
        parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
        assert len(parents) == 1, [r.info.run_name for r in parents]
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
        assert len(children) == len(runs) - 1
        return parents[0], children

    def artifacts(self, run: Any, path: str | None = None) -> set[str]:
        return {entry.path for entry in self.client.list_artifacts(run.info.run_id, path)}


def wait_until(ready: Callable[[], Any], process: subprocess.Popen, seconds: float = 120) -> Any:
    """Poll ``ready()`` until it returns something true, while ``process`` still runs."""
    deadline = time.monotonic() + seconds
    while not (found := ready()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"not ready within {seconds} s"
        time.sleep(0.2)
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """A running ``mlflow server`` or ``mlflow ui``: its URL and its process."""

    url: str
    process: subprocess.Popen

    def crash(self) -> None:
        """SIGKILL the server and the workers it started: gone at once, as in a crash."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@contextlib.contextmanager
def mlflow_server(
    verb: str, options: list[str], log: Path, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Iterator[Server]:
    """``mlflow <verb>`` (server or ui) on 127.0.0.1 and a free port; stops it by PID."""
    port = free_port()
    command = [sys.executable, "-m", "mlflow", verb, "--host", "127.0.0.1", "--port", str(port)]
    # One worker and no background job runner: these servers only record and show runs.
    environment = {**(env or os.environ), "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with log.open("w") as out:
        server = subprocess.Popen(
            [*command, "--workers", "1", *options],
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180
            while True:
                assert server.poll() is None, log.read_text()
                with (
                    contextlib.suppress(OSError),
                    urllib.request.urlopen(f"{url}/health", timeout=5) as answer,
                ):
                    if answer.status == 200:
                        break
                assert time.monotonic() < deadline, f"mlflow {verb} did not answer within 180 s"
                time.sleep(0.5)
            yield Server(url, server)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=30)
            with contextlib.suppress(ProcessLookupError):  # what it started in its session
                os.killpg(server.pid, signal.SIGKILL)


def settings_of(config: Any) -> Any:
    from nstx.engine.settings import Settings

    return Settings.from_config(config)


def backbone_of(config: Any) -> Any:
    """The backbone a run of ``config`` uses (the process-wide cached one)."""
    from nstx import registry
    from nstx.engine.assemble import load_backbone

    settings = settings_of(config)
    chosen = settings.plugins["backbone"], settings.plugins["pooling"]
    return load_backbone(registry.default(), *chosen, settings.weights, settings.device)


def inputs_of(config: Any, content: Any = None, styles: Any = None) -> tuple[Any, list[Any]]:
    """The content and style tensors of a one-level run of ``config``."""
    from nstx.engine.inputs import Inputs

    settings = settings_of(config)
    return Inputs.open(settings, content, styles).resized(settings, settings.image_size)


def objective_of(
    config: Any,
    features: Any,
    content: Any,
    styles: list[Any],
    style_layers: Any,
    content_layers: Any,
    blend=None,
) -> Any:
    """The objective a run of ``config`` builds for these inputs and layers."""
    from nstx import registry
    from nstx.engine.assemble import style_costs
    from nstx.loss.objective import build_objective

    settings = settings_of(config)
    blend = blend if blend is not None else [1.0 / len(styles)] * len(styles)
    new_cost = style_costs(registry.default(), settings)
    return build_objective(
        features, content, styles, new_cost, style_layers, content_layers, settings.loss, blend
    )
