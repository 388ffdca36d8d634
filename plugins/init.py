"""Starting images: white noise (Gatys), the content, the style, or any picture, at the content's size."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nstx.hookspecs import hookimpl

if TYPE_CHECKING:
    from torch import Generator, Tensor


@hookimpl
def nstx_register_init(register):
    register("noise", noise)
    register("content", content)
    register("style", style)
    register("image", image)


def noise(content: Tensor, style: Tensor, generator: Generator) -> Tensor:
    """Uniform white noise in [0, 1], seeded."""
    import torch

    return torch.rand(content.shape, generator=generator).to(content.device)


def content(content: Tensor, style: Tensor, generator: Generator) -> Tensor:
    """The content image itself: converges fastest and keeps the layout."""
    return content.clone()


def style(content: Tensor, style: Tensor, generator: Generator) -> Tensor:
    """The (first) style image resized to the content's size."""
    from torch.nn.functional import interpolate

    return interpolate(style, size=content.shape[-2:], mode="bicubic", antialias=True).clamp(0, 1)


def image(content: Tensor, style: Tensor, generator: Generator, path: str | None = None) -> Tensor:
    """A given picture (``init=photo.jpg`` or ``init=image init.path=photo.jpg``), resized to the content."""
    from PIL import Image

    from nstx.errors import InputError
    from nstx.image import io

    if not path:
        raise InputError("init=image needs init.path=<image file> (or pass init=<image file>)")
    height, width = content.shape[-2:]
    picture = io.open_image(path).resize((width, height), Image.Resampling.LANCZOS)
    return io.to_tensor(picture).to(content.device)
