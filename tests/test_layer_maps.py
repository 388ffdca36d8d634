"""Layer groups take a preset, a list of layers or a layer -> weight mapping, on both front ends."""

from __future__ import annotations

import pytest
import yaml

import nstx
from nstx.config.overrides import rewrite_layer_maps
from nstx.errors import InputError
from tests.support import Cli


def test_a_list_or_a_mapping_becomes_exactly_those_layers():
    assert rewrite_layer_maps(["style_layers=[relu1_1,relu3_1]", "seed=1"]) == [
        "~style_layers",
        "+style_layers.relu1_1=1.0",
        "+style_layers.relu3_1=1.0",
        "seed=1",
    ]
    assert rewrite_layer_maps(["content_layers={relu5_2:0.5}"]) == [
        "~content_layers",
        "+content_layers.relu5_2=0.5",
    ]
    assert rewrite_layer_maps(["style_layers=[]"]) == ["~style_layers", "+style_layers={}"]


def test_presets_sweeps_and_single_keys_are_left_to_hydra():
    args = ["style_layers=late", "style_layers=early,late", "+style_layers.relu2_1=0.5", "scales=[32,64]"]
    assert rewrite_layer_maps(args) == args


def test_the_command_line_list_replaces_the_preset(tmp_path):
    done = Cli(tmp_path, [])("--cfg", "job", "style_layers=[relu2_1,relu4_1]", "content_layers={relu5_2:2}")
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load(done.stdout)
    assert config["style_layers"] == {"relu2_1": 1.0, "relu4_1": 1.0}
    assert config["content_layers"] == {"relu5_2": 2}


def test_the_python_api_takes_a_list_of_layers():
    assert dict(nstx.compose(style_layers=["relu1_1", "relu3_1"]).style_layers) == {
        "relu1_1": 1.0,
        "relu3_1": 1.0,
    }


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"style_layers": 5},
            "style_layers takes a preset name, a list of layers or a layer -> weight mapping",
        ),
        ({"correlation": 5}, "correlation takes a plugin name or a mapping, got 5"),
        ({"tracking": True}, "tracking takes a mapping of enabled, uri, experiment, image_every, got True"),
    ],
)
def test_a_scalar_for_a_group_of_settings_is_one_line(options, message):
    with pytest.raises(InputError) as error:
        nstx.compose(**options)
    assert str(error.value).startswith(message)
