"""Tensor operations whose hand-written backward pass is cheaper than autograd's.

Style losses compute ``F Fᵀ`` of every style layer once per step; autograd's backward of
``f @ f.mT`` runs two matrix products and adds two feature-sized gradients. The product's
gradient is ``(dG + dGᵀ) F``: one matrix product, written in the layout of ``F`` (so a
channels_last feature map gets a channels_last gradient and no layout conversion).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable


class _Outer(torch.autograd.Function):
    @staticmethod
    def forward(ctx: FunctionCtx, features: Tensor) -> Tensor:
        ctx.save_for_backward(features)
        return features @ features.mT / features.shape[-1]

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad: Tensor) -> Tensor:
        (features,) = ctx.saved_tensors
        symmetric = (grad + grad.mT) / features.shape[-1]
        if features.stride(-1) == 1:
            return symmetric @ features
        # Positions-major memory (a flattened channels_last map): keep that layout.
        return (features.mT @ symmetric).mT


def outer(features: Tensor) -> Tensor:
    """``F Fᵀ / M`` of (B, C, M) features, batched, with a one-product backward pass."""
    return _Outer.apply(features)
