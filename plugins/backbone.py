"""The VGG16 and VGG19 backbones (nstx.encoder.vgg), with Caffe-style layer names and Keras aliases."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nstx.hookspecs import hookimpl

if TYPE_CHECKING:
    from nstx.encoder.backbone import Backbone


@hookimpl
def nstx_register_backbone(register):
    register("vgg16", vgg16)
    register("vgg19", vgg19)


def vgg16(weights: str = "auto", weights_seed: int = 0, preprocess: str = "auto") -> Backbone:
    """VGG16 features (13 conv layers)."""
    from nstx.encoder.vgg import build_vgg

    return build_vgg("vgg16", weights, weights_seed, preprocess)


def vgg19(weights: str = "auto", weights_seed: int = 0, preprocess: str = "auto") -> Backbone:
    """VGG19 features (16 conv layers), the network of Gatys et al."""
    from nstx.encoder.vgg import build_vgg

    return build_vgg("vgg19", weights, weights_seed, preprocess)
