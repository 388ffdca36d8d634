"""What a run returns to a Hydra sweeper: the weighted total, or unweighted distances."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from nstx.cli.sweeper import objective_names, objective_value
from nstx.errors import InputError


def config(**values):
    base = {
        "objective": "total",
        "content_weight": 2.0,
        "style_weight": 10.0,
        "style_layers": {"block1_conv1": 0.5, "relu2_1": 0.0, "relu3_1": 2.0},
    }
    return OmegaConf.create(base | values)


# Weighted breakdown as the engine reports it: zero-weight layers are left out and
# layers appear under canonical names (block1_conv1 is relu1_1's alias).
LOSSES = {
    "content": 2.0 * 7.0,
    "style/relu1_1": 10.0 * 0.5 * 3.0,
    "style/relu3_1": 10.0 * 2.0 * 4.0,
    "style": 10.0 * 0.5 * 3.0 + 10.0 * 2.0 * 4.0,
    "total": 2.0 * 7.0 + 10.0 * 0.5 * 3.0 + 10.0 * 2.0 * 4.0,
}


def test_total_is_the_default():
    cfg = config()
    assert objective_value(objective_names(cfg), cfg, LOSSES) == LOSSES["total"]


def test_content_and_style_undo_the_weights():
    cfg = config(objective=["content", "style"])
    assert objective_value(objective_names(cfg), cfg, LOSSES) == pytest.approx([7.0, 3.0 + 4.0])


def test_unknown_objective_names_the_accepted_ones():
    with pytest.raises(InputError, match=r"unknown objective 'loss' \(accepted: total, content, style"):
        objective_names(config(objective="loss"))


def test_a_distance_needs_its_weight():
    with pytest.raises(InputError, match="objective 'content' needs content_weight > 0"):
        objective_names(config(objective="content", content_weight=0.0))
