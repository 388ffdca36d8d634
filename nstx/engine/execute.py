"""One run, from its config to its image: settings, inputs, plugins, then each level's loop."""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig
from torch import Tensor

from nstx.encoder.backbone import FeatureExtractor
from nstx.engine.assemble import build, check_plugins, load_backbone, style_costs
from nstx.engine.budget import check_memory
from nstx.engine.inputs import Inputs
from nstx.engine.lifecycle import Canvas, library_versions, plugins_named, track
from nstx.engine.settings import Settings
from nstx.engine.signals import stops_raise
from nstx.image import io
from nstx.loss.objective import build_objective
from nstx.optim.loop import breakdown, optimize
from nstx.optim.pyramid import Level, upsample
from nstx.registry import KINDS, Registry
from nstx.registry.hookspecs import Result, Run


def execute(
    config: DictConfig,
    registry: Registry,
    output_dir: str | Path | None = None,
    content: Any = None,
    styles: Any = None,
    style_masks: Any = None,
    label: str = "",
) -> Result:
    """Run one style transfer described by ``config``; write outputs into ``output_dir``.

    Runs every level of the coarse-to-fine plan (one level unless ``scales``/``octaves``
    ask for more) as one run: one start and end event, steps numbered across levels.
    Bad values, sizes that cannot fit in memory and settings a lifecycle plugin cannot use
    (``nstx_check``: a tracking store, say) raise :class:`InputError` before any work or
    output. Once the run has started, divergence (:class:`DivergedError`), an error in plugin
    code (a :class:`PluginError` naming the plugin) and Ctrl-C or SIGTERM
    (``KeyboardInterrupt``) save the last finite image and end the run FAILED or KILLED.
    The run's name is its pictures' names and ``label`` (the CLI passes its overrides).
    """
    settings = Settings.from_config(config)
    check_plugins(registry, settings)
    out = io.ensure_writable(output_dir) if output_dir is not None else None
    with stops_raise(), plugins_named(registry):
        inputs = Inputs.open(settings, content, styles, style_masks)
        check_memory(settings, inputs)
        registry.hook.nstx_check(config=config)
        chosen = settings.plugins["backbone"], settings.plugins["pooling"]
        backbone = load_backbone(registry, *chosen, settings.weights, settings.device)
        style_layers = {backbone.canonical(k): v for k, v in settings.style_layers.items()}
        content_layers = {backbone.canonical(k): v for k, v in settings.content_layers.items()}
        extractor = FeatureExtractor(backbone, [*style_layers, *content_layers])
        inputs.check_size(settings, extractor)
        content_tensor, style_tensors = inputs.resized(settings, settings.levels[-1].size)

        torch.manual_seed(settings.seed)  # for plugins that draw from the global generators
        random.seed(settings.seed)
        generator = torch.Generator().manual_seed(settings.seed)
        device, execution = settings.device, settings.execution
        run = Run(
            config=config,
            output_dir=out,
            device=device,
            name=f"{inputs.name} {label}".strip(),
            content=content_tensor.to(device),
            styles=[t.to(device) for t in style_tensors],
            weights=backbone.weights,
            tags={f"plugin.{kind}": settings.plugins[kind].name for kind in KINDS}
            | {"weights": backbone.weights, "device": str(device), "precision": execution.precision}
            | {"seed": str(settings.seed)}
            | {f"version.{name}": version for name, version in library_versions().items()},
            execution=execution,
            total_steps=sum(level.iterations for level in settings.levels),
            content_image=inputs.content,
            style_images=inputs.styles,
            blend=inputs.blend,
        )
        canvas = Canvas()
        new_cost = style_costs(registry, settings)
        features = execution.features(extractor)

        def level_loop(level: Level) -> None:
            seen = inputs.level(settings, level.size)
            canvas.render = seen.render
            targets = execution.features(extractor, compiled=False)
            objective = build_objective(
                targets, seen.content, seen.styles, new_cost, style_layers, content_layers,
                settings.loss, inputs.blend, seen.masks,
            )  # fmt: skip
            if canvas.image is None:
                init = build(registry, settings.plugins["init"])
                image = init(seen.content.cpu(), seen.styles[0].cpu(), generator)
            else:
                image = upsample(canvas.image.detach(), seen.content.shape[-2:])
            canvas.image = image.to(device).contiguous().requires_grad_(True)
            optimizer = build(registry, settings.plugins["optimizer"])([canvas.image])
            steps = range(run.step + 1, run.step + level.iterations + 1)
            optimize(
                features,
                objective,
                canvas.image,
                optimizer,
                steps,
                reporter(run, registry, settings, canvas, steps),
            )

        def loop() -> None:
            for level in settings.levels:
                level_loop(level)

        return track(run, registry, loop, canvas)


def reporter(run: Run, registry: Registry, settings: Settings, canvas: Canvas, steps: range):
    """The loop's callback: hooks every ``log_every`` steps, at each ``save_every`` step and at
    the level's last step."""

    def on_step(step: int, losses: Mapping[str, Tensor], seconds: float) -> None:
        run.step = step
        every = settings.save_every
        if step % settings.log_every == 0 or step == steps[-1] or (every and step % every == 0):
            run.losses = breakdown(losses)
            registry.hook.nstx_step(
                run=run, step=step, losses=run.losses, image=canvas.picture, seconds=seconds
            )

    return on_step
