"""An example nstx plugin: one correlation statistic and one style cost, each a plain function.

nstx loads this module at start-up (entry point group ``nstx``), so it imports nothing
heavy at the top: torch is imported inside the functions that need it. Each function's
keyword arguments are its options in the config (``correlation.eps``, ``style_cost.delta``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nstx.hookspecs import hookimpl

if TYPE_CHECKING:
    from torch import Tensor


@hookimpl
def nstx_register_correlation(register):
    register("pearson", pearson)


@hookimpl
def nstx_register_style_cost(register):
    register("huber", huber)


def pearson(features: Tensor, eps: float = 1e-5) -> Tensor:
    """Pearson correlation coefficients between channels: the covariance divided by both spreads.

    Unlike a Gram or covariance matrix it ignores how strongly each channel fires and keeps
    only how channels fire together. ``eps`` guards channels that never vary.
    """
    f = features.flatten(2)
    centred = f - f.mean(dim=-1, keepdim=True)
    covariance = centred @ centred.mT / f.shape[-1]
    spread = covariance.diagonal(dim1=-2, dim2=-1).clamp_min(0).sqrt() + eps
    return covariance / (spread[..., :, None] * spread[..., None, :])


def huber(statistic: Tensor, target: Tensor, delta: float = 1.0) -> Tensor:
    """Huber loss between the statistics: squared for differences below ``delta``, linear above.

    A few large entries of a statistic then pull less than with ``mse``.
    """
    from torch.nn.functional import huber_loss

    return huber_loss(statistic, target, delta=delta)
