"""Correlation statistics of features F (B, C, H, W) -> (B, C, C), with M = H*W positions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nstx.hookspecs import hookimpl

if TYPE_CHECKING:
    from torch import Tensor


@hookimpl
def nstx_register_correlation(register):
    register("gram", Gram)
    register("covariance", Covariance)
    register("mean_shifted", MeanShifted)


def outer(features: Tensor) -> Tensor:
    """F Fᵀ / M of (B, C, H, W) features, batched (nstx.loss.ops: one matrix product backward)."""
    from nstx.loss import ops

    return ops.outer(features)


class Gram:
    """The Gram matrix F Fᵀ / M of Gatys et al."""

    def __call__(self, features: Tensor) -> Tensor:
        return outer(features)


class Covariance:
    """(F - mean)(F - mean)ᵀ / M: the Gram matrix of centred features."""

    def __call__(self, features: Tensor) -> Tensor:
        return outer(features - features.mean(dim=(2, 3), keepdim=True))


class MeanShifted:
    """(F + s)(F + s)ᵀ / M (Novak & Nikulin): shifting makes zero activations count."""

    def __init__(self, shift: float = -1.0) -> None:
        self.shift = shift

    def __call__(self, features: Tensor) -> Tensor:
        return outer(features + self.shift)
