"""VGG16 and VGG19 feature stacks with Caffe-style layer names and Keras aliases.

Only the convolutional part is built and loaded: the classifier weights are never kept
in memory. The backbone plugins and the quality judge (nstx.judge) build from here.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from nstx.encoder import weights as weights_module
from nstx.encoder.backbone import CAFFE, IMAGENET, Backbone, Normalize
from nstx.errors import InputError

URLS = {
    "vgg16": "https://download.pytorch.org/models/vgg16-397923af.pth",
    "vgg19": "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
}
TORCHVISION_CFG = {"vgg16": "D", "vgg19": "E"}
# Caffe conversions of the original VGG models used by neural-style / neural-style-pt.
CAFFE_FILES = ("vgg16-00b39a1b", "vgg19-d01eb7cb")
PREPROCESS = ("auto", "imagenet", "caffe")


def build_vgg(arch: str, weights: str, weights_seed: int, preprocess: str) -> Backbone:
    """Build the named VGG feature stack and load ``weights`` into it.

    ``preprocess=auto`` picks Caffe input (BGR, 0-255, mean-subtracted) for the original
    weights and the known Caffe-converted files, and ImageNet normalisation otherwise.
    """
    from torchvision.models.vgg import cfgs, make_layers

    if preprocess not in PREPROCESS:
        raise InputError(f"preprocess {preprocess!r} is not one of {', '.join(PREPROCESS)}")
    features = make_layers(cfgs[TORCHVISION_CFG[arch]])
    names = vgg_layer_names(features)
    layers = nn.Sequential()
    for name, module in zip(names, features, strict=True):
        layers.add_module(name, module)

    state, used = weights_module.resolve(weights, URLS[arch], original=arch == "vgg19")
    if state is None:
        init_random(layers, weights_seed)
    else:
        load_features(layers, state, used)
    if preprocess == "auto":
        caffe = used == weights_module.ORIGINAL or any(key in Path(used).name for key in CAFFE_FILES)
        preprocess = "caffe" if caffe else "imagenet"
    normalize = Normalize(**(CAFFE if preprocess == "caffe" else IMAGENET))
    return Backbone(layers=layers, normalize=normalize, aliases=keras_aliases(names), weights=used).freeze()


def vgg_layer_names(features: nn.Sequential) -> list[str]:
    """``conv1_1, relu1_1, ..., pool1, conv2_1, ...`` for torchvision's VGG ``features``."""
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

    generator = torch.Generator().manual_seed(seed)
    for module in layers:
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu", generator=generator)
            nn.init.zeros_(module.bias)


def load_features(layers: nn.Sequential, state: dict, source: str) -> None:
    """Load a state dict in torchvision's layout (``features.N.*``; classifier keys ignored)
    or keyed by layer name (``conv1_1.weight``)."""
    names = list(layers._modules)
    by_index = {}
    for key, value in state.items():
        if key.startswith("classifier."):
            continue
        layer, _, parameter = key.removeprefix("features.").partition(".")
        index = names.index(layer) if layer in names else layer
        by_index[f"{index}.{parameter}"] = value
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
