"""Correlations and style costs against hand computations on small tensors."""

import pytest
import torch

from nstx import registry

torch.manual_seed(0)
FEATURES = torch.rand(2, 3, 4, 5)  # B, C, H, W
TARGET = torch.rand(2, 3, 4, 5)


def loop_gram(f: torch.Tensor, shift: float = 0.0, centre: bool = False) -> torch.Tensor:
    """Reference statistic computed entry by entry."""
    b, c, h, w = f.shape
    m = h * w
    flat = f.reshape(b, c, m) + shift
    if centre:
        flat = flat - flat.mean(dim=2, keepdim=True)
    out = torch.zeros(b, c, c)
    for n in range(b):
        for i in range(c):
            for j in range(c):
                out[n, i, j] = sum(flat[n, i, k] * flat[n, j, k] for k in range(m)) / m
    return out


@pytest.mark.parametrize(
    ("name", "params", "reference"),
    [
        ("gram", {}, {}),
        ("covariance", {}, {"centre": True}),
        ("mean_shifted", {}, {"shift": -1.0}),
        ("mean_shifted", {"shift": 0.5}, {"shift": 0.5}),
    ],
)
def test_correlation_matches_reference(name, params, reference):
    correlation = registry.get("correlation", name)(**params)
    assert torch.allclose(correlation(FEATURES), loop_gram(FEATURES, **reference), atol=1e-6)


def test_gram_mse_equals_gatys_style_loss():
    """E_l = 1/(4 N² M²) Σ (G - A)² with unnormalised Gram matrices G = F Fᵀ."""
    gram = registry.get("correlation", "gram")()
    cost = registry.get("style_cost", "mse")(correlation=gram)
    f, s = FEATURES[:1].double(), TARGET[:1].double()
    n, m = f.shape[1], f.shape[2] * f.shape[3]
    big_g = f.reshape(n, m) @ f.reshape(n, m).T
    big_a = s.reshape(n, m) @ s.reshape(n, m).T
    gatys = ((big_g - big_a) ** 2).sum() / (4 * n**2 * m**2)
    target = cost.prepare([s], [1.0])
    assert torch.allclose(cost.score(f, target), gatys, rtol=1e-12)


def test_l1_and_frobenius_costs():
    gram = registry.get("correlation", "gram")()
    g, a = gram(FEATURES), gram(TARGET)
    l1 = registry.get("style_cost", "l1")(correlation=gram)
    assert torch.allclose(l1.score(FEATURES, l1.prepare([TARGET], [1.0])), (g - a).abs().mean())
    frob = registry.get("style_cost", "frobenius")(correlation=gram)
    expected = torch.sqrt(((g - a) ** 2).sum()) / torch.sqrt((a**2).sum())
    assert torch.allclose(frob.score(FEATURES, frob.prepare([TARGET], [1.0])), expected)


def test_cost_of_identical_features_is_zero():
    gram = registry.get("correlation", "gram")()
    for name in ("mse", "l1", "frobenius"):
        cost = registry.get("style_cost", name)(correlation=gram)
        assert cost.score(FEATURES, cost.prepare([FEATURES], [1.0])).item() == pytest.approx(0, abs=1e-7)


def test_blended_target_is_weighted_sum_of_statistics():
    gram = registry.get("correlation", "gram")()
    cost = registry.get("style_cost", "mse")(correlation=gram)
    blended = cost.prepare([FEATURES, TARGET], [0.25, 0.75])
    assert torch.allclose(blended, 0.25 * gram(FEATURES) + 0.75 * gram(TARGET))


def test_total_variation_powers():
    from nstx.loss.objective import tv_loss

    image = torch.tensor([[[[0.0, 1.0], [3.0, 3.0]]]])
    # dx: 1, 0 ; dy: 3, 2
    assert tv_loss(image, 2).item() == pytest.approx(1 + 0 + 9 + 4)
    assert tv_loss(image, 1).item() == pytest.approx(1 + 0 + 3 + 2)
    assert tv_loss(image, 1.25).item() == pytest.approx(1 + 3**1.25 + 2**1.25)
