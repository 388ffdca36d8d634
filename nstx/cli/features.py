"""``nstx-features``: what the backbone sees of an image, the first channels of chosen layers.

One row per layer, one greyscale tile per channel, each scaled to its own min..max: the
look inside VGG that the Keras walkthrough takes for the content, the style and the result.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig
from PIL import Image

from nstx.cli.app import load_plugins
from nstx.errors import InputError

if TYPE_CHECKING:
    from torch import Tensor

OUTPUT_NAME = "features.png"


def channel_tiles(features: Tensor, channels: int, tile_size: int) -> list[Image.Image]:
    """The first ``channels`` maps of (1, C, H, W) ``features`` as greyscale tiles.

    Each map is stretched to 0..255 on its own (a constant map is black); small maps are
    enlarged with nearest neighbours so that their coarse resolution stays visible.
    """
    maps = features[0, :channels].detach().float().cpu()
    low = maps.amin(dim=(1, 2), keepdim=True)
    span = (maps.amax(dim=(1, 2), keepdim=True) - low).clamp_min(1e-12)
    pixels = ((maps - low) / span).mul(255).round().byte().numpy()
    height, width = pixels.shape[1:]
    scale = tile_size / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    method = Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.BOX
    return [Image.fromarray(channel, mode="L").resize(size, method) for channel in pixels]


def render(config: DictConfig, image: Any = None) -> Image.Image:
    """The feature-map sheet for ``image`` (default: ``config.image``) under ``config``."""
    import torch

    from nstx import samples
    from nstx.encoder.backbone import FeatureExtractor
    from nstx.encoder.execution import resolve_device
    from nstx.engine.assemble import load_backbone
    from nstx.engine.inputs import given
    from nstx.engine.settings import plugin_choice
    from nstx.image import io
    from nstx.image.montage import montage
    from nstx.registry import default

    layers = list(config.layers)
    channels = int(config.channels)
    if not layers:
        raise InputError("layers is empty; name at least one layer, e.g. layers=[relu1_1,relu3_1]")
    if channels < 1 or int(config.tile_size) < 1 or int(config.image_size) < 1:
        raise InputError(
            f"channels, tile_size and image_size must be >= 1, got {channels}, "
            f"{config.tile_size}, {config.image_size}"
        )
    source = given("image", image, config.image, samples.CONTENT)
    picture = io.resize_longest(io.open_image(source, int(config.max_pixels)), int(config.image_size))
    device = resolve_device(str(config.device))
    chosen = plugin_choice(config, "backbone"), plugin_choice(config, "pooling")
    backbone = load_backbone(default(), *chosen, str(config.weights), device)
    extractor = FeatureExtractor(backbone, layers)
    if min(picture.size) < extractor.min_size:
        raise InputError(
            f"image_size {config.image_size} gives a {min(picture.size)}px side, below the "
            f"{extractor.min_size}px that the deepest of {layers} needs"
        )
    with torch.no_grad():
        features = extractor(io.to_tensor(picture).to(device))
    rows = [
        channel_tiles(features[backbone.canonical(layer)], channels, int(config.tile_size))
        for layer in layers
    ]
    return montage(rows, row_labels=[str(layer) for layer in layers])


def log_artifact(config: DictConfig, path: Path) -> None:
    """Log the sheet, with the config that made it as params, as an MLflow run of its own."""
    from nstx.tracking import tracker as tracking
    from nstx.tracking.repair import owner_tags
    from nstx.tracking.store import open_store

    store = open_store(config)
    client = store.client
    name = f"features {Path(str(config.image or 'sample')).name}"
    tags = {"nstx.command": "nstx-features"} | owner_tags()
    run_id = client.create_run(store.experiment_id, run_name=name, tags=tags).info.run_id
    try:
        tracking.log_config(client, run_id, config)
        client.log_artifact(run_id, str(path))
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED")


def write(config: DictConfig, output_dir: str | Path) -> Path:
    """Render the sheet, save it as PNG (``config.output`` or ``features.png`` in ``output_dir``)."""
    from nstx.image import io

    target = Path(config.output) if config.output else Path(output_dir) / OUTPUT_NAME
    from nstx.tracking.store import enabled

    tracked = enabled(config)
    saved = io.save_png(render(config), target)
    if tracked:
        log_artifact(config, saved)
    return saved


@hydra.main(version_base="1.3", config_path="pkg://nstx.conf", config_name="features")
def app(config: DictConfig) -> None:
    try:
        saved = write(config, HydraConfig.get().runtime.output_dir)
    except InputError as error:
        raise SystemExit(f"nstx-features: error: {error}") from None
    print(saved)


def main() -> None:
    """Console script ``nstx-features``; plugin directories are read before composition."""
    try:
        load_plugins(sys.argv[1:])
    except InputError as error:
        raise SystemExit(f"nstx-features: error: {error}") from None
    app()
