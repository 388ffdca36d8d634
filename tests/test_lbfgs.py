"""nstx's L-BFGS takes torch's fixed-step L-BFGS steps, without reading anything back from the device."""

import torch

from nstx.optim.lbfgs import LBFGS


def torch_lbfgs(params, history_size):
    return torch.optim.LBFGS(
        params, lr=1.0, max_iter=1, history_size=history_size, tolerance_grad=-1, tolerance_change=-1
    )


def nstx_lbfgs(params, history_size):
    return LBFGS(params, lr=1.0, history_size=history_size)


def trajectory(make, loss, steps, history_size=4):
    """The parameters after each step, for two parameters (a 5x10 map and a vector) of float64."""
    x = torch.linspace(-1, 1, 50, dtype=torch.float64).view(5, 10).requires_grad_(True)
    w = torch.full((7,), 0.3, dtype=torch.float64, requires_grad=True)
    optimizer = make([x, w], history_size)

    def closure():
        optimizer.zero_grad()
        value = loss(x, w)
        value.backward()
        return value

    points = []
    for _ in range(steps):
        optimizer.step(closure)
        points.append(torch.cat([x.detach().flatten(), w.detach()]))
    return torch.stack(points)


def curved(x, w):
    """Non-convex in both parameters, so that pairs differ from step to step."""
    mix = torch.linspace(-0.3, 0.3, 2500, dtype=torch.float64).view(50, 50).sin()
    features = ((mix @ x.flatten()).tanh() ** 2).sum() + 0.1 * (x**4).sum() - 0.3 * x.sum()
    return features + ((w**2 - 1) ** 2).sum()


def test_steps_match_torch_lbfgs_after_the_history_wraps():
    expected = trajectory(torch_lbfgs, curved, steps=25)
    got = trajectory(nstx_lbfgs, curved, steps=25)
    assert got[-1].sub(got[0]).abs().max() > 0.1  # the run moved
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)


def test_a_pair_without_curvature_is_not_used():
    """A linear loss: every y is zero, so sᵀy = 0 and the steps stay plain gradient steps."""

    def linear(x, w):
        return (x * torch.arange(50, dtype=torch.float64).view(5, 10)).sum() - w.sum()

    expected = trajectory(torch_lbfgs, linear, steps=6)
    got = trajectory(nstx_lbfgs, linear, steps=6)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


def test_a_step_reads_nothing_back_from_the_device():
    x = torch.rand(3, 8, 8, requires_grad=True)
    optimizer = LBFGS([x], history_size=3)

    def closure():
        optimizer.zero_grad()
        value = ((x - 0.5) ** 4).sum()
        value.backward()
        return value

    for _ in range(5):  # the history full and wrapped
        optimizer.step(closure)
    with torch.profiler.profile() as profile:
        optimizer.step(closure)
    names = {event.key for event in profile.key_averages()}
    assert "aten::dot" in names
    assert not names & {"aten::item", "aten::_local_scalar_dense"}
