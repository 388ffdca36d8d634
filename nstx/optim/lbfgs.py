"""L-BFGS with a fixed step whose steps read nothing back from the device.

torch.optim.LBFGS scales vectors by Python numbers in its two-loop recursion, so every
stored pair costs a read of a device scalar: with the default 100 pairs, 205 host reads
per step (counted with torch's profiler), each of which waits for a GPU to finish the
queued work. Here every scalar of the recursion stays a 0-d tensor on the device, and
the pairs live in one buffer allocated at the first step, so steps allocate nothing. (On
the CPU its pages become resident only as pairs are written; a GPU holds it whole.)

A step is torch's ``LBFGS(max_iter=1, line_search_fn=None)`` step, as neural-style runs
L-BFGS: the same recursion, the first step scaled by min(1, 1/|g|₁), a pair used only when
sᵀy > 1e-10. Where torch drops such a pair, this stores it as a blank that counts against
``history_size`` (telling which happened would take a host read). torch's stopping tests
are left out: with the tolerances neural-style uses they never fire.

``max_step`` optionally bounds every step in the max norm (no coordinate moves further),
a trust region that costs no host read. The curvature estimate of the first steps, made
from a tiny first step, can overshoot on trained features: without the bound, small images
saw a step move pixels by two whole [0, 1] ranges and the loss jump 40- to 280-fold for a
step before the next undid it. The step taken is stored, so the pairs stay exact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor
from torch.optim import Optimizer

CURVATURE_FLOOR = 1e-10  # torch's: a pair with sᵀy at or below it would break the update


class LBFGS(Optimizer):
    """L-BFGS over all parameters as one flat vector, one closure call per step."""

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1.0,
        history_size: int = 100,
        max_step: float | None = None,
    ) -> None:
        if history_size < 1:
            raise ValueError(f"history_size must be at least 1, got {history_size}")
        if max_step is not None and not max_step > 0:
            raise ValueError(f"max_step must be positive or None, got {max_step}")
        super().__init__(params, {"lr": lr, "history_size": history_size, "max_step": max_step})
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS takes a single parameter group")
        self._views: tuple[Tensor, list[tuple[Tensor, Tensor, Tensor]]] | None = None

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor]) -> Tensor:  # type: ignore[override]
        with torch.enable_grad():
            loss = closure()
        group = self.param_groups[0]
        params = group["params"]
        grad = flat_grad(params)
        state = self.state[params[0]]
        if "grad" not in state:
            state.update(
                grad=grad.clone(),
                history=grad.new_empty(group["history_size"], 2, grad.numel()),
                inverse_curvature=grad.new_zeros(group["history_size"]),
                scale=grad.new_ones(()),
                pairs=0,
            )
            direction = grad.neg()
            step = grad.abs().sum().reciprocal().clamp(max=1.0).mul(group["lr"])
        else:
            self._remember(state, grad)
            direction = self._direction(state, grad)
            step = torch.full((), group["lr"], dtype=grad.dtype, device=grad.device)
        if group["max_step"] is not None:
            step = step * (group["max_step"] / (direction.abs().max() * step)).clamp(max=1.0)
        offset = 0
        for param in params:
            param.addcmul_(direction[offset : offset + param.numel()].view_as(param), step)
            offset += param.numel()
        state["direction"], state["step"] = direction, step
        return loss

    def _slots(self, state: dict) -> list[tuple[Tensor, Tensor, Tensor]]:
        """Views (s, y, 1/sᵀy) of each place in the history, made once per history buffer."""
        history = state["history"]
        if self._views is None or self._views[0] is not history:
            rows = zip(history.unbind(0), state["inverse_curvature"].unbind(0), strict=True)
            self._views = (history, [(s, y, rho) for (s, y), rho in rows])
        return self._views[1]

    def _remember(self, state: dict, grad: Tensor) -> None:
        """Store the last step's pair (s = t d, y = the change of gradient), blank when flat."""
        slots = self._slots(state)
        s, y, rho = slots[state["pairs"] % len(slots)]
        torch.mul(state["direction"], state["step"], out=s)
        torch.sub(grad, state["grad"], out=y)
        state["grad"].copy_(grad)
        curvature = torch.dot(y, s)
        used = curvature > CURVATURE_FLOOR
        rho.copy_(torch.where(used, curvature.reciprocal(), 0.0))
        state["scale"] = torch.where(used, curvature / torch.dot(y, y), state["scale"])
        state["pairs"] += 1

    def _direction(self, state: dict, grad: Tensor) -> Tensor:
        """-H g by the two-loop recursion over the stored pairs, oldest first."""
        slots, newest = self._slots(state), state["pairs"]
        count = min(newest, len(slots))
        pairs = [slots[(newest - count + k) % len(slots)] for k in range(count)]
        q = grad.neg()
        alphas = []
        for s, y, rho in reversed(pairs):
            alpha = torch.dot(s, q).mul_(rho)
            q.addcmul_(y, alpha, value=-1)
            alphas.append(alpha)
        q.mul_(state["scale"])
        for (s, y, rho), alpha in zip(pairs, reversed(alphas), strict=True):
            q.addcmul_(s, torch.addcmul(alpha, rho, torch.dot(y, q), value=-1))
        return q


def flat_grad(params: list[Tensor]) -> Tensor:
    """The parameters' gradients as one vector (zeros where a parameter has none)."""
    grads = [p.grad.reshape(-1) if p.grad is not None else p.new_zeros(p.numel()) for p in params]
    return grads[0] if len(grads) == 1 else torch.cat(grads)
