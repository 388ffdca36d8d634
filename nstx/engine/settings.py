"""A run's settings, parsed and checked once from the composed config.

Everything below the run takes these values and never reads the config again; bad values
raise :class:`InputError` here, before any work. (Lifecycle plugins still see the whole
config through :class:`nstx.registry.hookspecs.Run`: their own keys, ``tracking.*``, live there.)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from nstx.config.errors import config_mistakes_as_input_errors
from nstx.encoder.execution import Execution, resolve_device
from nstx.errors import InputError, flag, integer_in, number, positive_int
from nstx.image.color import MODES
from nstx.loss.objective import NORMALIZATIONS, LossWeights
from nstx.optim.pyramid import Level, plan, sizes
from nstx.registry import KINDS

SEED_MAX = 2**64 - 1


@dataclass(frozen=True)
class PluginChoice:
    """A plugin group as configured: the implementation's name and its options."""

    kind: str
    name: str
    options: Mapping[str, Any]


@dataclass(frozen=True)
class Settings:
    """Every value a run uses, checked."""

    content: Any  # a path or PIL image; None for the bundled sample
    style: Any  # one or a list of paths or PIL images; None for the bundled sample
    style_blend: tuple[float, ...] | None  # as given; normalised once the styles are counted
    style_masks: Any
    color: str
    image_size: int
    style_scale: float
    scales: tuple[int, ...] | None
    octaves: int
    levels: tuple[Level, ...]
    seed: int
    device: torch.device
    execution: Execution
    max_pixels: int
    weights: str
    loss: LossWeights
    style_layers: Mapping[str, float]
    content_layers: Mapping[str, float]
    save_every: int  # 0: the final image only
    log_every: int
    plugins: Mapping[str, PluginChoice]

    @classmethod
    def from_config(cls, config: DictConfig) -> Settings:
        """Parse ``config``, raising an :class:`InputError` for the first value no run can use."""
        with config_mistakes_as_input_errors():
            OmegaConf.to_container(config, resolve=True)
        iterations = positive_int(config.iterations, "iterations")
        image_size = positive_int(config.image_size, "image_size")
        log_every = positive_int(config.log_every, "log_every")
        seed = integer_in(config.seed, "seed", 0, SEED_MAX, "the range torch.manual_seed takes")
        max_pixels = positive_int(config.max_pixels, "max_pixels")
        save_every = at_least_zero(config, "save_every")
        at_least_zero(config, "tracking.image_every")
        content_weight, style_weight, tv_weight = (
            non_negative(config, key) for key in ("content_weight", "style_weight", "tv_weight")
        )
        tv_power = number(config.tv_power, "tv_power")
        if tv_power < 1:  # below 1 the gradient at equal neighbours is infinite
            raise InputError(f"tv_power must be finite and >= 1 (1: L1, 2: squared), got {config.tv_power!r}")
        style_scale = number(config.style_scale, "style_scale")
        if style_scale <= 0:
            raise InputError(f"style_scale must be finite and > 0, got {config.style_scale!r}")
        if config.loss_normalization not in NORMALIZATIONS:
            accepted = ", ".join(NORMALIZATIONS)
            raise InputError(
                f"unknown loss_normalization {config.loss_normalization!r} (accepted: {accepted})"
            )
        color = str(config.get("color", "none"))
        if color not in MODES:
            raise InputError(f"unknown color {config.color!r} (accepted: {', '.join(MODES)})")
        plugins = {kind: plugin_choice(config, kind) for kind in KINDS}
        scales, octaves = config.get("scales"), config.get("octaves")
        levels = sizes(image_size, scales, octaves, config.get("octave_scale", 2.0))
        device = resolve_device(str(config.device))
        return cls(
            content=config.content,
            style=config.style,
            style_blend=blend(config.get("style_blend")),
            style_masks=config.get("style_masks"),
            color=color,
            image_size=image_size,
            style_scale=style_scale,
            scales=tuple(levels) if scales is not None else None,
            octaves=1 if octaves is None else int(octaves),
            levels=tuple(plan(levels, iterations, config.get("scale_iterations"))),
            seed=seed,
            device=device,
            execution=Execution.choose(
                device, str(config.get("precision", "fp32")), flag(config.get("compile", False), "compile")
            ),
            max_pixels=max_pixels,
            weights=str(config.weights),
            loss=LossWeights(
                content_weight, style_weight, tv_weight, tv_power, config.loss_normalization == "relative"
            ),
            style_layers=layer_weights(config, "style_layers"),
            content_layers=layer_weights(config, "content_layers"),
            save_every=save_every,
            log_every=log_every,
            plugins=plugins,
        )

    def finest_setting(self) -> str:
        """The setting that asked for the output's size, as a user wrote it."""
        size = self.levels[-1].size
        return f"scales[{len(self.levels) - 1}] {size}" if self.scales is not None else f"image_size {size}"

    def coarsest_setting(self) -> str:
        """The setting that asked for the coarsest level's size, as a user wrote it."""
        size = self.levels[0].size
        if self.scales is not None:
            return f"scales[0] {size}"
        if self.octaves > 1:
            return f"image_size {self.image_size} with octaves {self.octaves} (coarsest level {size})"
        return f"image_size {size}"


def at_least_zero(config: DictConfig, key: str) -> int:
    """An integer >= 0 at ``key`` (null counts as 0: the final image only)."""
    value = OmegaConf.select(config, key)
    if value is None:
        return 0
    parsed = int(number(value, key, whole=True))
    if parsed < 0:
        raise InputError(f"{key} must be an integer >= 0 (0: the final image only), got {value!r}")
    return parsed


def non_negative(config: DictConfig, key: str) -> float:
    value = number(config[key], key)
    if value < 0:
        raise InputError(f"{key} must be finite and >= 0, got {config[key]!r}")
    return value


def plugin_choice(config: DictConfig, kind: str) -> PluginChoice:
    """A plugin group's node: ``name`` plus the options for the implementation."""
    options = OmegaConf.to_container(config[kind], resolve=True)
    assert isinstance(options, dict)
    return PluginChoice(kind, str(options.pop("name")), options)


def layer_weights(config: DictConfig, key: str) -> dict[str, float]:
    """A layer -> weight map from the config, validated: non-empty, finite, >= 0, not all 0."""
    node = config.get(key)
    if node is not None and not isinstance(node, DictConfig):
        raise InputError(f"{key} must map layer names to weights, got {node!r}")
    try:
        weights = {str(k): float(v) for k, v in (node or {}).items()}
    except (TypeError, ValueError):
        raise InputError(f"{key} weights must be numbers, got {OmegaConf.to_container(node)}") from None
    if not weights or not any(weights.values()):
        raise InputError(f"{key} is empty or all zero ({weights}); give at least one layer a weight")
    bad = {k: v for k, v in weights.items() if not math.isfinite(v) or v < 0}
    if bad:
        raise InputError(f"{key} weights must be finite and >= 0, got {bad}")
    summable(key, weights.values())
    return {k: v for k, v in weights.items() if v}


def summable(key: str, weights: Iterable[float]) -> None:
    """Finite weights can still sum to infinity, which would turn every weighted loss into NaN."""
    weights = list(weights)
    if not math.isfinite(sum(weights)):
        raise InputError(
            f"{key} weights sum to infinity ({weights}); scale them down, their ratios are what counts"
        )


def blend(given: Any) -> tuple[float, ...] | None:
    """``style_blend`` as numbers, finite, >= 0 and not all 0 (None: equal weights)."""
    if given is None:
        return None
    values = list(given) if not isinstance(given, int | float) else [given]
    try:
        weights = tuple(float(value) for value in values)
    except (TypeError, ValueError):
        raise InputError(f"style_blend must be a list of numbers, got {given!r}") from None
    if any(not math.isfinite(w) or w < 0 for w in weights) or not sum(weights):
        raise InputError(f"style_blend weights must be finite, >= 0 and not all 0, got {list(weights)}")
    summable("style_blend", weights)
    return weights
