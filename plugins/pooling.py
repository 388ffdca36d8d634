"""Pooling replacements: keep max pooling, or average like Gatys et al. suggest."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nstx.hookspecs import hookimpl

if TYPE_CHECKING:
    from torch import nn


@hookimpl
def nstx_register_pooling(register):
    register("max", max_pool)
    register("avg", avg_pool)


def max_pool(layer: nn.Module) -> nn.Module:
    """Max pooling with the geometry of ``layer``."""
    from torch import nn

    return nn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding, ceil_mode=layer.ceil_mode)


def avg_pool(layer: nn.Module) -> nn.Module:
    """Average pooling with the geometry of ``layer``: smoother gradients, softer results."""
    from torch import nn

    return nn.AvgPool2d(layer.kernel_size, layer.stride, layer.padding, ceil_mode=layer.ceil_mode)
