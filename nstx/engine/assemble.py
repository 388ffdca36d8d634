"""Building a run's plugins from its settings: each checked before any work, the backbone once
per process, the style costs one per layer."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import torch

from nstx.encoder.backbone import Backbone
from nstx.encoder.execution import memory_format
from nstx.engine.lifecycle import plugins_named
from nstx.engine.settings import PluginChoice, Settings
from nstx.registry import KINDS, Registry
from nstx.registry.contract import StyleCost
from nstx.registry.signatures import check


def build(registry: Registry, choice: PluginChoice) -> Callable[..., Any]:
    """The chosen implementation, called the kind's way, with its options checked and bound."""
    entry = registry.entry(choice.kind, choice.name)
    check(entry, choice.options)
    return functools.partial(entry.make, **choice.options)


def style_costs(registry: Registry, settings: Settings) -> Callable[[], StyleCost]:
    """Makes a new style cost (one per layer), with its correlation, as the settings say."""
    correlation = build(registry, settings.plugins["correlation"])
    cost = build(registry, settings.plugins["style_cost"])
    return lambda: cost(correlation=correlation())


def check_plugins(registry: Registry, settings: Settings) -> None:
    """Each group's plugin name and options; then the style cost, the init and an optimizer,
    made once on a stand-in image, so that the checks plugins make themselves (lr, betas, eps,
    init.path, ...) fail before any work too, not inside a tracked run."""
    for kind in KINDS:
        build(registry, settings.plugins[kind])
    stand_in = torch.zeros(1, 3, 16, 16)
    with plugins_named(registry):
        style_costs(registry, settings)()
        build(registry, settings.plugins["init"])(stand_in, stand_in, torch.Generator())
        build(registry, settings.plugins["optimizer"])([stand_in.clone().requires_grad_(True)])


_backbones: dict[tuple[str, ...], Backbone] = {}


def forget_backbones() -> None:
    """Drop the process's built backbones, so that the next run loads its weights again."""
    _backbones.clear()


def identity(choice: PluginChoice) -> str:
    """A plugin choice as a key: its name and options."""
    return json.dumps([choice.name, choice.options], sort_keys=True, default=str)


def load_backbone(
    registry: Registry, backbone: PluginChoice, pooling: PluginChoice, weights: str, device: torch.device
) -> Backbone:
    """Build the chosen backbone once per process, weights, pooling and device: frozen, on the device."""
    key = (identity(backbone), weights, identity(pooling), str(device))
    if key not in _backbones:
        built = build(registry, backbone)(weights=weights)
        built.swap_pooling(build(registry, pooling))
        built.layers.to(device, memory_format=memory_format(device))
        built.normalize.to(device)
        _backbones[key] = built.freeze()
    return _backbones[key]
