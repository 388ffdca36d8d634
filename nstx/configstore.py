"""Config nodes for plugins that ship no YAML, so any installed plugin is selectable by name."""

from __future__ import annotations

import inspect
from importlib.resources import files
from typing import Any

from nstx.options import parameters
from nstx.registry import KINDS, Registry


def plugin_options(kind: str, impl: Any) -> dict[str, Any]:
    """The options of ``impl`` as a ``kind`` plugin with their defaults (None where it has none)."""
    takes = parameters(kind, impl)
    if takes is None:
        return {}
    empty = inspect.Parameter.empty
    return {name: None if p.default is empty else p.default for name, p in takes.options.items()}


def store_plugin_configs(registry: Registry) -> list[tuple[str, str]]:
    """Store ``{name, **options}`` in Hydra's ConfigStore for every plugin without a YAML."""
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    conf = files("nstx.conf")
    stored = []
    for kind in KINDS:
        for name in registry.names(kind):
            if conf.joinpath(kind, f"{name}.yaml").is_file():
                continue
            node = {"name": name, **plugin_options(kind, registry.get(kind, name))}
            store.store(group=kind, name=name, node=node)
            stored.append((kind, name))
    return stored
