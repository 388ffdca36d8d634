"""Style costs comparing the correlation statistics of generated and style features."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nstx.hookspecs import hookimpl
from nstx.losses import CorrelationCost

if TYPE_CHECKING:
    from torch import Tensor


@hookimpl
def nstx_register_style_cost(register):
    register("mse", MSE)
    register("l1", L1)
    register("frobenius", Frobenius)


class MSE(CorrelationCost):
    """Sum of squared differences / (4 C²); with ``gram`` exactly Gatys' E_l."""

    def distance(self, statistic: Tensor, target: Tensor) -> Tensor:
        channels = statistic.shape[-1]
        return (statistic - target).pow(2).sum() / (4 * channels**2)


class L1(CorrelationCost):
    """Mean absolute difference of the statistics: less dominated by a few large entries."""

    def distance(self, statistic: Tensor, target: Tensor) -> Tensor:
        return (statistic - target).abs().mean()


class Frobenius(CorrelationCost):
    """Relative Frobenius distance ||G - A|| / ||A||: scale-free across layers."""

    def distance(self, statistic: Tensor, target: Tensor) -> Tensor:
        return (statistic - target).norm() / target.norm().clamp_min(1e-12)
