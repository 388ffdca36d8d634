"""The plugins a command can select: plugin directories loaded, and a config node for every
plugin that ships no YAML, so any installed plugin is selectable by name.

:func:`use_plugins` is the one place where plugin directories are loaded: the commands call it
with the ``plugins_dir`` of their arguments, the Python API with that of its options or config.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterable
from importlib.resources import files
from typing import Any

from nstx import registry
from nstx.registry import KINDS, Entry, Registry
from nstx.registry.signatures import parameters


def plugin_options(entry: Entry) -> dict[str, Any]:
    """The options of a registered plugin with their defaults (None where it has none)."""
    takes = parameters(entry.impl, entry.form)
    if takes is None:
        return {}
    empty = inspect.Parameter.empty
    return {name: None if p.default is empty else p.default for name, p in takes.options.items()}


def store_plugin_configs(plugins: Registry) -> list[tuple[str, str]]:
    """Store ``{name, **options}`` in Hydra's ConfigStore for every plugin without a YAML."""
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    conf = files("nstx.conf")
    stored = []
    for kind in KINDS:
        for name in plugins.names(kind):
            if conf.joinpath(kind, f"{name}.yaml").is_file():
                continue
            node = {"name": name, **plugin_options(plugins.entry(kind, name))}
            store.store(group=kind, name=name, node=node)
            stored.append((kind, name))
    return stored


def use_plugins(directories: Iterable[str | os.PathLike[str]] = ()) -> Registry:
    """Load ``directories`` of ``*.py`` plugins, give every plugin its config node, return the registry."""
    for directory in directories:
        registry.load_plugins_dir(directory)
    plugins = registry.default()
    store_plugin_configs(plugins)
    return plugins
