"""Optimizers of the image; one ``step(closure)`` is one iteration (one forward/backward)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from nstx.hookspecs import hookimpl

if TYPE_CHECKING:
    from torch import Tensor
    from torch.optim import Optimizer


@hookimpl
def nstx_register_optimizer(register):
    register("lbfgs", lbfgs)
    register("adam", adam)


def lbfgs(
    params: Iterable[Tensor], lr: float = 1.0, history_size: int = 100, line_search: str | None = None
) -> Optimizer:
    """L-BFGS with one iteration per step and no early stop, as in neural-style.

    ``line_search="strong_wolfe"`` evaluates the loss several times per step.
    """
    import torch

    return torch.optim.LBFGS(
        params,
        lr=lr,
        max_iter=1,
        history_size=history_size,
        line_search_fn=line_search,
        tolerance_grad=-1,
        tolerance_change=-1,
    )


def adam(params: Iterable[Tensor], lr: float = 0.02, beta1: float = 0.9, beta2: float = 0.999) -> Optimizer:
    """Adam on the pixels (in [0, 1])."""
    import torch

    return torch.optim.Adam(params, lr=lr, betas=(beta1, beta2))
