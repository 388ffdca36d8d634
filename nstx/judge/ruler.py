"""The quality judge: one fixed ruler for every run's image, whatever plugins made it.

Runs with different correlations, style costs or weights report losses on different
scales, so their losses cannot say which run matched the style better. The judge scores
an image in a fixed network with fixed layers, the original VGG19 (Caffe input, max
pooling), as the measurements that chose nstx's defaults did:

- ``content``: ``mean((F - P)²) / mean(P²)`` at relu4_2, with the content image resized to
  the image's size (0: the content's features exactly);
- ``style``: the mean over relu1_1, relu2_1, relu3_1, relu4_1 and relu5_1 of
  ``‖G - A‖_F / ‖A‖_F``, with ``G = F Fᵀ / M`` of the image and ``A`` that of the style
  image resized to the image's longest side (several styles: their blend-weighted sum).

Both are relative errors: lower is better, 0 is a perfect match.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from PIL import Image
from torch import Tensor

from nstx.encoder.backbone import FeatureExtractor
from nstx.image import io

CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
METRICS = ("content", "style")


@functools.cache
def network(device: torch.device) -> FeatureExtractor:
    """The judge's network on ``device``, built once per process."""
    from nstx.encoder.vgg import build_vgg

    backbone = build_vgg("vgg19", "original", weights_seed=0, preprocess="caffe")
    extractor = FeatureExtractor(backbone, [CONTENT_LAYER, *STYLE_LAYERS])
    return extractor.to(device).eval().requires_grad_(False)


def gram(features: Tensor) -> Tensor:
    """``F Fᵀ / M`` of (1, C, H, W) features."""
    flat = features.flatten(2).double()
    return flat @ flat.mT / flat.shape[-1]


@dataclass
class Judge:
    """The targets of one content and style (computed once); call it on images to score them."""

    content: Image.Image
    styles: list[Image.Image]
    blend: list[float]
    device: torch.device
    cache: dict[tuple[int, int], tuple[Tensor, dict[str, Tensor]]] = field(
        default_factory=dict, init=False, repr=False
    )
    last: tuple[int, dict[str, float]] | None = field(default=None, init=False, repr=False)

    @classmethod
    def of(
        cls,
        content: Image.Image,
        styles: Sequence[Image.Image],
        blend: Sequence[float] | None = None,
        device: torch.device | str = "cpu",
    ) -> Judge:
        weights = list(blend) if blend is not None else [1.0 / len(styles)] * len(styles)
        return cls(content, list(styles), weights, torch.device(device))

    def targets(self, height: int, width: int) -> tuple[Tensor, dict[str, Tensor]]:
        """The content features and style Gram matrices for an image of ``height`` x ``width``."""
        key = (height, width)
        if key not in self.cache:
            net = network(self.device)
            with torch.no_grad():
                content = self.content.resize((width, height), Image.Resampling.LANCZOS)
                features = net(io.to_tensor(content).to(self.device))[CONTENT_LAYER]
                grams: dict[str, Tensor] = {}
                for style, weight in zip(self.styles, self.blend, strict=True):
                    resized = io.resize_longest(style, max(height, width))
                    seen = net(io.to_tensor(resized).to(self.device))
                    for layer in STYLE_LAYERS:
                        grams[layer] = grams.get(layer, 0) + weight * gram(seen[layer])
            self.cache[key] = (features, grams)
        return self.cache[key]

    def __call__(self, image: Tensor | Image.Image) -> dict[str, float]:
        """``{"content": ..., "style": ...}`` of ``image`` (a (1, 3, H, W) tensor in [0, 1] or PIL)."""
        if isinstance(image, Image.Image):
            image = io.to_tensor(io.to_rgb(image))
        image = image.detach().float().clamp(0, 1).to(self.device)
        content, grams = self.targets(*image.shape[-2:])
        with torch.no_grad():
            features = network(self.device)(image)
            generated = features[CONTENT_LAYER].double()
            content_error = (generated - content).pow(2).mean() / content.double().pow(2).mean()
            style_errors = [
                (gram(features[layer]) - grams[layer]).norm() / grams[layer].norm() for layer in STYLE_LAYERS
            ]
            scores = torch.stack([content_error, torch.stack(style_errors).mean()]).tolist()
        return dict(zip(METRICS, scores, strict=True))

    def at(self, step: int, image: Image.Image) -> dict[str, float]:
        """The scores of a run's image at ``step``; the same step is scored once."""
        if self.last is None or self.last[0] != step:
            self.last = (step, self(image))
        return dict(self.last[1])


def evaluate(
    image: io.ImageSource | Tensor,
    content: io.ImageSource,
    style: io.ImageSource | Sequence[io.ImageSource],
    blend: Sequence[float] | None = None,
) -> dict[str, float]:
    """Score ``image`` against ``content`` and ``style`` (paths or PIL images): ``content`` and
    ``style`` relative errors, lower is better (see the module docstring for the definitions)."""
    styles = [style] if isinstance(style, str | Image.Image) or not isinstance(style, Sequence) else style
    judge = Judge.of(io.open_image(content), [io.open_image(s) for s in styles], blend)
    picture = image if isinstance(image, Tensor) else io.open_image(image)
    return judge(picture)
