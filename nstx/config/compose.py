"""The config a run uses, composed as ``nstx`` composes it: package defaults, Hydra overrides,
then keyword options under the config's own names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf

from nstx.config.errors import config_mistakes_as_input_errors
from nstx.config.overrides import LAYER_GROUPS, rewrite_init_paths
from nstx.config.store import use_plugins
from nstx.errors import InputError
from nstx.registry import KINDS


def compose(overrides: Sequence[str] = (), **options: Any) -> DictConfig:
    """The config ``nstx`` would run with: package defaults, Hydra overrides, then options.

    Options use the config's names: a plugin group takes a name (``correlation="covariance"``)
    or a mapping with ``name`` and parameters (``init`` also takes a picture's path);
    ``style_layers`` / ``content_layers`` take a preset name, a list of layers (equally
    weighted) or a layer -> weight mapping;
    other keys (dotted allowed) set values.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module

    plugins = use_plugins([options["plugins_dir"]] if options.get("plugins_dir") else [])
    group_overrides, values = list(overrides), {}
    for key, value in options.items():
        if key in (*KINDS, *LAYER_GROUPS) and isinstance(value, str):
            group_overrides.append(f"{key}={value}")
        elif key in KINDS and isinstance(value, Mapping) and "name" in value:
            group_overrides.append(f"{key}={value['name']}")
            values[key] = {k: v for k, v in value.items() if k != "name"}
        elif key in LAYER_GROUPS and isinstance(value, Sequence):  # layer names, equally weighted
            values[key] = dict.fromkeys(value, 1.0)
        else:
            values[key] = value
    group_overrides = rewrite_init_paths(group_overrides, plugins.names("init"))
    with (
        config_mistakes_as_input_errors(),
        initialize_config_module(config_module="nstx.conf", version_base="1.3"),
    ):
        cfg = hydra_compose(config_name="config", overrides=group_overrides)
    for key, value in values.items():
        node = OmegaConf.select(cfg, key, default=KeyError)
        if node is KeyError:
            raise InputError(f"unknown option {key!r} (known: {', '.join(sorted(cfg))})")
        if isinstance(node, DictConfig) and not isinstance(value, Mapping):
            if key in KINDS:
                accepted = "a plugin name or a mapping"
            elif key in LAYER_GROUPS:
                accepted = "a preset name, a list of layers or a layer -> weight mapping"
            else:
                accepted = f"a mapping of {', '.join(node)}"
            raise InputError(f"{key} takes {accepted}, got {value!r}")
        if key in LAYER_GROUPS:
            OmegaConf.update(cfg, key, dict(value), merge=False, force_add=True)
            continue
        # A plugin's options need not all be in its config file: its signature decides.
        OmegaConf.update(cfg, key, value, merge=True, force_add=key in KINDS)
    return cfg
