"""One run: inputs and targets built once, then the optimisation loop and its events."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from PIL import Image
from torch import Tensor

from nstx import images, samples
from nstx.errors import InputError
from nstx.execution import Execution, Features, memory_format
from nstx.features import Backbone, FeatureExtractor
from nstx.losses import Objective, StyleTerm
from nstx.registry import Registry

PLUGIN_GROUPS = ("backbone", "pooling", "correlation", "style_cost", "optimizer", "init")


@dataclass
class Run:
    """What lifecycle hooks see of a run."""

    config: DictConfig
    output_dir: Path | None
    device: torch.device
    content: Tensor
    styles: list[Tensor]
    weights: str
    tags: dict[str, str] = field(default_factory=dict)
    execution: Execution | None = None


@dataclass
class Result:
    """The outcome of a run: the image, the last loss breakdown and where it was saved."""

    image: Image.Image
    steps: int
    losses: dict[str, float]
    weights: str
    output: Path | None = None


def plugin(registry: Registry, kind: str, node: DictConfig) -> tuple[Any, dict[str, Any]]:
    """The implementation named by a plugin group node, and the node's other keys."""
    params = OmegaConf.to_container(node, resolve=True)
    assert isinstance(params, dict)
    impl = registry.get(kind, params.pop("name"))
    return impl, params


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; anything else must exist here."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise InputError(f"unknown device {name!r} (accepted: auto, cpu, cuda, cuda:N, mps)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {name!r} requested but CUDA is not available on this machine")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise InputError(f"device {name!r}: only {torch.cuda.device_count()} CUDA device(s)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise InputError(f"device {name!r} requested but MPS is not available on this machine")
    return device


def layer_weights(config: DictConfig, key: str) -> dict[str, float]:
    """A layer -> weight map from the config, validated: non-empty, finite, >= 0, not all 0."""
    node = config.get(key)
    weights = {str(k): float(v) for k, v in (OmegaConf.to_container(node) or {}).items()}
    if not weights or not any(weights.values()):
        raise InputError(f"{key} is empty or all zero ({weights}); give at least one layer a weight")
    bad = {k: v for k, v in weights.items() if not math.isfinite(v) or v < 0}
    if bad:
        raise InputError(f"{key} weights must be finite and >= 0, got {bad}")
    return {k: v for k, v in weights.items() if v}


_backbones: dict[tuple, Backbone] = {}


def load_backbone(registry: Registry, config: DictConfig, device: torch.device) -> Backbone:
    """Build the configured backbone once per process and configuration, frozen, on ``device``."""
    key = (
        OmegaConf.to_yaml(config.backbone),
        str(config.weights),
        OmegaConf.to_yaml(config.pooling),
        str(device),
    )
    if key not in _backbones:
        build, params = plugin(registry, "backbone", config.backbone)
        backbone = build(weights=str(config.weights), **params)
        replace, pool_params = plugin(registry, "pooling", config.pooling)
        backbone.swap_pooling(lambda layer: replace(layer, **pool_params))
        backbone.layers.to(device, memory_format=memory_format(device))
        backbone.normalize.to(device)
        _backbones[key] = backbone.freeze()
    return _backbones[key]


def load_inputs(
    config: DictConfig,
    content: Any = None,
    styles: Any = None,
) -> tuple[Tensor, list[Tensor]]:
    """Content resized to ``image_size``; styles to ``image_size * style_scale``."""
    limit = int(config.max_pixels)
    size = int(config.image_size)
    content_image = images.open_image(
        content if content is not None else config.content or samples.CONTENT, limit
    )
    style_sources = styles if styles is not None else config.style or samples.STYLE
    if isinstance(style_sources, str | Path | Image.Image):
        style_sources = [style_sources]
    style_size = max(1, round(size * float(config.style_scale)))
    content_tensor = images.to_tensor(images.resize_longest(content_image, size))
    style_tensors = [
        images.to_tensor(images.resize_longest(images.open_image(source, limit), style_size))
        for source in style_sources
    ]
    return content_tensor, style_tensors


def validate(config: DictConfig) -> None:
    """Reject values no run can use before any work starts."""
    if int(config.iterations) <= 0:
        raise InputError(f"iterations must be a positive integer, got {config.iterations}")
    for key in ("content_weight", "style_weight", "tv_weight", "style_scale", "image_size"):
        value = float(config[key])
        if not math.isfinite(value) or value < 0:
            raise InputError(f"{key} must be finite and >= 0, got {config[key]}")
    if float(config.style_scale) == 0 or int(config.image_size) <= 0:
        raise InputError("image_size and style_scale must be > 0")


def build_objective(
    registry: Registry,
    config: DictConfig,
    extractor: Features,
    content: Tensor,
    styles: list[Tensor],
    style_layers: Mapping[str, float],
    content_layers: Mapping[str, float],
) -> Objective:
    """Compute content features and style targets once, without gradients."""
    correlation_cls, correlation_params = plugin(registry, "correlation", config.correlation)
    cost_cls, cost_params = plugin(registry, "style_cost", config.style_cost)
    blend = [1.0 / len(styles)] * len(styles)
    with torch.no_grad():
        content_features = extractor(content)
        style_features = [extractor(style) for style in styles]
        terms = {}
        for layer, weight in style_layers.items():
            cost = cost_cls(correlation=correlation_cls(**correlation_params), **cost_params)
            target = cost.prepare([f[layer].float() for f in style_features], blend)
            terms[layer] = StyleTerm(weight, cost, target)
        targets = {layer: content_features[layer].float() for layer in content_layers}
    return Objective(
        content_targets=targets,
        content_layers=dict(content_layers),
        style_terms=terms,
        content_weight=float(config.content_weight),
        style_weight=float(config.style_weight),
        tv_weight=float(config.tv_weight),
        tv_power=float(config.tv_power),
    )


def execute(
    config: DictConfig,
    registry: Registry,
    output_dir: str | Path | None = None,
    content: Any = None,
    styles: Any = None,
) -> Result:
    """Run one style transfer described by ``config``; write outputs into ``output_dir``."""
    validate(config)
    device = resolve_device(str(config.device))
    execution = Execution.from_config(config, device)
    style_layers = layer_weights(config, "style_layers")
    content_layers = layer_weights(config, "content_layers")
    content_tensor, style_tensors = load_inputs(config, content, styles)
    backbone = load_backbone(registry, config, device)
    style_layers = {backbone.canonical(k): v for k, v in style_layers.items()}
    content_layers = {backbone.canonical(k): v for k, v in content_layers.items()}
    extractor = FeatureExtractor(backbone, [*style_layers, *content_layers])
    smallest = min(min(t.shape[-2:]) for t in [content_tensor, *style_tensors])
    if smallest < extractor.min_size:
        raise InputError(
            f"image_size {config.image_size} gives a {smallest}px side, below the "
            f"{extractor.min_size}px that layer {list(extractor.body._modules)[-1]} needs"
        )
    content_tensor = content_tensor.to(device)
    style_tensors = [t.to(device) for t in style_tensors]
    objective = build_objective(
        registry,
        config,
        execution.features(extractor, compiled=False),
        content_tensor,
        style_tensors,
        style_layers,
        content_layers,
    )

    generator = torch.Generator().manual_seed(int(config.seed))
    init, init_params = plugin(registry, "init", config.init)
    image = init(content_tensor.cpu(), style_tensors[0].cpu(), generator, **init_params)
    image = image.to(device).contiguous().requires_grad_(True)
    make_optimizer, optimizer_params = plugin(registry, "optimizer", config.optimizer)
    optimizer = make_optimizer([image], **optimizer_params)

    out = Path(output_dir) if output_dir is not None else None
    run = Run(
        config=config,
        output_dir=out,
        device=device,
        content=content_tensor,
        styles=style_tensors,
        weights=backbone.weights,
        tags={f"plugin.{group}": str(config[group].name) for group in PLUGIN_GROUPS}
        | {"weights": backbone.weights, "device": str(device), "precision": execution.precision},
        execution=execution,
    )
    registry.hook.nstx_run_start(run=run)
    status, error, result = "FAILED", None, None
    try:
        losses = optimize(run, registry, execution.features(extractor), objective, image, optimizer)
        final = images.to_pil(image)
        saved = images.save_png(final, out / "stylized.png") if out is not None else None
        result = Result(
            image=final, steps=int(config.iterations), losses=losses, weights=backbone.weights, output=saved
        )
        status = "FINISHED"
        return result
    except KeyboardInterrupt as interrupt:
        status, error = "KILLED", interrupt
        raise
    except BaseException as failure:
        error = failure
        raise
    finally:
        registry.hook.nstx_run_end(run=run, result=result, status=status, error=error)


def optimize(
    run: Run,
    registry: Registry,
    extractor: Features,
    objective: Objective,
    image: Tensor,
    optimizer: Any,
) -> dict[str, float]:
    """The loop: each step is one closure call (forward, losses, backward) and a clamp."""
    config = run.config
    iterations, log_every = int(config.iterations), max(1, int(config.log_every))
    save_every = int(config.save_every or 0)
    last: dict[str, Tensor] = {}

    def closure() -> Tensor:
        optimizer.zero_grad(set_to_none=True)
        losses = objective(extractor(image), image)
        losses["total"].backward()
        last.update(losses)
        return losses["total"]

    def current() -> Image.Image:
        return images.to_pil(image)

    reported: dict[str, float] = {}
    for step in range(1, iterations + 1):
        started = time.perf_counter()
        optimizer.step(closure)
        with torch.no_grad():
            image.clamp_(0, 1)
        if step % log_every == 0 or step == iterations:
            names = list(last)
            values = torch.stack([last[name].detach().float() for name in names]).tolist()
            reported = dict(zip(names, values, strict=True))
            registry.hook.nstx_step(
                run=run, step=step, losses=reported, image=current, seconds=time.perf_counter() - started
            )
        if save_every and run.output_dir is not None and step % save_every == 0:
            images.save_png(current(), run.output_dir / f"step_{step:05d}.png")
    return reported
