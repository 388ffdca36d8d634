"""The Hydra application behind ``nstx``: plugin directories loaded, shorthands rewritten, then
Hydra composes the config and runs each job through :func:`nstx.api.run`.

Plugin directories are read from the arguments (``plugins_dir=...``) and from
``$NSTX_PLUGINS_DIR`` before Hydra composes the config, so a plugin dropped in a
directory is selectable in the same command. Image folders, globs and ``init=<picture>``
are rewritten into plain overrides first (:mod:`nstx.config.overrides`).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from nstx.config import overrides
from nstx.config.errors import as_input_error
from nstx.config.store import use_plugins
from nstx.errors import Escalated
from nstx.registry import Registry
from nstx.registry.hookspecs import Result

LABEL_CHARS = 80
HYDRA_LEFTOVERS = (".hydra", "nstx.log")

log = logging.getLogger(__name__)


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
        result = run(config, output_dir=hydra_config.runtime.output_dir, label=label(hydra_config))
    except Exception as error:
        if hydra_config.mode == RunMode.RUN:  # past Hydra's job wrapper, which would print it again
            forget_output_dir(error, Path(hydra_config.runtime.output_dir))
            raise Escalated(error) from error
        raise  # a multirun records the failed job and goes on with the others
    log.info(where(result))
    return objective_value(objective, config, result.losses)


def label(hydra_config: Any) -> str:
    """What the command line changed, for the run's name: its overrides but the pictures (the
    name has them already) and Hydra's own."""
    skipped = ("content", "style", "hydra", "tracking")
    changed = [
        o for o in hydra_config.overrides.task if o.lstrip("+~").split("=")[0].split(".")[0] not in skipped
    ]
    text = " ".join(changed)
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def where(result: Result) -> str:
    """The line a finished run ends with: its image, and where plugins recorded it (the tracker:
    its MLflow run and store, and how to look)."""
    records = [f"{plugin} {record}" for plugin, record in result.records.items()] or ["not tracked"]
    return "; ".join([f"image {result.output}", *records])


def forget_output_dir(error: BaseException, directory: Path) -> None:
    """Bad input leaves nothing behind: remove the run directory Hydra made for the run, when it
    holds only Hydra's own files (its config copy and the log), and the folders above it (below
    the working directory) that this leaves empty."""
    if as_input_error(error) is None or not directory.is_dir():
        return
    if any(path.name not in HYDRA_LEFTOVERS for path in directory.iterdir()):
        return
    root = logging.getLogger()
    for handler in list(root.handlers):  # the job's log file, open in the directory
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename).parent == directory:
            root.removeHandler(handler)
            handler.close()
    shutil.rmtree(directory)
    for folder in directory.resolve().parents:  # outputs/<date>/ and outputs/, when emptied
        if folder == Path.cwd().resolve() or not folder.is_relative_to(Path.cwd().resolve()):
            break
        with contextlib.suppress(OSError):
            folder.rmdir()


def launch(argv: Sequence[str]) -> None:
    """Load the plugins ``argv`` names, rewrite its shorthands, and hand it to Hydra."""
    plugins = load_plugins(argv)
    sys.argv[1:] = overrides.rewrite(argv, plugins.names("init"))
    app()
