"""Optimizers of the image; one ``step(closure)`` is one iteration (one forward/backward)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from nstx.errors import InputError
from nstx.hookspecs import hookimpl

if TYPE_CHECKING:
    from torch import Tensor
    from torch.optim import Optimizer


LINE_SEARCHES = (None, "strong_wolfe")
LINE_SEARCH_TRIALS = 25  # torch's own bound on the evaluations of one line search


@hookimpl
def nstx_register_optimizer(register):
    register("lbfgs", lbfgs)
    register("adam", adam)


def lbfgs(
    params: Iterable[Tensor],
    lr: float = 1.0,
    history_size: int = 100,
    line_search: str | None = None,
    max_step: float | None = 0.25,
) -> Optimizer:
    """L-BFGS with one iteration per step and no early stop, as in neural-style.

    With a fixed step it is nstx's own (nstx.optim.lbfgs: no host reads per step), where no pixel
    moves more than ``max_step`` in one step (null: no bound); a line search
    (``line_search="strong_wolfe"``, several loss evaluations per step) is torch's.
    """
    import torch

    check_learning_rate(lr)
    if isinstance(history_size, bool) or not isinstance(history_size, int) or history_size < 1:
        raise InputError(f"optimizer.history_size must be a positive integer, got {history_size!r}")
    if max_step is not None and not 0 < max_step < math.inf:
        raise InputError(f"optimizer.max_step must be a positive number or null, got {max_step!r}")
    if line_search not in LINE_SEARCHES:
        raise InputError(f"unknown optimizer.line_search {line_search!r} (accepted: null, strong_wolfe)")
    if line_search is None:
        from nstx.optim.lbfgs import LBFGS

        return LBFGS(params, lr=lr, history_size=history_size, max_step=max_step)
    return torch.optim.LBFGS(
        params,
        lr=lr,
        max_iter=1,
        # torch's default (max_iter * 5 // 4) leaves the line search one evaluation at most,
        # after which it returns a zero step whenever the full one fails: up to 25 trials.
        max_eval=1 + LINE_SEARCH_TRIALS,
        history_size=history_size,
        line_search_fn=line_search,
        tolerance_grad=-1,
        tolerance_change=-1,
    )


def adam(params: Iterable[Tensor], lr: float = 0.02, beta1: float = 0.9, beta2: float = 0.999) -> Optimizer:
    """Adam on the pixels (in [0, 1])."""
    import torch

    check_learning_rate(lr)
    for key, beta in (("beta1", beta1), ("beta2", beta2)):
        if not 0 <= beta < 1:
            raise InputError(f"optimizer.{key} must be in [0, 1), got {beta!r}")
    return torch.optim.Adam(params, lr=lr, betas=(beta1, beta2))


def check_learning_rate(lr: float) -> None:
    """A step size the optimizers can use: finite and >= 0 (0 keeps the image as it starts)."""
    if not 0 <= lr < math.inf:
        raise InputError(f"optimizer.lr must be finite and >= 0, got {lr!r}")
