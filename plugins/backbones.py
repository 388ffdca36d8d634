"""VGG16 and VGG19 from torchvision, with Caffe-style layer names and Keras aliases.

Only the convolutional part is built and loaded: the classifier weights are never
kept in memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from nstx.hookspecs import hookimpl

if TYPE_CHECKING:
    from torch import nn

    from nstx.features import Backbone

URLS = {
    "vgg16": "https://download.pytorch.org/models/vgg16-397923af.pth",
    "vgg19": "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
}
TORCHVISION_CFG = {"vgg16": "D", "vgg19": "E"}
# Caffe conversions of the original VGG models used by neural-style / neural-style-pt.
CAFFE_FILES = ("vgg16-00b39a1b", "vgg19-d01eb7cb")
PREPROCESS = ("auto", "imagenet", "caffe")


@hookimpl
def nstx_register_backbone(register):
    register("vgg16", vgg16)
    register("vgg19", vgg19)


def vgg16(weights: str = "auto", weights_seed: int = 0, preprocess: str = "auto") -> Backbone:
    """VGG16 features (13 conv layers)."""
    return build_vgg("vgg16", weights, weights_seed, preprocess)


def vgg19(weights: str = "auto", weights_seed: int = 0, preprocess: str = "auto") -> Backbone:
    """VGG19 features (16 conv layers), the network of Gatys et al."""
    return build_vgg("vgg19", weights, weights_seed, preprocess)


def build_vgg(arch: str, weights: str, weights_seed: int, preprocess: str) -> Backbone:
    """Build the named VGG feature stack and load ``weights`` into it.

    ``preprocess=auto`` picks Caffe input (BGR, 0-255, mean-subtracted) for the known
    Caffe-converted files and ImageNet normalisation otherwise.
    """
    from torch import nn
    from torchvision.models.vgg import cfgs, make_layers

    from nstx import weights as weights_module
    from nstx.errors import InputError
    from nstx.features import CAFFE, IMAGENET, Backbone, Normalize

    if preprocess not in PREPROCESS:
        raise InputError(f"preprocess {preprocess!r} is not one of {', '.join(PREPROCESS)}")
    features = make_layers(cfgs[TORCHVISION_CFG[arch]])
    names = vgg_layer_names(features)
    layers = nn.Sequential()
    for name, module in zip(names, features, strict=True):
        layers.add_module(name, module)

    state, used = weights_module.resolve(weights, URLS[arch])
    if state is None:
        init_random(layers, weights_seed)
    else:
        load_features(layers, state, used)
    if preprocess == "auto":
        preprocess = "caffe" if any(key in Path(used).name for key in CAFFE_FILES) else "imagenet"
    normalize = Normalize(**(CAFFE if preprocess == "caffe" else IMAGENET))
    return Backbone(layers=layers, normalize=normalize, aliases=keras_aliases(names), weights=used).freeze()


def vgg_layer_names(features: nn.Sequential) -> list[str]:
    """``conv1_1, relu1_1, ..., pool1, conv2_1, ...`` for torchvision's VGG ``features``."""
    from torch import nn

    names, block, index = [], 1, 1
    for module in features:
        if isinstance(module, nn.Conv2d):
            names.append(f"conv{block}_{index}")
        elif isinstance(module, nn.ReLU):
            names.append(f"relu{block}_{index}")
            index += 1
        else:
            names.append(f"pool{block}")
            block, index = block + 1, 1
    return names


def keras_aliases(names: list[str]) -> dict[str, str]:
    """Keras names: ``block1_conv1`` is the ReLU output of conv1_1, ``block1_pool`` is pool1."""
    aliases = {}
    for name in names:
        if name.startswith("relu"):
            block, index = name[4:].split("_")
            aliases[f"block{block}_conv{index}"] = name
        elif name.startswith("pool"):
            aliases[f"block{name[4:]}_pool"] = name
    return aliases


def init_random(layers: nn.Sequential, seed: int) -> None:
    """Seeded He initialisation, as torchvision initialises VGG."""
    import torch
    from torch import nn

    generator = torch.Generator().manual_seed(seed)
    for module in layers:
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu", generator=generator)
            nn.init.zeros_(module.bias)


def load_features(layers: nn.Sequential, state: dict, source: str) -> None:
    """Load a torchvision-layout state dict (``features.N.*``; classifier keys ignored)."""
    from nstx.errors import InputError

    by_index = {}
    for key, value in state.items():
        if key.startswith("classifier."):
            continue
        by_index[key.removeprefix("features.")] = value
    names = list(layers._modules)
    expected = {
        f"{i}.{p}": f"{names[i]}.{p}"
        for i, m in enumerate(layers)
        if hasattr(m, "weight")
        for p in ("weight", "bias")
    }
    missing = sorted(set(expected) - set(by_index))
    unexpected = sorted(set(by_index) - set(expected))
    own = layers.state_dict()
    wrong_shape = [
        f"{k} {tuple(by_index[k].shape)} != {tuple(own[v].shape)}"
        for k, v in expected.items()
        if k in by_index and by_index[k].shape != own[v].shape
    ]
    if missing or unexpected or wrong_shape:
        details = "; ".join(
            f"{label}: {', '.join(items[:6])}{' ...' if len(items) > 6 else ''}"
            for label, items in (
                ("missing", missing),
                ("unexpected", unexpected),
                ("wrong shape", wrong_shape),
            )
            if items
        )
        raise InputError(f"weights {source!r} do not fit this architecture ({details})")
    layers.load_state_dict({expected[k]: by_index[k] for k in expected})
