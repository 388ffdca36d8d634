"""The ``nstx`` command: a Hydra app over :func:`nstx.api.run`.

Plugin directories are read from the arguments (``plugins_dir=...``) and from
``$NSTX_PLUGINS_DIR`` before Hydra composes the config, so a plugin dropped in a
directory is selectable in the same command. Image folders, globs and ``init=<picture>``
are rewritten into plain overrides first (:mod:`nstx.config.overrides`). Every error reaches
:func:`main`, which reports it through :func:`nstx.cli.failures.report` (one line and exit
status 2 for bad input).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from nstx.cli.failures import report, wants_traceback
from nstx.config import overrides
from nstx.config.store import use_plugins
from nstx.engine.signals import terminate_raises
from nstx.registry import Registry
from nstx.tracking.sweep import end_sweep
from nstx.version import __version__


class JobFailed(BaseException):
    """Carries a single run's error past Hydra's job wrapper, which would print it a second time."""


def load_plugins(argv: Sequence[str]) -> Registry:
    """Load the command line's plugin directories and give every plugin its config node."""
    return use_plugins(overrides.values_of("plugins_dir", argv))


@hydra.main(version_base="1.3", config_path="pkg://nstx.conf", config_name="config")
def app(config: DictConfig) -> float | list[float]:
    from nstx.api import run
    from nstx.cli.sweeper import objective_names, objective_value

    hydra_config = HydraConfig.get()
    try:
        objective = objective_names(config)
        result = run(config, output_dir=hydra_config.runtime.output_dir)
    except Exception as error:
        if hydra_config.mode == RunMode.RUN:
            raise JobFailed(error) from error
        raise  # a multirun records the failed job and goes on with the others
    return objective_value(objective, config, result.losses)


def main() -> None:
    """The console script: load plugin dirs, register their config nodes, run the Hydra app."""
    argv = sys.argv[1:]
    if "--version" in argv:
        print(f"nstx {__version__}")
        return
    full_error = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let errors reach report() rather than Hydra's printer
    try:
        with terminate_raises():
            plugins = load_plugins(argv)
            sys.argv[1:] = overrides.rewrite(argv, plugins.names("init"))
            app()
    except SystemExit:
        raise
    except BaseException as error:
        failure = error.__cause__ if isinstance(error, JobFailed) else error
        # Hydra skips on_multirun_end when a job fails or on Ctrl-C; the sweep's parent run still ends.
        end_sweep(failure)
        sys.exit(report(failure, debug=wants_traceback(argv) or full_error is not None))
    finally:
        if full_error is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = full_error
