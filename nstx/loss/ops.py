"""Tensor operations whose hand-written backward pass is cheaper than autograd's.

Style losses compute ``G = F Fᵀ / M`` of every style layer once per step; autograd's
backward of ``f @ f.mT / M`` runs two matrix products and adds two feature-sized
gradients. The product's gradient is ``(dG + dGᵀ) F / M``: one matrix product, written
straight into a fresh tensor in the layout of the feature map (so a channels_last map gets
a channels_last gradient, and no layout conversion). Being a fresh tensor rather than a
view, autograd adds the next layer's gradient to it in place.

On CPU both products of a single map go to oneDNN's 1x1-convolution kernels, which run
them faster than MKL's matrix product (docs/performance.md): ``S F`` is the convolution of
F by the C x C weight S, and ``F Fᵀ`` is the weight gradient of a convolution whose input
and output gradient are both F. The latter pays off for thin maps only (up to
``THIN_CHANNELS`` channels over many positions); wider maps keep the matrix product.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable
from torch.nn.functional import conv2d
from torch.nn.grad import conv2d_weight

# Measured on CPU: oneDNN's weight gradient beats MKL for 64 and 128 channels at 128-512 px
# (20-40% for 64 channels), and loses for 512 channels.
THIN_CHANNELS = 128


def as_convolution(features: Tensor) -> bool:
    """Whether the products run as oneDNN convolutions: one (1, C, H, W) map on the CPU."""
    return features.device.type == "cpu" and features.dim() == 4 and features.shape[0] == 1


class _Outer(torch.autograd.Function):
    @staticmethod
    def forward(ctx: FunctionCtx, features: Tensor) -> Tensor:
        ctx.save_for_backward(features)
        channels, flat = features.shape[1], features.flatten(2)
        if as_convolution(features) and channels <= THIN_CHANNELS:
            square = (channels, channels)
            product = conv2d_weight(features, (*square, 1, 1), features).view(1, *square)
        else:
            product = torch.bmm(flat, flat.mT)
        return product.div_(flat.shape[-1])

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad: Tensor) -> Tensor:
        (features,) = ctx.saved_tensors
        channels, flat = features.shape[1], features.flatten(2)
        symmetric = (grad + grad.mT).div_(flat.shape[-1])
        if as_convolution(features):
            return conv2d(features, symmetric.view(channels, channels, 1, 1))
        out = torch.empty_like(features)
        written = out.flatten(2)
        if written.stride(-1) == 1:
            torch.bmm(symmetric, flat, out=written)
        else:  # positions-major memory (channels_last): (Fᵀ S)ᵀ = S F for a symmetric S
            torch.bmm(flat.mT, symmetric, out=written.mT)
        return out


def outer(features: Tensor) -> Tensor:
    """``F Fᵀ / M`` of a (B, C, *positions) feature map, batched, M positions per channel."""
    return _Outer.apply(features)
