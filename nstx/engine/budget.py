"""Whether a run fits in memory, estimated from its pixel counts before anything is allocated.

A run's memory grows with the pixels of its finest level (docs/large-images.md#how-much-memory-a-size-needs):
the image being optimised keeps the backbone's activations for the backward pass, measured at
2.6 (Adam) to 3.7 (L-BFGS) GiB per megapixel on CPU with VGG19 at the default layers, and each
style image's features are computed once, without gradients, at about 0.7 GiB per megapixel.
The estimate takes less than those figures, so a size it refuses cannot fit, while a size close
to the limit can still run out of memory later (the run then ends with one line, not a
traceback). Nothing is refused where the memory left is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from nstx import memory
from nstx.engine.inputs import Inputs
from nstx.engine.settings import Settings
from nstx.errors import InputError
from nstx.image import io

OPTIMISED_GIB_PER_MEGAPIXEL = 2.5
STYLE_GIB_PER_MEGAPIXEL = 0.5
BACKBONE_BYTES = memory.GIB // 4  # the weights, built once, and the targets


@dataclass(frozen=True)
class Demand:
    """What one image of the finest level asks for: the setting, its pixels and the estimate."""

    setting: str
    size: tuple[int, int]
    gib_per_megapixel: float

    @property
    def bytes(self) -> int:
        width, height = self.size
        return BACKBONE_BYTES + round(width * height / 1e6 * self.gib_per_megapixel * memory.GIB)


def demands(settings: Settings, inputs: Inputs) -> list[Demand]:
    """The content at the output's size and each style at its own (``style_scale`` times that)."""
    size = settings.levels[-1].size
    style_size = max(1, round(size * settings.style_scale))
    content = Demand(
        settings.finest_setting(), io.fitted(inputs.content.size, size), OPTIMISED_GIB_PER_MEGAPIXEL
    )
    styles = [
        Demand(
            f"style_scale {settings.style_scale}", io.fitted(style.size, style_size), STYLE_GIB_PER_MEGAPIXEL
        )
        for style in inputs.styles
    ]
    return [content, *styles]


def capacity(device: torch.device) -> tuple[int | None, str]:
    """The memory a run on ``device`` can still use, and where it is, for the message."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free, f"free on {device} ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return memory.available(), "available on this machine"
    return None, ""


def check_memory(settings: Settings, inputs: Inputs) -> None:
    """Refuse, before any allocation, a size whose working set cannot fit in the device's memory."""
    limit, where = capacity(settings.device)
    if limit is None:
        return
    largest = max(demands(settings, inputs), key=lambda demand: demand.bytes)
    if largest.bytes > limit:
        width, height = largest.size
        raise InputError(
            f"{largest.setting} makes a {width}x{height} image that needs about {memory.gib(largest.bytes)} "
            f"({largest.gib_per_megapixel} GiB per megapixel), above the {memory.gib(limit)} of memory "
            f"{where}; lower it, or run where there is more memory"
        )
