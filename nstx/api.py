"""The Python API: :func:`stylize` for notebooks and scripts, :func:`run` for a composed config
(the CLI's way), :func:`compose` for the config ``nstx`` would run with."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from PIL import Image

from nstx.config.compose import compose
from nstx.config.store import use_plugins
from nstx.registry.hookspecs import Result

__all__ = ["compose", "run", "stylize"]

ImageInput = str | os.PathLike[str] | Image.Image


def run(
    config: DictConfig | Mapping[str, Any],
    output_dir: str | Path | None = None,
    content: Any = None,
    style: Any = None,
    style_masks: Any = None,
    label: str = "",
) -> Result:
    """Run one style transfer from a composed config (as the CLI does).

    ``content`` / ``style`` / ``style_masks`` may pass images (PIL or paths) that replace
    the config's paths. The run is named after its pictures and ``label``.
    """
    from nstx.engine.execute import execute

    cfg = config if isinstance(config, DictConfig) else OmegaConf.create(dict(config))
    plugins = use_plugins([cfg.plugins_dir] if cfg.get("plugins_dir") else [])
    return execute(cfg, plugins, output_dir, content, style, style_masks, label)


def stylize(
    content: ImageInput,
    style: ImageInput | Sequence[ImageInput],
    output: str | Path | None = None,
    **options: Any,
) -> Image.Image:
    """Re-render ``content`` in the style of ``style`` and return the image.

    ``options`` are config names (see :func:`compose`), e.g. ``iterations=50``,
    ``image_size=128``, ``weights="random"``, ``correlation="covariance"``,
    ``style_blend=[0.7, 0.3]``, ``color="luminance"``, ``scales=[256, 512]``,
    ``style_masks=[...]`` (paths, PIL images or None). Tracking is off unless
    ``tracking={"enabled": True}`` is passed. ``output`` also saves the image as PNG.
    """
    from nstx.image import io

    options.setdefault("tracking", {"enabled": False})
    masks = options.get("style_masks")
    if masks is not None and not all(m is None or isinstance(m, str | os.PathLike) for m in masks):
        options.pop("style_masks")  # images cannot live in a config; they go to the run directly
    else:
        masks = None
    result = run(compose(**options), content=content, style=style, style_masks=masks)
    if output is not None:
        io.save_png(result.image, output)
    return result.image
