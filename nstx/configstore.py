"""Config nodes for plugins that ship no YAML, so any installed plugin is selectable by name."""

from __future__ import annotations

import inspect
from importlib.resources import files
from typing import Any

from nstx.registry import KINDS, Registry

# Arguments the engine passes itself; the rest of a signature are the plugin's options.
ENGINE_ARGUMENTS = {"weights", "layer", "correlation", "params", "content", "style", "generator"}


def plugin_options(impl: Any) -> dict[str, Any]:
    """The keyword parameters of ``impl`` (a class or function) with their defaults."""
    try:
        signature = inspect.signature(impl)
    except (TypeError, ValueError):
        return {}
    options = {}
    for name, parameter in signature.parameters.items():
        if name in ENGINE_ARGUMENTS or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        default = parameter.default
        options[name] = None if default is parameter.empty else default
    return options


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
            node = {"name": name, **plugin_options(registry.get(kind, name))}
            store.store(group=kind, name=name, node=node)
            stored.append((kind, name))
    return stored
