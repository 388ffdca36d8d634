"""A frozen feature extractor with named taps, truncated after the deepest tap."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from nstx.errors import InputError, unknown


class Normalize(nn.Module):
    """Map an RGB image in [0, 1] to the input a backbone was trained on."""

    def __init__(
        self, mean: Iterable[float], std: Iterable[float], scale: float = 1.0, bgr: bool = False
    ) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(list(mean)).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(list(std)).view(1, -1, 1, 1))
        self.scale = scale
        self.bgr = bgr

    def forward(self, image: Tensor) -> Tensor:
        if self.bgr:
            image = image.flip(1)
        return (image * self.scale - self.mean) / self.std


IMAGENET = {"mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225)}
# Caffe-converted VGG files (the neural-style family) expect BGR in 0-255 minus the mean.
CAFFE = {"mean": (103.939, 116.779, 123.68), "std": (1.0, 1.0, 1.0), "scale": 255.0, "bgr": True}


@dataclass
class Backbone:
    """What a backbone plugin returns: named layers in forward order and their input map."""

    layers: nn.Sequential
    normalize: nn.Module
    aliases: dict[str, str] = field(default_factory=dict)
    weights: str = "random"
    pooling_types: tuple[type[nn.Module], ...] = (nn.MaxPool2d,)

    def canonical(self, layer: str) -> str:
        """The layer's own name for ``layer`` (which may be an alias)."""
        name = self.aliases.get(layer, layer)
        if name not in self.layers._modules:
            raise InputError(unknown("layer", layer, self.layers._modules))
        return name

    def swap_pooling(self, replace: Callable[[nn.Module], nn.Module]) -> None:
        for name, module in list(self.layers.named_children()):
            if isinstance(module, self.pooling_types):
                setattr(self.layers, name, replace(module))

    def freeze(self) -> Backbone:
        self.layers.eval().requires_grad_(False)
        self.normalize.eval().requires_grad_(False)
        return self


class FeatureExtractor(nn.Module):
    """Runs the backbone up to the deepest requested layer and returns the tapped outputs."""

    def __init__(self, backbone: Backbone, layers: Iterable[str]) -> None:
        super().__init__()
        taps = {backbone.canonical(layer) for layer in layers}
        if not taps:
            raise InputError("no layers requested: set style_layers and/or content_layers")
        order = list(backbone.layers._modules)
        deepest = max(order.index(tap) for tap in taps)
        kept = order[: deepest + 1]
        self.normalize = backbone.normalize
        self.body = nn.Sequential()
        for index, name in enumerate(kept):
            module = backbone.layers._modules[name]
            # An in-place ReLU would overwrite a tapped convolution output.
            if index > 0 and kept[index - 1] in taps and getattr(module, "inplace", False):
                module = type(module)(inplace=False)
            self.body.add_module(name, module)
        self.taps = frozenset(taps)
        self.deepest = kept[-1]
        # Backbones name their pooling layers pool*, whichever pooling replaced them.
        self.pools_before_deepest = sum(name.startswith("pool") for name in kept[:deepest])

    @property
    def min_size(self) -> int:
        """The smallest image side that still leaves one pixel at the deepest tap."""
        return 2**self.pools_before_deepest

    def forward(self, image: Tensor) -> dict[str, Tensor]:
        x = self.normalize(image)
        out: dict[str, Tensor] = {}
        for name, module in self.body.named_children():
            x = module(x)
            if name in self.taps:
                out[name] = x
        return out
