"""The raw-feature style costs: sliced Wasserstein and the Gaussian 2-Wasserstein (Bures) distance."""

import math

import pytest
import torch

from nstx import registry
from tests.nstx_helpers import recording


def cost(name, **params):
    return registry.get("style_cost", name)(correlation=None, **params)


def features(seed, channels=4, height=6, width=5, scale=1.0, shift=0.0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(1, channels, height, width, generator=generator) * scale + shift


def test_sliced_wasserstein_is_zero_for_identical_features_and_positive_otherwise():
    swd = cost("sliced_wasserstein")
    style = features(0)
    target = swd.prepare([style], [1.0])
    assert swd.score(style.clone(), target).item() == 0.0
    assert swd.score(features(1), target).item() > 0
    assert swd.score(features(0, shift=0.5), target).item() > 0


def test_sliced_wasserstein_compares_distributions_not_positions():
    swd = cost("sliced_wasserstein")
    style = features(0)
    target = swd.prepare([style], [1.0])
    shuffled = style.flatten(2)[..., torch.randperm(30)].reshape(style.shape)
    assert swd.score(shuffled, target).item() == pytest.approx(0.0, abs=1e-10)
    # A style with twice as many positions of the same distribution is the same target.
    doubled = swd.prepare([torch.cat([style, style], dim=-1)], [1.0])
    assert swd.score(style, doubled).item() == pytest.approx(0.0, abs=1e-10)


def test_sliced_wasserstein_redraws_projections_each_step_from_its_seed():
    style, generated = features(0), features(1)
    first, second = cost("sliced_wasserstein", seed=3), cost("sliced_wasserstein", seed=3)
    target = first.prepare([style], [1.0])
    scores = [first.score(generated, target).item() for _ in range(3)]
    assert len(set(scores)) == 3  # new directions every call
    assert [second.score(generated, target).item() for _ in range(3)] == scores  # same seed, same draws
    assert cost("sliced_wasserstein", seed=4).score(generated, target).item() != scores[0]


def test_sliced_wasserstein_blend_is_the_weighted_mixture():
    swd = cost("sliced_wasserstein", projections=8)
    a, b = features(0), features(1, shift=3.0)
    only_a, blended = swd.prepare([a], [1.0]), swd.prepare([a, b], [1.0, 0.0])
    assert torch.equal(only_a.features, blended.features) and torch.equal(only_a.mass, blended.mass)
    # Half of A's positions and half of B's make a sample of the 50/50 mixture.
    half = torch.cat([a[..., :3, :], b[..., :3, :]], dim=-2)
    mixture = swd.prepare([a, b], [0.5, 0.5])
    assert swd.score(half, mixture).item() < 0.1 * swd.score(a, mixture).item()


def sqrtm_2x2(m):
    """Square root of a 2x2 SPD matrix: (M + sqrt(det M) I) / sqrt(tr M + 2 sqrt(det M))."""
    s = math.sqrt(m[0][0] * m[1][1] - m[0][1] * m[1][0])
    t = math.sqrt(m[0][0] + m[1][1] + 2 * s)
    return [[(m[0][0] + s) / t, m[0][1] / t], [m[1][0] / t, (m[1][1] + s) / t]]


def matmul(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(2)) for j in range(2)] for i in range(2)]


def moments(points):
    n = len(points)
    mean = [sum(p[i] for p in points) / n for i in range(2)]
    cov = [[sum((p[i] - mean[i]) * (p[j] - mean[j]) for p in points) / n for j in range(2)] for i in range(2)]
    return mean, cov


def test_gaussian_w2_matches_a_hand_computation_with_2x2_covariances():
    generated = [(1.0, 2.0), (3.0, 1.0), (0.0, -1.0), (2.0, 2.5)]
    style = [(0.5, 0.0), (-1.0, 1.0), (2.0, 3.0), (1.5, -0.5), (0.0, 2.0), (1.0, 1.0)]
    mean_g, cov_g = moments(generated)
    mean_s, cov_s = moments(style)
    root_s = sqrtm_2x2(cov_s)
    cross = matmul(matmul(root_s, cov_g), root_s)
    bures = (
        cov_g[0][0]
        + cov_g[1][1]
        + cov_s[0][0]
        + cov_s[1][1]
        - 2
        * math.sqrt(
            cross[0][0] + cross[1][1] + 2 * math.sqrt(cross[0][0] * cross[1][1] - cross[0][1] * cross[1][0])
        )
    )
    expected = ((mean_g[0] - mean_s[0]) ** 2 + (mean_g[1] - mean_s[1]) ** 2 + bures) / 2  # per channel

    def as_features(points):  # (1, C=2, 1, N)
        return torch.tensor(points, dtype=torch.float32).T.reshape(1, 2, 1, len(points))

    w2 = cost("gaussian_w2")
    value = w2.score(as_features(generated), w2.prepare([as_features(style)], [1.0]))
    assert value.item() == pytest.approx(expected, rel=1e-5)


def test_gaussian_w2_is_zero_for_identical_features_and_sees_mean_and_spread():
    w2 = cost("gaussian_w2")
    style = features(0, channels=3, height=10, width=10)
    target = w2.prepare([style], [1.0])
    assert w2.score(style, target).item() == pytest.approx(0.0, abs=1e-4)
    assert w2.score(style + 1.0, target).item() == pytest.approx(1.0, rel=1e-3)  # |Δμ|² / C = 3 / 3
    assert w2.score(style * 2.0, target).item() > 0.5


def test_gaussian_w2_blend_fits_the_mixture_and_has_finite_gradients():
    w2 = cost("gaussian_w2")
    a, b = features(0), features(1, scale=2.0, shift=1.0)
    only_a, blended = w2.prepare([a], [1.0]), w2.prepare([a, b], [1.0, 0.0])
    for x, y in zip(only_a, blended, strict=True):
        assert torch.allclose(x, y)
    both = torch.cat([a, b], dim=-1)  # equal numbers of positions: the 50/50 mixture itself
    assert w2.score(both, w2.prepare([a, b], [0.5, 0.5])).item() == pytest.approx(0.0, abs=1e-4)
    generated = features(2).requires_grad_(True)
    w2.score(generated, only_a).backward()
    assert torch.isfinite(generated.grad).all() and generated.grad.abs().sum() > 0


@pytest.mark.parametrize("name", ["sliced_wasserstein", "gaussian_w2"])
def test_raw_feature_costs_drive_a_run(name):
    import nstx
    from nstx import samples

    # Many projections keep the re-drawn sliced estimate steady enough for L-BFGS.
    options = {"projections": 512} if name == "sliced_wasserstein" else {}
    with recording() as recorded:
        nstx.stylize(
            samples.CONTENT,
            samples.STYLE,
            weights="random",
            image_size=40,
            iterations=5,
            style_cost={"name": name, **options},
        )
    style = [losses["style"] for losses in recorded.losses]
    assert all(math.isfinite(value) for value in style)
    assert style[-1] < style[0]


def test_features_with_equal_gram_matrices_are_told_apart_by_the_distribution_costs():
    # One channel: values 0 or 2 (half each) versus a constant sqrt(2). Both have E[f²] = 2.
    spiky = torch.tensor([0.0, 2.0] * 8).reshape(1, 1, 4, 4)
    flat = torch.full((1, 1, 4, 4), math.sqrt(2.0))
    gram = registry.get("style_cost", "mse")(correlation=registry.get("correlation", "gram")())
    assert gram.score(flat, gram.prepare([spiky], [1.0])).item() == pytest.approx(0.0, abs=1e-6)
    for name in ("sliced_wasserstein", "gaussian_w2"):
        measure = cost(name)
        assert measure.score(flat, measure.prepare([spiky], [1.0])).item() > 0.1
