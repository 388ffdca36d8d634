"""Style masks: one greyscale picture per style image says where on the content it applies.

Masks are stretched to the content's size; a ``null`` entry means "everywhere". How the
style costs use them is :mod:`nstx.loss.guided`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from PIL import Image
from torch import Tensor

from nstx.errors import InputError
from nstx.image import io

MaskSource = str | os.PathLike[str] | Image.Image | None


def open_masks(sources: Sequence[MaskSource] | None, styles: int, max_pixels: int) -> list | None:
    """The mask images (greyscale PIL, or None for "everywhere"), one per style, or None."""
    if sources is None:
        return None
    if isinstance(sources, str | os.PathLike | Image.Image):
        sources = [sources]
    sources = list(sources)
    if len(sources) != styles:
        raise InputError(
            f"style_masks has {len(sources)} entries for {styles} style image(s); "
            "give one mask per style (null for everywhere)"
        )
    masks = [None if src is None else io.open_image(src, max_pixels).convert("L") for src in sources]
    if all(mask is not None and mask.getextrema()[1] < 128 for mask in masks):
        raise InputError("every style mask is black: no region of the content gets a style")
    return masks


def resize_masks(masks: Sequence[Image.Image | None], shape: Sequence[int]) -> list[Tensor | None]:
    """Each mask as a (1, 1, H, W) tensor in [0, 1] at the content's (H, W)."""
    height, width = shape
    return [
        None if mask is None else io.to_tensor(mask.resize((width, height), Image.Resampling.BILINEAR))
        for mask in masks
    ]
