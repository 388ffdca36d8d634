"""The Python API: :func:`stylize` for notebooks and scripts, :func:`run` for the CLI."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from PIL import Image

from nstx.arguments import LAYER_GROUPS
from nstx.errors import InputError
from nstx.registry import KINDS

ImageInput = str | os.PathLike[str] | Image.Image


def run(
    config: DictConfig | Mapping[str, Any],
    output_dir: str | Path | None = None,
    content: Any = None,
    style: Any = None,
    style_masks: Any = None,
) -> Any:
    """Run one style transfer from a composed config (as the CLI does).

    ``content`` / ``style`` / ``style_masks`` may pass images (PIL or paths) that replace
    the config's paths. Returns a :class:`nstx.engine.Result`.
    """
    from nstx import engine, registry

    cfg = config if isinstance(config, DictConfig) else OmegaConf.create(dict(config))
    if cfg.get("plugins_dir"):
        registry.load_plugins_dir(cfg.plugins_dir)
    return engine.execute(cfg, registry.default(), output_dir, content, style, style_masks)


def compose(overrides: Sequence[str] = (), **options: Any) -> DictConfig:
    """The config ``nstx`` would run with: package defaults, Hydra overrides, then options.

    Options use the config's names: a plugin group takes a name (``correlation="covariance"``)
    or a mapping with ``name`` and parameters (``init`` also takes a picture's path);
    ``style_layers`` / ``content_layers`` take a preset name, a list of layers (equally
    weighted) or a layer -> weight mapping;
    other keys (dotted allowed) set values.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module

    from nstx import registry
    from nstx.arguments import rewrite_init_paths
    from nstx.config_errors import config_mistakes_as_input_errors
    from nstx.configstore import store_plugin_configs

    if options.get("plugins_dir"):
        registry.load_plugins_dir(options["plugins_dir"])
    store_plugin_configs(registry.default())
    group_overrides, values = list(overrides), {}
    for key, value in options.items():
        if key in (*KINDS, *LAYER_GROUPS) and isinstance(value, str):
            group_overrides.append(f"{key}={value}")
        elif key in KINDS and isinstance(value, Mapping) and "name" in value:
            group_overrides.append(f"{key}={value['name']}")
            values[key] = {k: v for k, v in value.items() if k != "name"}
        elif key in LAYER_GROUPS and isinstance(value, Sequence):  # layer names, equally weighted
            values[key] = dict.fromkeys(value, 1.0)
        else:
            values[key] = value
    group_overrides = rewrite_init_paths(group_overrides, registry.names("init"))
    with (
        config_mistakes_as_input_errors(),
        initialize_config_module(config_module="nstx.conf", version_base="1.3"),
    ):
        cfg = hydra_compose(config_name="config", overrides=group_overrides)
    for key, value in values.items():
        node = OmegaConf.select(cfg, key, default=KeyError)
        if node is KeyError:
            raise InputError(f"unknown option {key!r} (known: {', '.join(sorted(cfg))})")
        if isinstance(node, DictConfig) and not isinstance(value, Mapping):
            if key in KINDS:
                accepted = "a plugin name or a mapping"
            elif key in LAYER_GROUPS:
                accepted = "a preset name, a list of layers or a layer -> weight mapping"
            else:
                accepted = f"a mapping of {', '.join(node)}"
            raise InputError(f"{key} takes {accepted}, got {value!r}")
        if key in LAYER_GROUPS:
            OmegaConf.update(cfg, key, dict(value), merge=False, force_add=True)
            continue
        # A plugin's options need not all be in its config file: its signature decides.
        OmegaConf.update(cfg, key, value, merge=True, force_add=key in KINDS)
    return cfg


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
    from nstx import images

    options.setdefault("tracking", {"enabled": False})
    masks = options.get("style_masks")
    if masks is not None and not all(m is None or isinstance(m, str | os.PathLike) for m in masks):
        options.pop("style_masks")  # images cannot live in a config; they go to the run directly
    else:
        masks = None
    result = run(compose(**options), content=content, style=style, style_masks=masks)
    if output is not None:
        images.save_png(result.image, output)
    return result.image
