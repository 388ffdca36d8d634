"""The ``nstx`` command: a Hydra app over :func:`nstx.api.run`.

Plugin directories are read from the arguments (``plugins_dir=...``) and from
``$NSTX_PLUGINS_DIR`` before Hydra composes the config, so a plugin dropped in a
directory is selectable in the same command. Image folders, globs and ``init=<picture>``
are rewritten into plain overrides first (:mod:`nstx.arguments`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from nstx import arguments, registry
from nstx.configstore import store_plugin_configs
from nstx.errors import InputError
from nstx.sweep import end_sweep


def plugins_dirs_from(argv: Sequence[str]) -> list[str]:
    """Values of ``plugins_dir=...`` overrides on the command line (``+``/``++`` forms too)."""
    dirs = []
    for arg in argv:
        key, sep, value = arg.lstrip("+").partition("=")
        if sep and key == "plugins_dir" and value not in ("", "null"):
            dirs.append(value)
    return dirs


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def app(config: DictConfig) -> float:
    from nstx.api import run

    result = run(config, output_dir=HydraConfig.get().runtime.output_dir)
    return result.losses.get("total", float("nan"))


def main() -> None:
    """The console script: load plugin dirs, register their config nodes, run the Hydra app."""
    for directory in plugins_dirs_from(sys.argv[1:]):
        registry.load_plugins_dir(directory)
    store_plugin_configs(registry.default())
    try:
        sys.argv[1:] = arguments.rewrite(sys.argv[1:], registry.names("init"))
    except InputError as error:
        raise SystemExit(f"nstx: error: {error}") from None
    try:
        app()
    except BaseException as error:
        # Hydra skips on_multirun_end when a job fails or on Ctrl-C; the sweep's parent run still ends.
        end_sweep(error)
        raise
