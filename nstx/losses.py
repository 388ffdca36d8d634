"""Content, style and total-variation losses, and the objective that sums them.

Targets are computed once (content features, style statistics); every step then
only scores the generated features against them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from torch import Tensor


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


def tv_loss(image: Tensor, power: float = 2.0) -> Tensor:
    """Total variation: sum of |neighbour difference|^power (2: squared, 1: L1)."""
    dx = image[..., :, 1:] - image[..., :, :-1]
    dy = image[..., 1:, :] - image[..., :-1, :]
    if power == 2:
        return dx.pow(2).sum() + dy.pow(2).sum()
    return dx.abs().pow(power).sum() + dy.abs().pow(power).sum()


@dataclass
class StyleTerm:
    """One style layer: its weight, its cost and the target prepared for it."""

    weight: float
    cost: StyleCost
    target: Any


@dataclass
class Objective:
    """The weighted sum of content, style and TV losses, reported term by term."""

    content_targets: Mapping[str, Tensor]
    content_layers: Mapping[str, float]
    style_terms: Mapping[str, StyleTerm]
    content_weight: float
    style_weight: float
    tv_weight: float
    tv_power: float

    def __call__(self, features: Mapping[str, Tensor], image: Tensor) -> dict[str, Tensor]:
        """The loss breakdown: ``total``, ``content``, ``style``, ``tv``, ``style/<layer>``.

        Each entry is its weighted contribution, so ``total`` is the sum of the others.
        """
        losses: dict[str, Tensor] = {}
        total = image.new_zeros(())
        if self.content_weight:
            content = sum(
                weight * content_loss(features[layer].float(), self.content_targets[layer])
                for layer, weight in self.content_layers.items()
            )
            losses["content"] = self.content_weight * content
            total = total + losses["content"]
        if self.style_weight:
            style = image.new_zeros(())
            for layer, term in self.style_terms.items():
                value = (
                    self.style_weight * term.weight * term.cost.score(features[layer].float(), term.target)
                )
                losses[f"style/{layer}"] = value
                style = style + value
            losses["style"] = style
            total = total + style
        if self.tv_weight:
            losses["tv"] = self.tv_weight * tv_loss(image, self.tv_power)
            total = total + losses["tv"]
        losses["total"] = total
        return losses
