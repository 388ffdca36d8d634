"""Tensor operations whose hand-written backward pass is cheaper than autograd's.

Style losses compute ``F Fᵀ / M`` of every style layer once per step; autograd's backward
of ``f @ f.mT / M`` runs two matrix products, adds two feature-sized gradients and divides
them. The product's gradient is ``(dG + dGᵀ) F / M``: one matrix product with the scale
folded in, written in the layout of ``F`` (so a channels_last feature map gets a
channels_last gradient and no layout conversion).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable


class _Outer(torch.autograd.Function):
    @staticmethod
    def forward(ctx: FunctionCtx, features: Tensor) -> Tensor:
        ctx.save_for_backward(features)
        return scaled_product(features, features.mT, 1 / features.shape[-1])

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad: Tensor) -> Tensor:
        (features,) = ctx.saved_tensors
        symmetric = grad + grad.mT
        scale = 1 / features.shape[-1]
        if features.stride(-1) == 1:
            return scaled_product(symmetric, features, scale)
        # Positions-major memory (a flattened channels_last map): keep that layout.
        return scaled_product(features.mT, symmetric, scale).mT


def scaled_product(left: Tensor, right: Tensor, scale: float) -> Tensor:
    """``scale * left @ right`` (batched) in one matrix product, without a second pass."""
    out = left.new_empty(*left.shape[:-1], right.shape[-1])
    return torch.baddbmm(out, left, right, beta=0, alpha=scale)


def outer(features: Tensor) -> Tensor:
    """``F Fᵀ / M`` of (B, C, M) features, batched, with a one-product backward pass."""
    return _Outer.apply(features)
