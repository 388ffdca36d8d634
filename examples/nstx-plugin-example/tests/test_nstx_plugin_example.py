"""Tests of the example plugin: found by name, configurable, and usable in a run."""

import pytest
import torch

import nstx
from nstx import registry, samples
from nstx.config.store import plugin_options
from nstx.image import io

pytest.importorskip("nstx_plugin_example", reason="not installed: pip install ./examples/nstx-plugin-example")


def test_both_plugins_are_registered_by_name_through_the_entry_point():
    assert registry.default().entry("correlation", "pearson").plugin == "example"
    assert registry.default().entry("style_cost", "huber").plugin == "example"


def test_their_keyword_arguments_are_their_config_options():
    assert plugin_options(registry.default().entry("correlation", "pearson")) == {"eps": 1e-5}
    assert plugin_options(registry.default().entry("style_cost", "huber")) == {"delta": 1.0}


def test_pearson_coefficients_are_one_on_the_diagonal_and_within_minus_one_and_one():
    features = torch.randn(1, 5, 7, 7, generator=torch.Generator().manual_seed(0))
    coefficients = registry.default().entry("correlation", "pearson").make(eps=0.0)(features * 10 + 3)
    assert torch.allclose(coefficients.diagonal(dim1=-2, dim2=-1), torch.ones(1, 5), atol=1e-5)
    assert coefficients.abs().max() <= 1 + 1e-5


def test_huber_is_zero_for_equal_statistics_and_linear_far_away():
    gram = registry.default().entry("correlation", "gram").make()
    huber = registry.default().entry("style_cost", "huber").make(correlation=gram, delta=1.0)
    target = torch.zeros(1, 3, 3)
    assert huber.distance(target, target).item() == 0.0
    assert huber.distance(target + 10, target).item() == pytest.approx(9.5)  # |d| - delta / 2


def test_a_run_with_both_plugins_moves_the_image_towards_the_style():
    config = nstx.compose(
        weights="random",
        image_size=32,
        iterations=3,
        correlation="pearson",
        style_cost={"name": "huber", "delta": 0.5},
        tracking={"enabled": False},
    )
    result = nstx.run(config, content=samples.CONTENT, style=samples.STYLE)
    assert config.style_cost.delta == 0.5
    assert 0 < result.losses["style"] < float("inf")
    content = io.resize_longest(io.open_image(samples.CONTENT), 32)
    assert result.image.size == content.size and result.image.tobytes() != content.tobytes()
