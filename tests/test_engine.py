"""The engine on tiny images with random weights: gradients, truncation, convergence."""

import pytest
import torch

import nstx
from nstx import registry
from nstx.encoder.backbone import FeatureExtractor
from nstx.hookspecs import hookimpl
from tests.support import FAST, backbone_of, gradient_image, inputs_of, objective_of


def test_stylize_returns_image_of_content_aspect(content_path, style_path, tmp_path):
    out = tmp_path / "out.png"
    image = nstx.stylize(content_path, style_path, output=out, **FAST)
    assert image.size == (32, 27)  # content is 48x40, longest side -> 32
    assert out.is_file()


def test_gradients_reach_the_image_only(content_path, style_path):
    cfg = nstx.compose(**FAST)
    extractor = FeatureExtractor(backbone_of(cfg), ["relu1_1", "relu2_1", "relu4_2"])
    content, styles = inputs_of(cfg, content_path, style_path)
    objective = objective_of(
        cfg, extractor, content, styles, {"relu1_1": 1.0, "relu2_1": 1.0}, {"relu4_2": 1.0}
    )
    image = content.clone().requires_grad_(True)
    objective(extractor(image), image)["total"].backward()
    assert image.grad is not None and image.grad.abs().sum() > 0
    params = list(extractor.parameters())
    assert params and all(not p.requires_grad and p.grad is None for p in params)


def test_truncation_never_computes_past_the_deepest_layer(content_path, style_path):
    cfg = nstx.compose(**FAST, style_layers={"relu1_1": 1.0, "relu3_1": 1.0}, content_layers={"relu2_2": 1.0})
    backbone = backbone_of(cfg)
    called = []
    handles = [
        module.register_forward_hook(lambda m, i, o, name=name: called.append(name))
        for name, module in backbone.layers.named_children()
    ]
    try:
        nstx.run(cfg, content=content_path, style=style_path)
    finally:
        for handle in handles:
            handle.remove()
    assert "relu3_1" in called
    order = list(backbone.layers._modules)
    assert max(order.index(name) for name in called) == order.index("relu3_1")


def test_keras_aliases_resolve_to_relu_outputs():
    backbone = backbone_of(nstx.compose(**FAST))
    assert backbone.canonical("block1_conv1") == "relu1_1"
    assert backbone.canonical("block3_pool") == "pool3"
    with pytest.raises(ValueError, match="unknown layer 'relu9_1'"):
        backbone.canonical("relu9_1")


class Recorder:
    """A lifecycle plugin that keeps every reported loss breakdown."""

    def __init__(self):
        self.steps, self.ends = [], []

    @hookimpl
    def nstx_step(self, step, losses):
        self.steps.append((step, dict(losses)))

    @hookimpl
    def nstx_run_end(self, status):
        self.ends.append(status)


@pytest.fixture
def recorder(registered):
    return registered(Recorder())


@pytest.mark.parametrize("optimizer", [{"name": "lbfgs"}, {"name": "adam", "lr": 0.05}])
def test_style_only_run_lowers_style_loss_tenfold(optimizer, recorder, content_path, style_path):
    nstx.stylize(
        content_path,
        style_path,
        **{**FAST, "image_size": 48, "iterations": 30},
        content_weight=0,
        init="noise",
        optimizer=optimizer,
    )
    first, last = recorder.steps[0][1]["style"], recorder.steps[-1][1]["style"]
    assert recorder.ends == ["FINISHED"]
    assert "content" not in recorder.steps[0][1]
    assert last < first / 10, (first, last)


def test_loss_breakdown_sums_to_total(recorder, content_path, style_path):
    nstx.stylize(content_path, style_path, **FAST, tv_weight=1.0, style_layers="even")
    step, losses = recorder.steps[-1]
    assert step == FAST["iterations"]
    layers = [k for k in losses if k.startswith("style/")]
    assert sorted(layers) == [f"style/relu{i}_1" for i in range(1, 6)]
    assert losses["style"] == pytest.approx(sum(losses[k] for k in layers), rel=1e-5)
    assert losses["total"] == pytest.approx(losses["content"] + losses["style"] + losses["tv"], rel=1e-5)


def test_same_seed_gives_identical_images(content_path, style_path):
    options = {**FAST, "init": "noise", "iterations": 3}
    first = nstx.stylize(content_path, style_path, **options)
    second = nstx.stylize(content_path, style_path, **options)
    third = nstx.stylize(content_path, style_path, **{**options, "seed": 1})
    assert first.tobytes() == second.tobytes()
    assert first.tobytes() != third.tobytes()


@pytest.mark.parametrize("mode", ["L", "RGBA", "LA", "P", "CMYK", "I;16"])
def test_any_image_mode_runs(mode, tmp_path, style_path):
    path = tmp_path / f"content.{'tif' if mode in ('CMYK', 'I;16') else 'png'}"
    image = gradient_image((40, 32), seed=3)
    if mode == "I;16":
        image = image.convert("L").point(lambda v: v * 256, "I").convert("I;16")
    else:
        image = image.convert(mode)
    image.save(path)
    result = nstx.stylize(path, style_path, **FAST)
    assert result.mode == "RGB" and result.size == (32, 26)


@pytest.mark.parametrize("init", ["noise", "content", "style"])
def test_inits_start_where_they_say(init, content_path, style_path):
    content, styles = inputs_of(nstx.compose(image_size=32), content_path, style_path)
    start = registry.get("init", init)(content, styles[0], torch.Generator().manual_seed(0))
    assert start.shape == content.shape
    assert start.min() >= 0 and start.max() <= 1
    if init == "content":
        assert torch.equal(start, content)
