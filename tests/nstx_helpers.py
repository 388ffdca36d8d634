"""Test helpers: a lifecycle plugin recording what runs report, and the ``nstx`` command."""

import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from nstx import registry
from nstx.hookspecs import hookimpl


class StepRecorder:
    def __init__(self):
        self.runs, self.steps, self.losses, self.images = [], [], [], []

    @hookimpl
    def nstx_run_start(self, run):
        self.runs.append(run)

    @hookimpl
    def nstx_step(self, step, losses, image):
        self.steps.append(step)
        self.losses.append(losses)
        self.images.append(image())


@contextmanager
def recording():
    """Record the steps of the runs made inside the ``with`` block."""
    recorder = StepRecorder()
    manager = registry.default()
    manager.register(recorder)
    try:
        yield recorder
    finally:
        manager.unregister(recorder)


def nstx_command():
    """The ``nstx`` console script of this environment (or its entry point through ``python -c``)."""
    script = shutil.which("nstx", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-c", "from nstx.cli.main import main; main()"]


def run_nstx(*arguments, cwd, check=True):
    """Run ``nstx`` with random weights and no tracking; with ``check``, fail on a non-zero exit."""
    command = [*nstx_command(), *arguments, "weights=random", "tracking.enabled=false"]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stderr[-2000:]
    return done
