"""Several style images mixed with blend weights into one target per layer."""

import pytest
import torch
from PIL import Image

import nstx
from nstx import samples
from nstx.encoder.backbone import FeatureExtractor
from nstx.engine.inputs import blend_weights
from nstx.errors import InputError
from tests.support import backbone_of, inputs_of, objective_of, settings_of


@pytest.fixture(scope="module")
def second_style(tmp_path_factory):
    path = tmp_path_factory.mktemp("styles") / "stripes.png"
    Image.new("RGB", (48, 40), (200, 40, 30)).save(path)
    stripes = Image.open(path).copy()
    for x in range(0, 48, 6):
        stripes.paste((20, 60, 220), (x, 0, x + 3, 40))
    stripes.save(path)
    return path


def style_targets(config, styles, blend):
    """Each style layer's target as the engine builds it."""
    settings = settings_of(config)
    style_layers, content_layers = settings.style_layers, settings.content_layers
    extractor = FeatureExtractor(backbone_of(config), [*style_layers, *content_layers])
    content, style_tensors = inputs_of(config, samples.CONTENT, styles)
    objective = objective_of(config, extractor, content, style_tensors, style_layers, content_layers, blend)
    return {layer: term.target for layer, term in objective.style_terms.items()}


def test_blend_weights_one_zero_give_the_first_styles_targets_and_halves_the_average(second_style):
    config = nstx.compose(weights="random", image_size=40)
    first = style_targets(config, [samples.STYLE], [1.0])
    second = style_targets(config, [second_style], [1.0])
    only_first = style_targets(config, [samples.STYLE, second_style], [1.0, 0.0])
    halves = style_targets(config, [samples.STYLE, second_style], [0.5, 0.5])
    for layer in first:
        assert torch.equal(only_first[layer], first[layer])
        assert torch.allclose(halves[layer], (first[layer] + second[layer]) / 2, rtol=1e-6)
        assert not torch.allclose(first[layer], second[layer])


@pytest.mark.parametrize("name", ["sliced_wasserstein", "gaussian_w2"])
def test_raw_feature_costs_blend_one_zero_is_the_first_style(name, second_style):
    config = nstx.compose(weights="random", image_size=40, style_cost=name)
    first = style_targets(config, [samples.STYLE], [1.0])
    only_first = style_targets(config, [samples.STYLE, second_style], [1.0, 0.0])
    for layer in first:
        for mine, theirs in zip(only_first[layer], first[layer], strict=True):
            assert torch.allclose(mine, theirs)


def test_style_blend_from_the_command_line_is_normalised_to_sum_one():
    config = nstx.compose(["style=[a.jpg,b.jpg]", "style_blend=[7,3]"])
    assert list(config.style) == ["a.jpg", "b.jpg"]
    assert blend_weights(settings_of(config).style_blend, 2) == pytest.approx([0.7, 0.3])
    assert blend_weights(settings_of(nstx.compose()).style_blend, 3) == pytest.approx([1 / 3] * 3)


@pytest.mark.parametrize(
    ("blend", "message"),
    [
        ([0.5], "style_blend has 1 weights for 2 style image"),
        ([1, -1], "style_blend weights must be finite, >= 0 and not all 0"),
        ([0, 0], "style_blend weights must be finite, >= 0 and not all 0"),
        (["x", 1], "style_blend must be a list of numbers"),
    ],
)
def test_bad_blend_weights_are_refused(blend, message):
    with pytest.raises(InputError, match=message):
        blend_weights(settings_of(nstx.compose(style_blend=blend)).style_blend, 2)


def test_a_blended_run_differs_from_each_single_style_run(second_style):
    options = dict(weights="random", image_size=40, iterations=2)
    blended = nstx.stylize(samples.CONTENT, [samples.STYLE, second_style], style_blend=[0.7, 0.3], **options)
    single = nstx.stylize(samples.CONTENT, samples.STYLE, **options)
    assert blended.size == single.size
    assert blended.tobytes() != single.tobytes()
