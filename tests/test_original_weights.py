"""The original VGG19 weights, the default losses on them, and the judge (trained weights, CPU, 64-96 px)."""

from __future__ import annotations

import importlib.resources
import logging
import warnings

import pytest
import torch

import nstx
from nstx import samples
from nstx.encoder import weights
from nstx.encoder.vgg import build_vgg
from nstx.image.io import open_image, resize_longest
from nstx.judge import ruler as judge

# The defaults keep the judge's content error below this (docs/concepts.md, "Defaults").
CONTENT_LEVEL = 1.5


@pytest.fixture(scope="module")
def quantised() -> dict[str, torch.Tensor]:
    source = importlib.resources.files(weights.ORIGINAL_PACKAGE) / weights.ORIGINAL_FILE
    with importlib.resources.as_file(source) as path:
        return torch.load(path, weights_only=True)


def test_the_file_dequantises_to_table_of_codes_in_every_layer(quantised):
    state = weights.dequantise(quantised)
    assert len(state) == 32  # 16 convolutions, weight and bias each
    for key in (k for k in quantised if k.endswith("_W_q")):
        name = key.removesuffix("_W_q")
        block, index = name.removeprefix("block").split("_conv")
        table, codes = quantised[f"{name}_W_table"], quantised[key]
        assert codes.dtype == torch.uint8 and table.shape == (256,)
        weight = state[f"conv{block}_{index}.weight"]
        assert weight.shape == codes.shape
        assert torch.equal(weight, table[codes.long()])
        assert torch.equal(state[f"conv{block}_{index}.bias"], quantised[f"{name}_b"])


def test_vgg19_loads_them_with_the_shapes_of_the_architecture(quantised):
    backbone = build_vgg("vgg19", "original", 0, "auto")
    assert backbone.weights == "original"
    layers = backbone.layers
    assert layers.conv1_1.weight.shape == (64, 3, 3, 3)
    assert layers.conv5_4.weight.shape == (512, 512, 3, 3)
    table, codes = quantised["block3_conv2_W_table"], quantised["block3_conv2_W_q"]
    assert torch.equal(layers.conv3_2.weight, table[codes.long()])


def test_original_weights_take_caffe_input_bgr_0_255_mean_subtracted():
    normalize = build_vgg("vgg19", "original", 0, "auto").normalize
    pixel = torch.tensor([0.2, 0.4, 0.6]).view(1, 3, 1, 1)  # RGB in [0, 1]
    expected = torch.tensor([0.6 * 255 - 103.939, 0.4 * 255 - 116.779, 0.2 * 255 - 123.68])
    assert torch.allclose(normalize(pixel).flatten(), expected, atol=1e-4)


def test_auto_means_the_original_weights_offline_without_a_warning(monkeypatch, caplog):
    def no_download(*args, **kwargs):
        raise AssertionError("weights=auto tried to download")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    with warnings.catch_warnings(), caplog.at_level(logging.WARNING):
        warnings.simplefilter("error")
        state, used = weights.resolve("auto", "https://example.invalid/vgg19.pth", original=True)
    assert used == "original" and len(state) == 32
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


def test_original_is_refused_for_vgg16_in_one_line():
    with pytest.raises(nstx.errors.InputError, match="weights=original exists for vgg19 only"):
        build_vgg("vgg16", "original", 0, "auto")


@pytest.fixture(scope="module")
def content_96():
    return resize_longest(open_image(samples.CONTENT), 96)


def test_the_defaults_paint_the_content_in_the_style(content_96):
    """30 default steps at 96 px cut the style error at least 3x; the content stays recognisable."""
    before = judge.evaluate(content_96, samples.CONTENT, samples.STYLE)
    image = nstx.stylize(samples.CONTENT, samples.STYLE, image_size=96, iterations=30)
    after = judge.evaluate(image, samples.CONTENT, samples.STYLE)
    assert before["content"] < 1e-9
    assert after["style"] * 3 <= before["style"]
    assert after["content"] < CONTENT_LEVEL


@pytest.mark.parametrize("style_weight", [0.1, 1.0, 10.0, 100.0, 1000.0])
def test_lbfgs_does_not_diverge_across_five_decades_of_style_weight(style_weight, content_96):
    """The loss falls steadily and stays finite from a hundredth to a hundred times the default."""
    from tests.nstx_helpers import recording

    with recording() as recorder:
        nstx.stylize(samples.CONTENT, samples.STYLE, image_size=64, iterations=20, style_weight=style_weight)
    totals = [losses["total"] for losses in recorder.losses]
    assert all(torch.isfinite(torch.tensor(totals)))
    assert totals[-1] < 0.8 * totals[0]
    assert max(totals[5:]) < totals[0]  # no excursion above the start once under way


def test_lbfgs_reaches_a_lower_loss_than_adam_in_the_same_steps():
    from tests.nstx_helpers import recording

    finals = {}
    for optimizer in ("lbfgs", "adam"):
        with recording() as recorder:
            nstx.stylize(samples.CONTENT, samples.STYLE, image_size=64, iterations=20, optimizer=optimizer)
        finals[optimizer] = recorder.losses[-1]["total"]
    assert finals["lbfgs"] < finals["adam"]


def test_strong_wolfe_line_search_converges_too():
    from tests.nstx_helpers import recording

    with recording() as recorder:
        nstx.stylize(
            samples.CONTENT,
            samples.STYLE,
            image_size=64,
            iterations=10,
            optimizer={"name": "lbfgs", "line_search": "strong_wolfe"},
        )
    totals = [losses["total"] for losses in recorder.losses]
    assert totals[-1] < 0.5 * totals[0]


def test_the_judge_scores_identical_images_zero(content_96):
    style = resize_longest(open_image(samples.STYLE), 96)
    assert judge.evaluate(content_96, content_96, style)["content"] == pytest.approx(0, abs=1e-9)
    assert judge.evaluate(style, content_96, style)["style"] == pytest.approx(0, abs=1e-6)  # fp32 features


def test_the_judge_is_symmetric_in_the_order_of_blended_styles(content_96):
    second = open_image(samples.HERE / "hubble_deep_field.jpg")
    forward = judge.evaluate(content_96, content_96, [samples.STYLE, second], blend=[0.3, 0.7])
    backward = judge.evaluate(content_96, content_96, [second, samples.STYLE], blend=[0.7, 0.3])
    assert forward["style"] == pytest.approx(backward["style"], rel=1e-12)


def test_the_judge_is_fixed_whatever_the_run_used(content_96):
    """A run with other plugins is scored by the same network and layers: the scores it reports
    are what evaluate() says of its image."""
    from tests.nstx_helpers import recording

    with recording() as recorder:
        result = nstx.run(
            nstx.compose(
                image_size=64,
                iterations=3,
                correlation="covariance",
                pooling="avg",
                style_layers="late",
                tracking={"enabled": False},
            ),
            content=samples.CONTENT,
            style=samples.STYLE,
        )
    assert recorder.runs[0].tags["weights"] == "original"
    assert result.scores == pytest.approx(judge.evaluate(result.image, samples.CONTENT, samples.STYLE))
