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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nstx.loss.guided import guided_cost

if TYPE_CHECKING:
    from torch import Tensor

    from nstx.registry.contract import StyleCost

log = logging.getLogger(__name__)

NORMALIZATIONS = {
    "relative": "each term divided by its cost for an all-zero feature map (its target's energy)",
    "none": "the raw costs (Gatys et al.'s sums with style_cost=mse and correlation=gram)",
}


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


@dataclass(frozen=True)
class LossWeights:
    """How the terms are weighed: ``content_weight``, ``style_weight``, ``tv_weight``, ``tv_power``,
    and whether terms are relative (``loss_normalization=relative``)."""

    content: float
    style: float
    tv: float
    tv_power: float
    relative: bool


@dataclass
class Objective:
    """The weighted sum of content, style and TV losses, reported term by term."""

    content_terms: Mapping[str, ContentTerm]
    style_terms: Mapping[str, StyleTerm]
    weights: LossWeights

    def __call__(self, features: Mapping[str, Tensor], image: Tensor) -> dict[str, Tensor]:
        """The loss breakdown: ``total``, ``content``, ``style``, ``tv``, ``style/<layer>``.

        Each entry is its weighted contribution, so ``total`` is the sum of the others.
        """
        weights = self.weights
        losses: dict[str, Tensor] = {}
        total = image.new_zeros(())
        if weights.content:
            content = sum(
                term.weight * term.scale * content_loss(features[layer].float(), term.target)
                for layer, term in self.content_terms.items()
            )
            losses["content"] = weights.content * content
            total = total + losses["content"]
        if weights.style:
            style = image.new_zeros(())
            for layer, term in self.style_terms.items():
                score = term.cost.score(features[layer].float(), term.target)
                value = weights.style * term.weight * term.scale * score
                losses[f"style/{layer}"] = value
                style = style + value
            losses["style"] = style
            total = total + style
        if weights.tv:
            # relative: the mean neighbour difference, which does not grow with the size
            losses["tv"] = weights.tv * tv_loss(image, weights.tv_power, mean=weights.relative)
            total = total + losses["tv"]
        losses["total"] = total
        return losses


def build_objective(
    features: Callable[[Tensor], Mapping[str, Tensor]],
    content: Tensor,
    styles: Sequence[Tensor],
    new_cost: Callable[[], StyleCost],
    style_layers: Mapping[str, float],
    content_layers: Mapping[str, float],
    weights: LossWeights,
    blend: Sequence[float],
    masks: Sequence[Tensor | None] | None = None,
) -> Objective:
    """Compute content features and style targets once, without gradients.

    ``new_cost`` makes a style cost (one per layer); ``blend`` weighs the styles; with ``masks``
    (one per style, at the content's size) each style is scored only inside its mask.
    """
    import torch

    with torch.no_grad():
        content_features = features(content)
        style_features = [features(style) for style in styles]
        style_terms = {}
        for layer, weight in style_layers.items():
            if masks is None:
                cost = new_cost()
            else:
                cost = guided_cost(new_cost, masks, blend, content_features[layer].shape[-2:])
            target = cost.prepare([f[layer].float() for f in style_features], blend)
            scale = 1.0
            if weights.relative:
                blank = torch.zeros_like(content_features[layer], dtype=torch.float32)
                scale = relative_scale(float(cost.score(blank, target)), f"style_cost at {layer}")
            style_terms[layer] = StyleTerm(weight, cost, target, scale)
        content_terms = {}
        for layer, weight in content_layers.items():
            target = content_features[layer].float()
            scale = 1.0
            if weights.relative:
                scale = relative_scale(
                    float(content_loss(torch.zeros_like(target), target)), f"content at {layer}"
                )
            content_terms[layer] = ContentTerm(weight, target, scale)
    return Objective(content_terms, style_terms, weights)
