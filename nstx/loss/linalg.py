"""Powers of symmetric positive semi-definite matrices (covariances), through their eigenvalues."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import Tensor


def psd_power(matrix: Tensor, power: float, floor: float = 0.0) -> Tensor:
    """``matrix ** power`` with the eigenvalues floored at ``floor`` (rounding makes tiny ones negative)."""
    import torch

    values, vectors = torch.linalg.eigh(matrix)
    return vectors @ torch.diag(values.clamp_min(floor).pow(power)) @ vectors.mT
