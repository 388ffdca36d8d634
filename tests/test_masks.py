"""Spatial control: each style applies only inside its mask (guided Gram matrices)."""

import pytest
import torch
from PIL import Image

import nstx
from nstx import registry, samples
from nstx.errors import InputError
from nstx.loss import guided


@pytest.fixture(scope="module")
def black_mask(tmp_path_factory):
    path = tmp_path_factory.mktemp("masks") / "black.png"
    Image.new("L", (30, 20), 0).save(path)
    return path


@pytest.fixture(scope="module")
def second_style(tmp_path_factory):
    path = tmp_path_factory.mktemp("styles") / "red.png"
    Image.new("RGB", (40, 40), (220, 30, 30)).save(path)
    return path


def test_an_all_black_mask_for_style_b_gives_the_single_style_a_run(black_mask, second_style):
    options = dict(weights="random", image_size=48, iterations=3, seed=5)
    single = nstx.stylize(samples.CONTENT, samples.STYLE, **options)
    masked = nstx.stylize(
        samples.CONTENT, [samples.STYLE, second_style], style_masks=[None, str(black_mask)], **options
    )
    assert masked.tobytes() == single.tobytes()
    # The same with mask images instead of paths (the Python API takes both).
    in_memory = nstx.stylize(
        samples.CONTENT, [samples.STYLE, second_style], style_masks=[None, Image.open(black_mask)], **options
    )
    assert in_memory.tobytes() == single.tobytes()
    # ... and the second style does change the image where its mask is white.
    both = nstx.stylize(samples.CONTENT, [samples.STYLE, second_style], style_masks=[None, None], **options)
    assert both.tobytes() != single.tobytes()


def halves(height, width):
    left = torch.zeros(1, 1, height, width)
    left[..., : width // 2] = 1
    return left, 1 - left


def test_each_region_is_scored_against_its_own_style():
    generator = torch.Generator().manual_seed(0)
    style_a = torch.randn(1, 8, 6, 6, generator=generator)
    style_b = torch.randn(1, 8, 6, 6, generator=generator) * 3 + 1
    generated = torch.cat([style_a, style_b], dim=-1)  # A's features left, B's right
    left, right = halves(6, 12)

    def new_cost():
        return registry.get("style_cost", "mse")(correlation=registry.get("correlation", "gram")())

    matching = guided.guided_cost(new_cost, [left, right], [0.5, 0.5], (6, 12))
    swapped = guided.guided_cost(new_cost, [right, left], [0.5, 0.5], (6, 12))
    assert [region.share for region in matching.regions] == [0.5, 0.5]
    score = matching.score(generated, matching.prepare([style_a, style_b], [0.5, 0.5]))
    wrong = swapped.score(generated, swapped.prepare([style_a, style_b], [0.5, 0.5]))
    assert score.item() == pytest.approx(0.0, abs=1e-6)
    assert wrong.item() > 1.0


def test_masks_are_downsampled_to_each_layer_and_shares_follow_area_and_strength():
    left, _ = halves(8, 8)
    assert guided.region(left, (8, 8)).tolist() == [r * 8 + c for r in range(8) for c in range(4)]
    assert guided.region(left, (2, 2)).tolist() == [0, 2]
    assert guided.region(torch.ones(1, 1, 8, 8), (4, 4)) is None  # everywhere: no selection

    def new_cost():
        return registry.get("style_cost", "gaussian_w2")()

    cost = guided.guided_cost(new_cost, [left, None], [0.25, 0.75], (4, 4))
    assert [region.share for region in cost.regions] == pytest.approx([1 / 3 * 0.5, 1.0])


def test_mask_count_must_match_the_styles_and_not_every_mask_may_be_black(black_mask, second_style):
    with pytest.raises(InputError, match="style_masks has 1 entries for 2 style image"):
        nstx.stylize(samples.CONTENT, [samples.STYLE, second_style], weights="random", style_masks=[None])
    with pytest.raises(InputError, match="every style mask is black"):
        nstx.stylize(
            samples.CONTENT,
            samples.STYLE,
            weights="random",
            image_size=32,
            iterations=1,
            style_masks=[str(black_mask)],
        )
