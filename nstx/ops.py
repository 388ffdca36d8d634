"""Tensor operations whose hand-written backward pass is cheaper than autograd's.

Style losses compute ``F Fᵀ / M`` of every style layer once per step; autograd's backward
of ``f @ f.mT / M`` runs two matrix products and adds two feature-sized gradients. The
product's gradient is ``(dG + dGᵀ) F / M``: one matrix product, written straight into a
fresh tensor in the layout of the feature map (so a channels_last map gets a
channels_last gradient, and no layout conversion). Being a fresh tensor rather than a
view, autograd adds the next layer's gradient to it in place.

On CPU that product is a 1x1 convolution of the map by ``(dG + dGᵀ) / M``: oneDNN runs it
faster than MKL's batched matrix product (measured 20% faster at 128-256 px).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable


class _Outer(torch.autograd.Function):
    @staticmethod
    def forward(ctx: FunctionCtx, features: Tensor) -> Tensor:
        ctx.save_for_backward(features)
        flat = features.flatten(2)
        return torch.bmm(flat, flat.mT).div_(flat.shape[-1])

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad: Tensor) -> Tensor:
        (features,) = ctx.saved_tensors
        flat = features.flatten(2)
        symmetric = (grad + grad.mT).div_(flat.shape[-1])
        batch, channels = features.shape[:2]
        if features.device.type == "cpu" and features.dim() == 4 and batch == 1:
            return torch.nn.functional.conv2d(features, symmetric.view(channels, channels, 1, 1))
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
