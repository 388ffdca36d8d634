"""A run's pictures: opened once, then resized for each level and seen through the colour mode."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image
from torch import Tensor

from nstx import samples
from nstx.encoder.backbone import FeatureExtractor
from nstx.engine.settings import Settings
from nstx.errors import InputError
from nstx.image import color, io, masks


@dataclass(frozen=True)
class LevelInputs:
    """What one level optimises against, on the run's device.

    The content and styles as the network sees them (after the colour mode), the masks at
    the content's size, and how the optimised image is rendered.
    """

    content: Tensor
    styles: list[Tensor]
    masks: list[Tensor | None] | None
    render: color.Render


def given(key: str, argument: Any, setting: Any, sample: Any) -> Any:
    """The argument, else the setting, else the bundled ``sample``; an empty string is a mistake
    (an unfinished ``content=``), not a request for the sample, which is ``null``."""
    chosen = argument if argument is not None else setting
    if isinstance(chosen, str) and not chosen.strip():
        raise InputError(
            f"{key} is empty: give an image file (or a bundled sample's name), or leave {key} "
            f"out (null) for the bundled sample"
        )
    return sample if chosen is None else chosen


@dataclass(frozen=True)
class Inputs:
    """The content and style pictures as given, their blend weights and masks."""

    content: Image.Image
    styles: list[Image.Image]
    blend: list[float]
    masks: list[Image.Image | None] | None
    name: str  # "content / style": the pictures' file names without suffix ("image" for PIL images)

    @classmethod
    def open(
        cls, settings: Settings, content: Any = None, styles: Any = None, style_masks: Any = None
    ) -> Inputs:
        """The pictures (arguments first, then the settings, then the bundled samples)."""
        limit = settings.max_pixels
        content = given("content", content, settings.content, samples.CONTENT)
        content_image = io.open_image(content, limit)
        sources = given("style", styles, settings.style, samples.STYLE)
        if isinstance(sources, str | Path | Image.Image):
            sources = [sources]
        sources = [path for source in sources for path in io.expand_directory(source)]
        if not sources:
            raise InputError(
                "style is an empty list: give one or more images, or null for the bundled sample"
            )
        style_images = [io.open_image(source, limit) for source in sources]
        weights = blend_weights(settings.style_blend, len(style_images))
        mask_sources = style_masks if style_masks is not None else settings.style_masks
        opened_masks = masks.open_masks(mask_sources, len(style_images), limit)
        name = f"{stem(content)} / {'+'.join(stem(source) for source in sources)}"
        return cls(content_image, style_images, weights, opened_masks, name)

    def resized(self, settings: Settings, size: int) -> tuple[Tensor, list[Tensor]]:
        """Content resized to longest side ``size``; styles to ``size * style_scale``."""
        style_size = max(1, round(size * settings.style_scale))
        content = io.to_tensor(io.resize_longest(self.content, size))
        return content, [io.to_tensor(io.resize_longest(style, style_size)) for style in self.styles]

    def level(self, settings: Settings, size: int) -> LevelInputs:
        """The inputs of the level of longest side ``size``, on the run's device."""
        device = settings.device
        content, styles = self.resized(settings, size)
        seen_content, seen_styles, render = color.preserve(
            settings.color, content.to(device), [style.to(device) for style in styles]
        )
        level_masks = None
        if self.masks is not None:
            resized = masks.resize_masks(self.masks, seen_content.shape[-2:])
            level_masks = [None if mask is None else mask.to(device) for mask in resized]
        return LevelInputs(seen_content, seen_styles, level_masks, render)

    def check_size(self, settings: Settings, extractor: FeatureExtractor) -> None:
        """Refuse a coarsest level too small for the deepest layer in use."""
        content, styles = self.resized(settings, settings.levels[0].size)
        smallest = min(min(t.shape[-2:]) for t in [content, *styles])
        if smallest < extractor.min_size:
            setting = f"{settings.coarsest_setting()} (style_scale {settings.style_scale})"
            raise InputError(
                f"{setting} gives a {smallest}px side, below the {extractor.min_size}px "
                f"that layer {extractor.deepest} needs"
            )


def stem(source: Any) -> str:
    """What a picture is called in a run's name: its file name without the suffix."""
    return "image" if isinstance(source, Image.Image) else Path(str(source)).stem


def blend_weights(given: Sequence[float] | None, styles: int) -> list[float]:
    """The styles' weights normalised to sum 1 (equal when not given), one per style image."""
    if given is None:
        return [1.0 / styles] * styles
    if len(given) != styles:
        raise InputError(f"style_blend has {len(given)} weights for {styles} style image(s)")
    return [w / sum(given) for w in given]
