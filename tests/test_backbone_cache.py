"""Sweeps reuse the backbone: one build and one weights load per configuration and process."""

import nstx
from nstx.encoder import weights
from nstx.engine import assemble
from tests.support import FAST


def test_backbone_is_built_once_per_backbone_weights_pooling_device(monkeypatch, content_path, style_path):
    loads = []
    resolve = weights.resolve
    monkeypatch.setattr(weights, "resolve", lambda *args, **kw: loads.append(args) or resolve(*args, **kw))
    monkeypatch.setattr(assemble, "_backbones", {})

    fast = {**FAST, "judge": False}  # the judge's own network (nstx.judge) is not the run's backbone
    nstx.stylize(content_path, style_path, **fast)
    nstx.stylize(content_path, style_path, **fast, correlation="covariance", style_layers="late")
    assert len(loads) == 1
    assert len(assemble._backbones) == 1

    nstx.stylize(content_path, style_path, **fast, pooling="avg")
    assert len(loads) == 2
    assert len(assemble._backbones) == 2
