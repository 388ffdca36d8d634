"""The step loop: each step is one optimizer step over the image, reported to a callback.

The optimised image is not clamped: a clamp after each step would move the image where the
optimizer did not (L-BFGS' stored steps would then disagree with the real ones, which made
it diverge). Pixels may leave [0, 1] a little, as in neural-style; what is shown and saved
is clamped. The loop knows nothing of plugins, tracking or files: the caller's ``on_step``
decides what a step's report is for.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor

from nstx.errors import DivergedError

Features = Callable[[Tensor], Mapping[str, Tensor]]
Losses = Callable[[Mapping[str, Tensor], Tensor], dict[str, Tensor]]
OnStep = Callable[[int, Mapping[str, Tensor], float], None]


def optimize(
    features: Features, objective: Losses, image: Tensor, optimizer: Any, steps: range, on_step: OnStep
) -> None:
    """Run ``steps`` optimizer steps on ``image`` (a leaf tensor that requires grad).

    After each step ``on_step(step, losses, seconds)`` gets the loss tensors of the image the
    step started from (a line search evaluates trial points after it, which it may reject)
    and the step's wall time. A step whose loss or image is NaN or infinite restores the
    image it started from and raises :class:`DivergedError`; so does a step that raises.
    """
    last: dict[str, Tensor] = {}

    def closure() -> Tensor:
        optimizer.zero_grad(set_to_none=True)
        losses = objective(features(image), image)
        losses["total"].backward()
        if not last:
            last.update(losses)
        return losses["total"]

    kept = image.detach().clone()
    for step in steps:
        started = time.perf_counter()
        kept.copy_(image.detach())
        last.clear()
        try:
            optimizer.step(closure)
        except BaseException:  # a plugin raised, or Ctrl-C: back to the last finite image
            with torch.no_grad():
                image.copy_(kept)
            raise
        with torch.no_grad():
            if not finite(image, last.get("total")):
                reason = divergence(image, last)
                image.copy_(kept)
                raise DivergedError(step, reason)
        on_step(step, last, time.perf_counter() - started)


def breakdown(losses: Mapping[str, Tensor]) -> dict[str, float]:
    """Loss tensors as floats, with one device synchronisation."""
    names = list(losses)
    values = torch.stack([losses[name].detach().float() for name in names]).tolist()
    return dict(zip(names, values, strict=True))


def finite(image: Tensor, loss: Tensor | None) -> bool:
    """Whether the image and the loss are free of NaN and infinity (one synchronisation)."""
    ok = torch.isfinite(image).all()
    if loss is not None:
        ok = ok & torch.isfinite(loss).all()
    return bool(ok)


def divergence(image: Tensor, losses: Mapping[str, Tensor]) -> str:
    """Which losses and whether the image went NaN or infinite."""
    bad = [f"{name}={value}" for name, value in breakdown(losses).items() if not math.isfinite(value)]
    reasons = [f"loss {', '.join(bad)}"] if bad else []
    if not bool(torch.isfinite(image).all()):
        reasons.append("image has NaN or infinite pixels")
    return "; ".join(reasons)
