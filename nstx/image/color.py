"""Colour preservation (Gatys et al. 2017, "Controlling Perceptual Factors in Neural Style Transfer").

``luminance``: the network sees only luminance (content and a luminance-matched style,
both as grey RGB); the output takes the optimised luminance and the content's chroma
(YIQ). ``histogram``: each style image is recoloured so that its RGB mean and
covariance equal the content's, so the style brings texture, not palette.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from nstx.errors import InputError
from nstx.loss.linalg import psd_power

MODES = ("none", "luminance", "histogram")

# RGB -> YIQ (NTSC), the colour space Gatys et al. 2017 use for luminance-only transfer.
RGB_TO_YIQ = torch.tensor(
    [
        [0.299, 0.587, 0.114],
        [0.595716, -0.274453, -0.321263],
        [0.211456, -0.522591, 0.311135],
    ],
    dtype=torch.float64,
)
YIQ_TO_RGB = torch.linalg.inv(RGB_TO_YIQ)

Render = Callable[[Tensor], Tensor]


def _apply(matrix: Tensor, image: Tensor) -> Tensor:
    """A 3x3 colour matrix applied to every pixel of a (B, 3, H, W) image."""
    return torch.einsum("ij,bjhw->bihw", matrix.to(image), image)


def to_yiq(image: Tensor) -> Tensor:
    """RGB (B, 3, H, W) -> YIQ: channel 0 is luminance, 1-2 are chroma."""
    return _apply(RGB_TO_YIQ, image)


def from_yiq(image: Tensor) -> Tensor:
    """YIQ (B, 3, H, W) -> RGB (not clamped)."""
    return _apply(YIQ_TO_RGB, image)


def luminance(image: Tensor) -> Tensor:
    """The Y channel (B, 1, H, W) of an RGB image."""
    return to_yiq(image)[:, :1]


def match_luminance(style: Tensor, content: Tensor) -> Tensor:
    """Shift and scale the style's luminance to the content's mean and standard deviation."""
    std = style.std().clamp_min(1e-6)
    return (style - style.mean()) * (content.std() / std) + content.mean()


def _mean_and_covariance(image: Tensor) -> tuple[Tensor, Tensor]:
    pixels = image.flatten(2)[0].double()
    mean = pixels.mean(dim=1, keepdim=True)
    centred = pixels - mean
    return mean, centred @ centred.T / pixels.shape[1]


def match_histogram(style: Tensor, content: Tensor, eps: float = 1e-5) -> Tensor:
    """Recolour ``style`` so that its RGB mean and covariance equal the content's.

    x' = Σc^½ Σs^-½ (x - μs) + μc (the "image analogies" variant of Gatys et al. 2017).
    Values are not clamped: the network sees the exact statistics. A grey style has a
    rank-one covariance: recoloured, it varies along one colour axis only.
    """
    style_mean, style_cov = _mean_and_covariance(style)
    content_mean, content_cov = _mean_and_covariance(content)
    transform = psd_power(content_cov, 0.5) @ psd_power(style_cov, -0.5, eps)
    pixels = style.flatten(2)[0].double()
    matched = transform @ (pixels - style_mean) + content_mean
    return matched.reshape(style.shape).to(style.dtype)


def grey(channel: Tensor) -> Tensor:
    """A one-channel image as RGB with three equal channels."""
    return channel.repeat(1, 3, 1, 1)


def identity(image: Tensor) -> Tensor:
    return image


def preserve(mode: str, content: Tensor, styles: Sequence[Tensor]) -> tuple[Tensor, list[Tensor], Render]:
    """What the network sees under colour mode ``mode``, and how to render the optimised image.

    Returns ``(content, styles, render)``; ``render`` maps the optimised image to the
    output image (for ``luminance``: its luminance with the content's chroma).
    """
    if mode == "none":
        return content, list(styles), identity
    if mode == "histogram":
        return content, [match_histogram(style, content) for style in styles], identity
    if mode == "luminance":
        content_yiq = to_yiq(content)
        content_y, chroma = content_yiq[:, :1], content_yiq[:, 1:]
        seen_styles = [grey(match_luminance(luminance(style), content_y)) for style in styles]

        def with_content_chroma(image: Tensor) -> Tensor:
            return from_yiq(torch.cat([luminance(image), chroma], dim=1)).clamp(0, 1)

        return grey(content_y), seen_styles, with_content_chroma
    raise InputError(f"unknown color {mode!r} (accepted: {', '.join(MODES)})")
