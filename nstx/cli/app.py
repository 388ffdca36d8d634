"""The Hydra application behind ``nstx``: plugin directories loaded, shorthands rewritten, then
Hydra composes the config and runs each job through :func:`nstx.api.run`.

Plugin directories are read from the arguments (``plugins_dir=...``) and from
``$NSTX_PLUGINS_DIR`` before Hydra composes the config, so a plugin dropped in a
directory is selectable in the same command. Image folders, globs and ``init=<picture>``
are rewritten into plain overrides first (:mod:`nstx.config.overrides`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from nstx.config import overrides
from nstx.config.store import use_plugins
from nstx.errors import Escalated
from nstx.registry import Registry


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
        if hydra_config.mode == RunMode.RUN:  # past Hydra's job wrapper, which would print it again
            raise Escalated(error) from error
        raise  # a multirun records the failed job and goes on with the others
    return objective_value(objective, config, result.losses)


def launch(argv: Sequence[str]) -> None:
    """Load the plugins ``argv`` names, rewrite its shorthands, and hand it to Hydra."""
    plugins = load_plugins(argv)
    sys.argv[1:] = overrides.rewrite(argv, plugins.names("init"))
    app()
