"""Spatial control: each style scored only where its mask says (Gatys et al. 2017's guided Grams).

At every style layer a style's mask (:mod:`nstx.image.masks`) is downsampled to the layer's
resolution, and the style is scored only on the generated features inside its region. A
region is a set of feature positions, passed to the style cost as a (B, C, 1, N) tensor, so
every style cost (correlation-based or raw-feature) works unchanged and normalises by the
region's own size. A position belongs to a region when the downsampled mask is at least one
half there. Each style's term is weighted by the share of the image its region covers times
its strength (``style_blend`` relative to its largest value), so that disjoint regions each
pull as hard as a single-style run does on the whole image.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from torch import Tensor
from torch.nn.functional import interpolate

from nstx.registry.contract import StyleCost


def region(mask: Tensor | None, shape: Sequence[int]) -> Tensor | None:
    """Flat indices of the positions of a (H, W) feature map inside ``mask``; None: all of them."""
    if mask is None:
        return None
    inside = interpolate(mask, size=tuple(shape), mode="area")[0, 0].flatten() >= 0.5
    if bool(inside.all()):
        return None
    return inside.nonzero().flatten().to(mask.device)


def select(features: Tensor, index: Tensor | None) -> Tensor:
    """The features at ``index`` as a (B, C, 1, N) map; all features when ``index`` is None."""
    if index is None:
        return features
    return features.flatten(2)[..., index].unsqueeze(2)


@dataclass
class Region:
    """One style's part of a layer: its cost, its positions and its weight."""

    style: int
    cost: StyleCost
    index: Tensor | None
    share: float


class GuidedStyleCost:
    """A style cost summed over regions, each scored against its own style only."""

    def __init__(self, regions: Sequence[Region]) -> None:
        self.regions = list(regions)

    def prepare(self, styles: Sequence[Tensor], blend: Sequence[float]) -> list[Any]:
        """One target per region from its style alone (the strengths are in the shares)."""
        return [part.cost.prepare([styles[part.style]], [1.0]) for part in self.regions]

    def score(self, features: Tensor, target: Sequence[Any]) -> Tensor:
        total = features.new_zeros(())
        for part, part_target in zip(self.regions, target, strict=True):
            total = total + part.share * part.cost.score(select(features, part.index), part_target)
        return total


def guided_cost(
    new_cost: Callable[[], StyleCost],
    masks: Sequence[Tensor | None],
    blend: Sequence[float],
    shape: Sequence[int],
) -> GuidedStyleCost:
    """The guided cost of one layer with feature map size ``shape``; empty regions are dropped."""
    strongest = max(blend)
    positions = shape[0] * shape[1]
    regions = []
    for style, (mask, weight) in enumerate(zip(masks, blend, strict=True)):
        index = region(mask, shape)
        count = positions if index is None else index.numel()
        if weight and count:
            regions.append(Region(style, new_cost(), index, weight / strongest * count / positions))
    return GuidedStyleCost(regions)
