"""Coarse-to-fine levels: sizes, steps across levels, and each level starting from the last."""

from itertools import pairwise

import pytest
import torch

import nstx
from nstx import samples
from nstx.errors import InputError
from nstx.image import io
from nstx.optim.pyramid import upsample
from tests.nstx_helpers import recording
from tests.support import settings_of


def plan_of(config):
    return settings_of(config).levels


def test_plan_from_scales_octaves_and_per_level_iterations():
    plan = plan_of(nstx.compose(scales=[32, 48, 64], scale_iterations=[3, 2, 1]))
    assert [(level.size, level.iterations) for level in plan] == [(32, 3), (48, 2), (64, 1)]
    plan = plan_of(nstx.compose(["octaves=3", "image_size=256", "iterations=7"]))
    assert [(level.size, level.iterations) for level in plan] == [(64, 7), (128, 7), (256, 7)]
    plan = plan_of(nstx.compose(octaves=2, image_size=300, octave_scale=1.5, scale_iterations=4))
    assert [(level.size, level.iterations) for level in plan] == [(200, 4), (300, 4)]
    assert [level.size for level in plan_of(nstx.compose(image_size=96))] == [96]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"scales": [64, 32]}, "level sizes must grow strictly from coarse to fine, got \\[64, 32\\]"),
        ({"scales": [32, 64], "octaves": 2}, "set either scales or octaves, not both"),
        ({"scales": [32, 64], "scale_iterations": [1, 2, 3]}, "scale_iterations has 3 entries for 2 levels"),
        ({"scales": [32, -64]}, "each of scales must be a positive integer, got -64"),
        ({"octaves": 0}, "octaves must be a positive integer, got 0"),
        ({"octaves": 2, "octave_scale": 1.0}, "octave_scale must be > 1"),
    ],
)
def test_bad_plans_are_refused(options, message):
    with pytest.raises(InputError, match=message):
        plan_of(nstx.compose(**options))


def test_a_three_level_run_counts_steps_across_levels_and_ends_at_the_final_size():
    with recording() as recorded:
        result = nstx.run(
            nstx.compose(
                weights="random", scales=[32, 48, 64], scale_iterations=[2, 2, 1], tracking={"enabled": False}
            )
        )
    assert result.image.size == (64, 43) and result.steps == 5
    assert recorded.runs[0].total_steps == 5  # one run, one progress bar, one curve
    assert recorded.steps == [1, 2, 3, 4, 5]
    assert [image.size for image in recorded.images] == [(32, 21), (32, 21), (48, 32), (48, 32), (64, 43)]


def test_each_level_starts_from_the_upsampled_result_of_the_previous_one():
    # Noise start and a frozen optimizer (lr 0): whatever a level shows is what it started from.
    config = nstx.compose(
        weights="random",
        scales=[32, 48, 64],
        scale_iterations=1,
        init="noise",
        optimizer={"name": "adam", "lr": 0.0},
        tracking={"enabled": False},
    )
    with recording() as recorded:
        nstx.run(config)
    shown = [io.to_tensor(image) for image in recorded.images]
    for previous, current in pairwise(shown):
        expected = upsample(previous, current.shape[-2:])
        assert (current - expected).abs().mean() < 1 / 255
        assert (current - expected).abs().max() < 4 / 255
        # A fresh start would look nothing like it (uniform noise differs by ~1/3 on average).
        fresh = torch.rand(current.shape, generator=torch.Generator().manual_seed(0))
        assert (current - fresh).abs().mean() > 0.2


def test_scales_replace_image_size_for_the_output():
    image = nstx.stylize(
        samples.CONTENT, samples.STYLE, weights="random", image_size=999, scales=[32, 40], iterations=1
    )
    assert image.size == (40, 27)


def test_a_coarsest_level_too_small_for_the_deepest_layer_names_the_setting():
    with pytest.raises(InputError, match=r"scales\[0\] 8 \(style_scale 1\.0\) gives a 5px side"):
        nstx.stylize(samples.CONTENT, samples.STYLE, weights="random", scales=[8, 64], iterations=1)
    with pytest.raises(InputError, match="image_size 64 with octaves 4 \\(coarsest level 8\\)"):
        nstx.stylize(samples.CONTENT, samples.STYLE, weights="random", image_size=64, octaves=4)
