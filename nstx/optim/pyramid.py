"""Coarse-to-fine optimisation: the plan of levels and the hand-over between them.

Large outputs are reached as the classic tools reach them: optimise a small image,
upsample the result, and use it as the start of the next, larger level. The coarse
levels settle the large structures cheaply; the fine levels only refine, so they
need few iterations, and only the last level's memory matters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from omegaconf import ListConfig, OmegaConf
from torch import Tensor
from torch.nn.functional import interpolate

from nstx.errors import InputError, positive_int


@dataclass(frozen=True)
class Level:
    """One level of the plan: the longest side in pixels and its optimizer steps."""

    size: int
    iterations: int


def as_list(value: object) -> list | None:
    """A config list or a Python sequence as a list; None for anything else."""
    if isinstance(value, ListConfig):
        return list(OmegaConf.to_container(value))
    if isinstance(value, list | tuple):
        return list(value)
    return None


def sizes(
    image_size: int, scales: object = None, octaves: object = 1, octave_scale: float = 2.0
) -> list[int]:
    """The longest side of each level, coarse to fine; one level of ``image_size`` by default."""
    octaves = 1 if octaves is None else positive_int(octaves, "octaves")
    if scales is not None:
        listed = as_list(scales)
        if not listed:
            raise InputError(f"scales must be a non-empty list of sizes, e.g. [256,512,1024]; got {scales!r}")
        if octaves > 1:
            raise InputError("set either scales or octaves, not both")
        levels = [positive_int(size, "each of scales") for size in listed]
    else:
        ratio = float(octave_scale)
        if octaves > 1 and not ratio > 1:
            raise InputError(f"octave_scale must be > 1, got {ratio}")
        levels = [max(1, round(image_size / ratio**k)) for k in reversed(range(octaves))]
    if any(b <= a for a, b in pairwise(levels)):
        raise InputError(f"level sizes must grow strictly from coarse to fine, got {levels}")
    return levels


def plan(levels: Sequence[int], iterations: int, scale_iterations: object = None) -> list[Level]:
    """The levels of a run, with ``scale_iterations`` (a number or one per level) or ``iterations``."""
    if scale_iterations is None:
        counts = [iterations] * len(levels)
    elif (listed := as_list(scale_iterations)) is not None:
        if len(listed) != len(levels):
            raise InputError(
                f"scale_iterations has {len(listed)} entries for {len(levels)} levels {list(levels)}; "
                "give one per level or a single number"
            )
        counts = [positive_int(count, "each of scale_iterations") for count in listed]
    else:
        counts = [positive_int(scale_iterations, "scale_iterations")] * len(levels)
    return [Level(size, count) for size, count in zip(levels, counts, strict=True)]


def upsample(image: Tensor, shape: tuple[int, int] | list[int]) -> Tensor:
    """The previous level's result resized (bicubic) to the next level's (H, W), in [0, 1]."""
    return interpolate(image.detach(), size=tuple(shape), mode="bicubic", align_corners=False).clamp(0, 1)
