"""Colour preservation: luminance-only transfer and histogram (mean/covariance) matching."""

import pytest
import torch

import nstx
from nstx import samples
from nstx.errors import InputError
from nstx.image import color, io


def sample(path, size=64):
    return io.to_tensor(io.resize_longest(io.open_image(path), size))


def mean_and_covariance(image):
    pixels = image.flatten(2)[0].double()
    mean = pixels.mean(dim=1)
    centred = pixels - mean[:, None]
    return mean, centred @ centred.T / pixels.shape[1]


def test_histogram_matching_gives_the_style_the_contents_mean_and_covariance():
    content, style = sample(samples.CONTENT), sample(samples.STYLE)
    matched = color.match_histogram(style, content)
    mean, covariance = mean_and_covariance(matched)
    content_mean, content_covariance = mean_and_covariance(content)
    style_mean, _ = mean_and_covariance(style)
    assert not torch.allclose(style_mean, content_mean, atol=1e-2)  # there was something to match
    assert torch.allclose(mean, content_mean, atol=1e-5)
    assert torch.allclose(covariance, content_covariance, rtol=1e-2, atol=1e-5)
    assert matched.shape == style.shape


def test_histogram_mode_hands_the_recoloured_style_to_the_run():
    # Starting from the style and not moving (lr 0), the output is the recoloured style.
    options = dict(weights="random", image_size=48, iterations=1, init="style")
    frozen = {"name": "adam", "lr": 0.0}
    recoloured = nstx.stylize(samples.CONTENT, samples.STYLE, color="histogram", optimizer=frozen, **options)
    plain = nstx.stylize(samples.CONTENT, samples.STYLE, color="none", optimizer=frozen, **options)
    content_mean, _ = mean_and_covariance(sample(samples.CONTENT, 48))
    recoloured_mean, _ = mean_and_covariance(io.to_tensor(recoloured))
    plain_mean, _ = mean_and_covariance(io.to_tensor(plain))
    assert (recoloured_mean - content_mean).abs().max() < 0.02
    assert (plain_mean - content_mean).abs().max() > 0.1


def test_luminance_mode_shows_the_network_grey_images_with_the_contents_luminance_statistics():
    content, style = sample(samples.CONTENT), sample(samples.STYLE)
    seen_content, (seen_style,), _ = color.preserve("luminance", content, [style])
    for image in (seen_content, seen_style):
        assert torch.equal(image[:, 0], image[:, 1]) and torch.equal(image[:, 1], image[:, 2])
    assert seen_style[:, 0].mean().item() == pytest.approx(seen_content[:, 0].mean().item(), abs=1e-5)
    assert seen_style[:, 0].std().item() == pytest.approx(seen_content[:, 0].std().item(), rel=1e-4)


def test_luminance_mode_keeps_the_contents_chroma():
    size = 64
    result = nstx.stylize(
        samples.CONTENT,
        samples.STYLE,
        weights="random",
        image_size=size,
        iterations=3,
        color="luminance",
        init="noise",
    )
    output = io.to_tensor(result)
    content = sample(samples.CONTENT, size)
    assert output.shape == content.shape
    # Pixels where recombining clipped a channel to 0 or 1 cannot keep their chroma.
    unclipped = ((output > 0) & (output < 1)).all(dim=1)[0]
    assert unclipped.float().mean() > 0.9
    chroma_error = (color.to_yiq(output)[0, 1:] - color.to_yiq(content)[0, 1:]).abs()
    # 8-bit rounding of each RGB channel moves I or Q by at most ~0.6 * 1/255.
    assert chroma_error[:, unclipped].max() < 0.004
    # ... while the luminance is the optimised one, grown from noise.
    assert (color.luminance(output) - color.luminance(content)).abs().mean() > 0.05


def test_unknown_colour_mode_is_refused_with_the_accepted_values():
    with pytest.raises(InputError, match="unknown color 'sepia' \\(accepted: none, luminance, histogram\\)"):
        nstx.stylize(samples.CONTENT, samples.STYLE, weights="random", image_size=32, color="sepia")
