"""Content, style and total-variation losses, and the objective that sums them.

Targets are computed once (content features, style statistics); every step then
only scores the generated features against them.

With ``loss_normalization=relative`` (the default) every content and style term is divided
by what the same cost gives for an all-zero feature map: the energy of its own target. A
term then reads as a fraction (``|F - P|^2 / |P|^2`` for the content, ``|G - A|^2 / |A|^2`` for
the default style cost), which does not change with the image size, the layer, or the scale
of the backbone's features (Caffe-scale VGG features are tens of times larger than those of
torchvision's, and a Gram cost is quartic in them), so one ``style_weight`` means the same
everywhere. ``none`` keeps the raw costs: with ``style_cost=mse`` and ``correlation=gram``
exactly Gatys et al.'s E_l and content loss.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from torch import Tensor

log = logging.getLogger(__name__)

NORMALIZATIONS = {
    "relative": "each term divided by its cost for an all-zero feature map (its target's energy)",
    "none": "the raw costs (Gatys et al.'s sums with style_cost=mse and correlation=gram)",
}


class Correlation(Protocol):
    def __call__(self, features: Tensor) -> Tensor: ...


class StyleCost(Protocol):
    """Prepare a target from style features once, then score generated features against it."""

    def prepare(self, styles: Sequence[Tensor], blend: Sequence[float]) -> Any: ...

    def score(self, features: Tensor, target: Any) -> Tensor: ...


class CorrelationCost:
    """A style cost comparing correlation statistics; subclasses define :meth:`distance`.

    The target of several style images is the blend-weighted sum of their statistics.
    """

    def __init__(self, correlation: Correlation) -> None:
        self.correlation = correlation

    def prepare(self, styles: Sequence[Tensor], blend: Sequence[float]) -> Tensor:
        return sum(weight * self.correlation(f) for f, weight in zip(styles, blend, strict=True))

    def score(self, features: Tensor, target: Tensor) -> Tensor:
        return self.distance(self.correlation(features), target)

    def distance(self, statistic: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError


def content_loss(features: Tensor, target: Tensor) -> Tensor:
    """Gatys' content loss: 1/2 sum of squared differences."""
    from torch.nn.functional import mse_loss

    return mse_loss(features, target, reduction="sum") / 2


def tv_loss(image: Tensor, power: float = 2.0, mean: bool = False) -> Tensor:
    """Total variation: sum (or, with ``mean``, mean per direction) of |neighbour difference|^power
    (2: squared, 1: L1)."""
    dx = image[..., :, 1:] - image[..., :, :-1]
    dy = image[..., 1:, :] - image[..., :-1, :]
    if power != 2:
        dx, dy = dx.abs(), dy.abs()
    dx, dy = dx.pow(power), dy.pow(power)
    return dx.mean() + dy.mean() if mean else dx.sum() + dy.sum()


def relative_scale(reference: float, term: str) -> float:
    """``1 / reference``: what makes a term relative to the cost of an all-zero feature map.

    A cost that gives 0 or no number there (one already relative, such as a cosine distance)
    is used as it is, with one log line.
    """
    if math.isfinite(reference) and reference > 0:
        return 1.0 / reference
    log.warning("%s costs %s for an all-zero feature map: its values are used unscaled", term, reference)
    return 1.0


@dataclass
class ContentTerm:
    """One content layer: its weight, its target features and its scale (see ``loss_normalization``)."""

    weight: float
    target: Tensor
    scale: float = 1.0


@dataclass
class StyleTerm:
    """One style layer: its weight, its cost, the target prepared for it and its scale."""

    weight: float
    cost: StyleCost
    target: Any
    scale: float = 1.0


@dataclass
class Objective:
    """The weighted sum of content, style and TV losses, reported term by term."""

    content_terms: Mapping[str, ContentTerm]
    style_terms: Mapping[str, StyleTerm]
    content_weight: float
    style_weight: float
    tv_weight: float
    tv_power: float
    tv_mean: bool = False  # relative: the mean neighbour difference, which does not grow with the size

    def __call__(self, features: Mapping[str, Tensor], image: Tensor) -> dict[str, Tensor]:
        """The loss breakdown: ``total``, ``content``, ``style``, ``tv``, ``style/<layer>``.

        Each entry is its weighted contribution, so ``total`` is the sum of the others.
        """
        losses: dict[str, Tensor] = {}
        total = image.new_zeros(())
        if self.content_weight:
            content = sum(
                term.weight * term.scale * content_loss(features[layer].float(), term.target)
                for layer, term in self.content_terms.items()
            )
            losses["content"] = self.content_weight * content
            total = total + losses["content"]
        if self.style_weight:
            style = image.new_zeros(())
            for layer, term in self.style_terms.items():
                score = term.cost.score(features[layer].float(), term.target)
                value = self.style_weight * term.weight * term.scale * score
                losses[f"style/{layer}"] = value
                style = style + value
            losses["style"] = style
            total = total + style
        if self.tv_weight:
            losses["tv"] = self.tv_weight * tv_loss(image, self.tv_power, self.tv_mean)
            total = total + losses["tv"]
        losses["total"] = total
        return losses
