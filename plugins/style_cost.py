"""Style costs: on correlation statistics (mse, l1, frobenius) or on raw features (distributions)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from nstx.errors import InputError
from nstx.hookspecs import hookimpl
from nstx.loss import CorrelationCost
from nstx.loss.linalg import psd_power

if TYPE_CHECKING:
    from torch import Tensor


@hookimpl
def nstx_register_style_cost(register):
    register("mse", MSE)
    register("l1", L1)
    register("frobenius", Frobenius)
    register("sliced_wasserstein", SlicedWasserstein)
    register("gaussian_w2", GaussianW2)


class MSE(CorrelationCost):
    """Sum of squared differences / (4 C²); with ``gram`` exactly Gatys' E_l."""

    def distance(self, statistic: Tensor, target: Tensor) -> Tensor:
        from torch.nn.functional import mse_loss

        channels = statistic.shape[-1]
        return mse_loss(statistic, target, reduction="sum") / (4 * channels**2)


class L1(CorrelationCost):
    """Mean absolute difference of the statistics: less dominated by a few large entries."""

    def distance(self, statistic: Tensor, target: Tensor) -> Tensor:
        return (statistic - target).abs().mean()


class Frobenius(CorrelationCost):
    """Relative Frobenius distance ||G - A|| / ||A||: scale-free across layers."""

    def distance(self, statistic: Tensor, target: Tensor) -> Tensor:
        return (statistic - target).norm() / target.norm().clamp_min(1e-12)


def positions(features: Tensor) -> Tensor:
    """(B, C, H, W) -> (C, B*H*W): one column per feature position."""
    return features.transpose(0, 1).flatten(1)


class SlicedWassersteinTarget(NamedTuple):
    features: Tensor  # (C, M): the style positions of every style with a weight
    mass: Tensor  # (M,): each position's probability, blend weight / positions of its style


class SlicedWasserstein:
    """Sliced Wasserstein distance between the distributions of generated and style features.

    Every call projects both feature sets on ``projections`` random unit directions
    (default: as many as channels), re-drawn at each step from a generator seeded with
    ``seed``, and compares the sorted projections: the mean squared difference of their
    quantiles (Heitz et al. 2021). Unlike a Gram matrix this matches whole marginal
    distributions, not second moments only; the style target is the blend-weighted mixture
    of the style images' features, so styles of any size mix correctly.
    """

    def __init__(self, correlation: Any = None, projections: int | None = None, seed: int = 0) -> None:
        import torch

        whole = isinstance(projections, int) and not isinstance(projections, bool)
        if projections is not None and not (whole and projections > 0):
            raise InputError(f"style_cost.projections must be a positive integer or null, got {projections}")
        self.projections = projections
        self.generator = torch.Generator().manual_seed(int(seed))

    def prepare(self, styles: Sequence[Tensor], blend: Sequence[float]) -> SlicedWassersteinTarget:
        import torch

        kept = [(positions(f), w) for f, w in zip(styles, blend, strict=True) if w > 0]
        mass = torch.cat([torch.full((f.shape[1],), w / f.shape[1], dtype=torch.float64) for f, w in kept])
        features = torch.cat([f for f, _ in kept], dim=1)
        return SlicedWassersteinTarget(features, (mass / mass.sum()).to(features.device))

    def directions(self, channels: int, like: Tensor) -> Tensor:
        """``projections`` random unit vectors as columns (C, P), the next draw of the generator."""
        import torch

        count = self.projections or channels
        drawn = torch.randn(channels, count, generator=self.generator).to(like)
        return drawn / drawn.norm(dim=0, keepdim=True)

    def score(self, features: Tensor, target: SlicedWassersteinTarget) -> Tensor:
        generated = positions(features)
        directions = self.directions(generated.shape[0], generated)
        projected = (directions.T @ generated).sort(dim=1).values
        quantiles = weighted_quantiles(directions.T @ target.features, target.mass, projected.shape[1])
        return (projected - quantiles).pow(2).mean()


def weighted_quantiles(values: Tensor, mass: Tensor, count: int) -> Tensor:
    """Per row of ``values`` (P, M) with probabilities ``mass`` (M,), the quantiles at (k + ½) / count.

    With equal masses and ``count == M`` this is just the sorted row.
    """
    import torch

    ordered, order = values.sort(dim=1)
    cdf = mass[order].cumsum(dim=1)
    levels = (torch.arange(count, dtype=torch.float64, device=values.device) + 0.5) / count
    index = torch.searchsorted(cdf, levels.expand(values.shape[0], count).contiguous())
    return ordered.gather(1, index.clamp_max(values.shape[1] - 1))


class GaussianTarget(NamedTuple):
    mean: Tensor  # (C,)
    covariance: Tensor  # (C, C)
    root: Tensor  # covariance^½


class GaussianW2:
    """Squared 2-Wasserstein distance between Gaussians fitted to the two feature sets, per channel.

    W2² = |μ - μs|² + tr Σ + tr Σs - 2 tr (Σs^½ Σ Σs^½)^½ (the Bures metric on the
    covariances), divided by the channel count C. Unlike a Gram matrix it separates the
    mean from the spread: a Gram matrix mixes both into one second moment. The style
    target is the Gaussian fitted to the blend-weighted mixture of the styles' features.
    ``eps`` floors the eigenvalues under the square root, where the gradient is infinite.
    """

    def __init__(self, correlation: Any = None, eps: float = 1e-5) -> None:
        if not 0 < eps < math.inf:
            raise InputError(f"style_cost.eps must be a positive number, got {eps!r}")
        self.eps = eps

    def prepare(self, styles: Sequence[Tensor], blend: Sequence[float]) -> GaussianTarget:
        mean = sum(w * positions(f).double().mean(dim=1) for f, w in zip(styles, blend, strict=True))
        covariance = sum(w * moments(positions(f), mean) for f, w in zip(styles, blend, strict=True))
        return GaussianTarget(mean, covariance, psd_power(covariance, 0.5))

    def score(self, features: Tensor, target: GaussianTarget) -> Tensor:
        import torch

        x = positions(features)
        mean = x.double().mean(dim=1)
        covariance = moments(x, mean)
        cross = target.root @ covariance @ target.root
        bures = torch.linalg.eigvalsh(cross).clamp_min(self.eps).sqrt().sum()
        spread = covariance.trace() + target.covariance.trace() - 2 * bures
        distance = (mean - target.mean).pow(2).sum() + spread
        return (distance / x.shape[0]).to(features.dtype)


def moments(x: Tensor, mean: Tensor) -> Tensor:
    """E[(x - mean)(x - mean)ᵀ] over the columns of ``x`` (C, N), in float64."""
    centred = x - mean.to(x.dtype)[:, None]
    return (centred @ centred.T).double() / x.shape[1]
