"""One run: inputs and targets built once, then the optimisation loop and its events."""

from __future__ import annotations

import logging
import math
import platform
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from PIL import Image
from torch import Tensor

from nstx import color, images, masks, multiscale, options, samples
from nstx.config_errors import config_mistakes_as_input_errors
from nstx.errors import DivergedError, InputError, PluginError
from nstx.execution import Execution, Features, memory_format
from nstx.features import Backbone, FeatureExtractor
from nstx.losses import NORMALIZATIONS, ContentTerm, Objective, StyleTerm, content_loss, relative_scale
from nstx.registry import KINDS, Registry
from nstx.signals import terminate_raises

OUTPUT_FILE = "stylized.png"

log = logging.getLogger(__name__)


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
    total_steps: int = 0
    execution: Execution | None = None
    step: int = 0  # the last completed step
    losses: dict[str, float] = field(default_factory=dict)  # the last reported breakdown
    # The inputs as given (before resizing and colour modes), for plugins that need them.
    content_image: Image.Image | None = None
    style_images: list[Image.Image] = field(default_factory=list)
    blend: list[float] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)  # the judge's last scores (nstx.judge)
    scored_step: int | None = None  # the step they were taken at


@dataclass
class Result:
    """The outcome of a run: the image, the last loss breakdown and where it was saved."""

    image: Image.Image
    steps: int
    losses: dict[str, float]
    weights: str
    output: Path | None = None
    scores: dict[str, float] = field(default_factory=dict)  # the judge's scores of ``image``


def plugin(registry: Registry, kind: str, node: DictConfig) -> tuple[Any, dict[str, Any]]:
    """The implementation named by a plugin group node, and the node's other keys."""
    params = OmegaConf.to_container(node, resolve=True)
    assert isinstance(params, dict)
    name = params.pop("name")
    impl = registry.get(kind, name)
    options.check(kind, name, impl, params)
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


def open_inputs(
    config: DictConfig, content: Any = None, styles: Any = None
) -> tuple[Image.Image, list[Image.Image]]:
    """The content and style images (arguments first, then the config, then the samples)."""
    limit = int(config.max_pixels)
    content_image = images.open_image(
        content if content is not None else config.content or samples.CONTENT, limit
    )
    style_sources = styles if styles is not None else config.style
    if style_sources is None or style_sources == "":
        style_sources = samples.STYLE
    if isinstance(style_sources, str | Path | Image.Image):
        style_sources = [style_sources]
    style_sources = [path for source in style_sources for path in images.expand_directory(source)]
    if not style_sources:
        raise InputError("style is an empty list: give one or more images, or null for the bundled sample")
    return content_image, [images.open_image(source, limit) for source in style_sources]


def resize_inputs(
    config: DictConfig, content: Image.Image, styles: Sequence[Image.Image], size: int
) -> tuple[Tensor, list[Tensor]]:
    """Content resized to ``size``; styles to ``size * style_scale``."""
    style_size = max(1, round(size * float(config.style_scale)))
    content_tensor = images.to_tensor(images.resize_longest(content, size))
    style_tensors = [images.to_tensor(images.resize_longest(style, style_size)) for style in styles]
    return content_tensor, style_tensors


def load_inputs(
    config: DictConfig,
    content: Any = None,
    styles: Any = None,
) -> tuple[Tensor, list[Tensor]]:
    """Content resized to ``image_size``; styles to ``image_size * style_scale``."""
    content_image, style_images = open_inputs(config, content, styles)
    return resize_inputs(config, content_image, style_images, int(config.image_size))


def blend_weights(config: DictConfig, styles: int) -> list[float]:
    """``style_blend`` normalised to sum 1 (equal weights when unset), one per style image."""
    given = config.get("style_blend")
    if given is None:
        return [1.0 / styles] * styles
    values = list(given) if not isinstance(given, int | float) else [given]
    try:
        weights = [float(value) for value in values]
    except (TypeError, ValueError):
        raise InputError(f"style_blend must be a list of numbers, got {given!r}") from None
    if len(weights) != styles:
        raise InputError(f"style_blend has {len(weights)} weights for {styles} style image(s)")
    if any(not math.isfinite(w) or w < 0 for w in weights) or not sum(weights):
        raise InputError(f"style_blend weights must be finite, >= 0 and not all 0, got {weights}")
    return [w / sum(weights) for w in weights]


def number(config: DictConfig, key: str, kind: type[int] | type[float] = float) -> float:
    """``config[key]`` (dotted keys too) as a finite int or float, or an :class:`InputError` naming it."""
    value = OmegaConf.select(config, key)
    accepted = "an integer" if kind is int else "a finite number"
    try:
        parsed = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{key} must be {accepted}, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(parsed) or (kind is int and not parsed.is_integer()):
        raise InputError(f"{key} must be {accepted}, got {value!r}")
    return kind(parsed)


def validate(config: DictConfig) -> None:
    """Reject values no run can use before any work starts."""
    with config_mistakes_as_input_errors():
        OmegaConf.to_container(config, resolve=True)
    for key in ("iterations", "image_size", "log_every"):
        if number(config, key, int) <= 0:
            raise InputError(f"{key} must be a positive integer, got {config[key]!r}")
    for key in ("seed", "max_pixels"):
        number(config, key, int)
    for key in ("save_every", "tracking.image_every"):  # null or 0: the final image only
        value = OmegaConf.select(config, key)
        if value is not None and number(config, key, int) < 0:
            raise InputError(f"{key} must be an integer >= 0 (0: the final image only), got {value!r}")
    for key in ("content_weight", "style_weight", "tv_weight"):
        if number(config, key) < 0:
            raise InputError(f"{key} must be finite and >= 0, got {config[key]!r}")
    if number(config, "tv_power") < 1:  # below 1 the gradient at equal neighbours is infinite
        raise InputError(f"tv_power must be finite and >= 1 (1: L1, 2: squared), got {config.tv_power!r}")
    if number(config, "style_scale") <= 0:
        raise InputError(f"style_scale must be finite and > 0, got {config.style_scale!r}")
    if config.loss_normalization not in NORMALIZATIONS:
        accepted = ", ".join(NORMALIZATIONS)
        raise InputError(f"unknown loss_normalization {config.loss_normalization!r} (accepted: {accepted})")
    if config.get("color", "none") not in color.MODES:
        raise InputError(f"unknown color {config.color!r} (accepted: {', '.join(color.MODES)})")


def style_cost_factory(registry: Registry, config: DictConfig) -> Callable[[], Any]:
    """Makes a new style cost (one per layer), with its correlation, as the config says."""
    correlation_cls, correlation_params = plugin(registry, "correlation", config.correlation)
    cost_cls, cost_params = plugin(registry, "style_cost", config.style_cost)
    return lambda: cost_cls(correlation=correlation_cls(**correlation_params), **cost_params)


def check_plugins(registry: Registry, config: DictConfig) -> None:
    """Each group's plugin name and options; then the style cost, the init and an optimizer,
    made once on a stand-in image, so that the checks plugins make themselves (lr, betas, eps,
    init.path, ...) fail before any work too, not inside a tracked run."""
    for group in KINDS:
        plugin(registry, group, config[group])
    stand_in = torch.zeros(1, 3, 16, 16)
    with plugins_named(registry):
        style_cost_factory(registry, config)()
        init, init_params = plugin(registry, "init", config.init)
        init(stand_in, stand_in, torch.Generator(), **init_params)
        make_optimizer, optimizer_params = plugin(registry, "optimizer", config.optimizer)
        make_optimizer([stand_in.clone().requires_grad_(True)], **optimizer_params)


def build_objective(
    registry: Registry,
    config: DictConfig,
    extractor: Features,
    content: Tensor,
    styles: list[Tensor],
    style_layers: Mapping[str, float],
    content_layers: Mapping[str, float],
    blend: Sequence[float] | None = None,
    style_masks: Sequence[Tensor | None] | None = None,
) -> Objective:
    """Compute content features and style targets once, without gradients.

    ``blend`` weighs the styles (equal by default); with ``style_masks`` (one per style,
    at the content's size) each style is scored only inside its mask.
    """
    new_cost = style_cost_factory(registry, config)
    blend = list(blend) if blend is not None else [1.0 / len(styles)] * len(styles)
    relative = config.loss_normalization == "relative"
    with torch.no_grad():
        content_features = extractor(content)
        style_features = [extractor(style) for style in styles]
        style_terms = {}
        for layer, weight in style_layers.items():
            if style_masks is None:
                cost = new_cost()
            else:
                shape = content_features[layer].shape[-2:]
                cost = masks.guided_cost(new_cost, style_masks, blend, shape)
            target = cost.prepare([f[layer].float() for f in style_features], blend)
            scale = 1.0
            if relative:
                blank = torch.zeros_like(content_features[layer], dtype=torch.float32)
                scale = relative_scale(float(cost.score(blank, target)), f"style_cost at {layer}")
            style_terms[layer] = StyleTerm(weight, cost, target, scale)
        content_terms = {}
        for layer, weight in content_layers.items():
            target = content_features[layer].float()
            scale = 1.0
            if relative:
                blank = torch.zeros_like(target)
                scale = relative_scale(float(content_loss(blank, target)), f"content at {layer}")
            content_terms[layer] = ContentTerm(weight, target, scale)
    return Objective(
        content_terms=content_terms,
        style_terms=style_terms,
        content_weight=float(config.content_weight),
        style_weight=float(config.style_weight),
        tv_weight=float(config.tv_weight),
        tv_power=float(config.tv_power),
        tv_mean=relative,
    )


def library_versions() -> dict[str, str]:
    """The versions a result depends on, recorded with every run."""
    import PIL
    import torchvision

    import nstx

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "pillow": PIL.__version__,
        "nstx": nstx.__version__,
    }


def blame(registry: Registry, error: Exception) -> Exception:
    """``error`` itself, or a :class:`PluginError` naming the plugin whose code raised it."""
    if isinstance(error, InputError | PluginError | DivergedError):
        return error
    culprit = registry.culprit(error)
    if culprit is None:
        return error
    return PluginError(f"{culprit} failed: {type(error).__name__}: {error}")


@contextmanager
def plugins_named(registry: Registry) -> Iterator[None]:
    """Re-raise an error from plugin code as a :class:`PluginError` that names the plugin."""
    try:
        yield
    except Exception as error:
        named = blame(registry, error)
        if named is error:
            raise
        raise named from error


def execute(
    config: DictConfig,
    registry: Registry,
    output_dir: str | Path | None = None,
    content: Any = None,
    styles: Any = None,
    style_masks: Any = None,
) -> Result:
    """Run one style transfer described by ``config``; write outputs into ``output_dir``.

    Runs every level of the coarse-to-fine plan (one level unless ``scales``/``octaves``
    ask for more) as one run: one start and end event, steps numbered across levels.
    Bad values raise :class:`InputError` before any work or output. Once the run has
    started, divergence (:class:`DivergedError`) and Ctrl-C or SIGTERM
    (``KeyboardInterrupt``) save the image reached so far and end the run FAILED or
    KILLED; an error in plugin code is raised as a :class:`PluginError` naming the plugin.
    """
    validate(config)
    check_plugins(registry, config)
    levels = multiscale.plan(config)
    device = resolve_device(str(config.device))
    execution = Execution.from_config(config, device)
    style_layers = layer_weights(config, "style_layers")
    content_layers = layer_weights(config, "content_layers")
    out = images.ensure_writable(output_dir) if output_dir is not None else None
    with terminate_raises(), plugins_named(registry):
        content_image, style_images = open_inputs(config, content, styles)
        blend = blend_weights(config, len(style_images))
        mask_images = masks.open_masks(
            style_masks if style_masks is not None else config.get("style_masks"),
            len(style_images),
            int(config.max_pixels),
        )
        backbone = load_backbone(registry, config, device)
        style_layers = {backbone.canonical(k): v for k, v in style_layers.items()}
        content_layers = {backbone.canonical(k): v for k, v in content_layers.items()}
        extractor = FeatureExtractor(backbone, [*style_layers, *content_layers])
        coarsest = resize_inputs(config, content_image, style_images, levels[0].size)
        check_size(extractor, config, size_setting(config, levels[0].size), [coarsest[0], *coarsest[1]])
        content_tensor, style_tensors = resize_inputs(config, content_image, style_images, levels[-1].size)

        seed = int(config.seed)
        torch.manual_seed(seed)  # for plugins that draw from the global generators
        random.seed(seed)
        generator = torch.Generator().manual_seed(seed)
        run = Run(
            config=config,
            output_dir=out,
            device=device,
            content=content_tensor.to(device),
            styles=[t.to(device) for t in style_tensors],
            weights=backbone.weights,
            tags={f"plugin.{group}": str(config[group].name) for group in KINDS}
            | {"weights": backbone.weights, "device": str(device), "precision": execution.precision}
            | {"seed": str(seed)}
            | {f"version.{name}": version for name, version in library_versions().items()},
            execution=execution,
            total_steps=sum(level.iterations for level in levels),
            content_image=content_image,
            style_images=style_images,
            blend=blend,
        )
        canvas = Canvas()

        def loop() -> None:
            features = execution.features(extractor)
            for level in levels:
                seen_content, seen_styles, level_masks, canvas.render = level_inputs(
                    config, device, level.size, content_image, style_images, mask_images
                )
                objective = build_objective(
                    registry,
                    config,
                    execution.features(extractor, compiled=False),
                    seen_content,
                    seen_styles,
                    style_layers,
                    content_layers,
                    blend,
                    level_masks,
                )
                if canvas.image is None:
                    init, init_params = plugin(registry, "init", config.init)
                    image = init(seen_content.cpu(), seen_styles[0].cpu(), generator, **init_params)
                else:
                    image = multiscale.upsample(canvas.image.detach(), seen_content.shape[-2:])
                canvas.image = image.to(device).contiguous().requires_grad_(True)
                make_optimizer, optimizer_params = plugin(registry, "optimizer", config.optimizer)
                optimizer = make_optimizer([canvas.image], **optimizer_params)
                steps = range(run.step + 1, run.step + level.iterations + 1)
                optimize(run, registry, features, objective, canvas.image, optimizer, steps, canvas.render)

        return track(run, registry, loop, canvas)


@dataclass
class Canvas:
    """The image being optimised (one tensor per level) and how hooks and outputs see it."""

    image: Tensor | None = None
    render: color.Render = color.identity


def track(run: Run, registry: Registry, loop: Callable[[], object], canvas: Canvas) -> Result:
    """Call the lifecycle hooks around ``loop``; keep the image whichever way the run ends."""
    status, error, result = "FAILED", None, None
    try:
        with plugins_named(registry):
            registry.hook.nstx_run_start(run=run)
            loop()
        result = keep(run, canvas)
        status = "FINISHED"
        return result
    except KeyboardInterrupt as interrupt:
        status, error = "KILLED", interrupt
        result = keep(run, canvas)
        log.warning("interrupted after step %d; %s", run.step, saved_where(result))
        raise
    except DivergedError as diverged:
        error = diverged
        result = keep(run, canvas)
        log.error("%s; %s", diverged, saved_where(result))
        raise
    except Exception as failure:  # a plugin's error arrives already named
        error = failure
        raise
    finally:
        registry.hook.nstx_run_end(run=run, result=result, status=status, error=error)


def size_setting(config: DictConfig, size: int) -> str:
    """The setting that asked for the coarsest level's ``size``, as a user wrote it."""
    if config.get("scales") is not None:
        return f"scales[0] {size}"
    if (config.get("octaves") or 1) > 1:
        return f"image_size {config.image_size} with octaves {config.octaves} (coarsest level {size})"
    return f"image_size {size}"


def check_size(
    extractor: FeatureExtractor, config: DictConfig, setting: str, tensors: Sequence[Tensor]
) -> None:
    """Refuse images too small for the deepest layer in use."""
    smallest = min(min(t.shape[-2:]) for t in tensors)
    if smallest < extractor.min_size:
        raise InputError(
            f"{setting} (style_scale {config.style_scale}) gives a {smallest}px side, below "
            f"the {extractor.min_size}px that layer {extractor.deepest} needs"
        )


def level_inputs(
    config: DictConfig,
    device: torch.device,
    size: int,
    content: Image.Image,
    styles: Sequence[Image.Image],
    style_masks: Sequence[Image.Image | None] | None,
) -> tuple[Tensor, list[Tensor], list[Tensor | None] | None, color.Render]:
    """What one level optimises against, at longest side ``size``, on ``device``.

    Returns the content and styles as the network sees them (after the colour mode),
    the masks at the content's size, and how to render the optimised image.
    """
    content_tensor, style_tensors = resize_inputs(config, content, styles, size)
    seen_content, seen_styles, render = color.preserve(
        str(config.get("color", "none")), content_tensor.to(device), [t.to(device) for t in style_tensors]
    )
    level_masks = None
    if style_masks is not None:
        resized = masks.resize_masks(style_masks, seen_content.shape[-2:])
        level_masks = [None if mask is None else mask.to(device) for mask in resized]
    return seen_content, seen_styles, level_masks, render


def keep(run: Run, canvas: Canvas) -> Result | None:
    """The image as it is now, saved into the run's output directory when it has one."""
    if canvas.image is None:
        return None
    final = images.to_pil(canvas.render(canvas.image.detach()))
    saved = images.save_png(final, run.output_dir / OUTPUT_FILE) if run.output_dir is not None else None
    return Result(image=final, steps=run.step, losses=dict(run.losses), weights=run.weights, output=saved)


def saved_where(result: Result | None) -> str:
    if result is None:
        return "no image was made yet"
    if result.output is None:
        return f"the image of step {result.steps} is kept in the result (no output directory)"
    return f"the image of step {result.steps} was saved to {result.output}"


def optimize(
    run: Run,
    registry: Registry,
    extractor: Features,
    objective: Objective,
    image: Tensor,
    optimizer: Any,
    steps: range | None = None,
    render: Callable[[Tensor], Tensor] = color.identity,
) -> dict[str, float]:
    """The loop: each step is one closure call (forward, losses, backward).

    The optimised image is not clamped: a clamp after each step would move the image
    where the optimizer did not (L-BFGS' stored steps would then disagree with the real
    ones, which made it diverge). Pixels may leave [0, 1] a little, as in neural-style;
    what hooks see and what is saved is clamped. ``steps`` numbers the steps
    (``1..iterations`` by default; later levels of a multi-scale run continue the count);
    ``render`` maps the image to what hooks see.
    """
    config = run.config
    log_every = int(config.log_every)
    steps = steps if steps is not None else range(1, int(config.iterations) + 1)
    save_every = int(config.save_every or 0)
    last: dict[str, Tensor] = {}  # the step's first evaluation: the image the step started from

    def closure() -> Tensor:
        optimizer.zero_grad(set_to_none=True)
        losses = objective(extractor(image), image)
        losses["total"].backward()
        if not last:  # a line search evaluates trial points after it, which it may reject
            last.update(losses)
        return losses["total"]

    def current() -> Image.Image:
        return images.to_pil(render(image.detach()))

    kept = image.detach().clone()
    for step in steps:
        started = time.perf_counter()
        kept.copy_(image.detach())
        last.clear()
        optimizer.step(closure)
        with torch.no_grad():
            if not finite(image, last.get("total")):
                reason = divergence(image, last)
                image.copy_(kept)
                raise DivergedError(step, reason)
        run.step = step
        if step % log_every == 0 or step == steps[-1]:
            run.losses = breakdown(last)
            registry.hook.nstx_step(
                run=run, step=step, losses=run.losses, image=current, seconds=time.perf_counter() - started
            )
        if save_every and run.output_dir is not None and step % save_every == 0:
            images.save_png(current(), run.output_dir / f"step_{step:05d}.png")
    return run.losses


def breakdown(losses: Mapping[str, Tensor]) -> dict[str, float]:
    """Loss tensors as floats, with one device synchronisation."""
    names = list(losses)
    values = torch.stack([losses[name].detach().float() for name in names]).tolist()
    return dict(zip(names, values, strict=True))


def finite(image: Tensor, loss: Tensor | None) -> bool:
    """Whether the image and the loss are free of NaN and infinity (one synchronisation)."""
    ok = torch.isfinite(image).all()
    if loss is not None:
        ok = ok & torch.isfinite(loss).all()
    return bool(ok)


def divergence(image: Tensor, losses: Mapping[str, Tensor]) -> str:
    """Which losses and whether the image went NaN or infinite."""
    bad = [f"{name}={value}" for name, value in breakdown(losses).items() if not math.isfinite(value)]
    reasons = [f"loss {', '.join(bad)}"] if bad else []
    if not bool(torch.isfinite(image).all()):
        reasons.append("image has NaN or infinite pixels")
    return "; ".join(reasons)
