"""``nstx-features``: one row per layer, one tile per channel."""

from __future__ import annotations

import torch
from PIL import Image

from nstx.cli.features import channel_tiles
from nstx.image.montage import BACKGROUND
from tests.support import NSTX_FEATURES, Cli


def runs(flags: list[bool]) -> int:
    """The number of runs of consecutive True values."""
    return sum(1 for i, flag in enumerate(flags) if flag and (i == 0 or not flags[i - 1]))


def tile_grid(path) -> tuple[int, int]:
    """(rows, columns) of greyscale tiles on the sheet: tiles are grey, nothing else is."""
    with Image.open(path) as sheet:
        pixels = sheet.convert("RGB").load()
        width, height = sheet.size
    grey = [
        [pixels[x, y][0] == pixels[x, y][1] == pixels[x, y][2] for x in range(width)] for y in range(height)
    ]
    rows = runs([any(line) for line in grey])
    columns = runs([any(grey[y][x] for y in range(height)) for x in range(width)])
    return rows, columns


def test_sheet_has_a_tile_per_layer_and_channel_and_is_tracked(tmp_path, content_path, mlflow_store):
    done = Cli(tmp_path, [], NSTX_FEATURES)(
        f"image={content_path}",
        "layers=[relu1_1,relu3_1,block5_conv1]",
        "channels=4",
        "image_size=32",
        "tile_size=16",
        "weights=random",
        f"output={tmp_path / 'features.png'}",
    )
    assert done.returncode == 0, done.stderr
    assert tile_grid(tmp_path / "features.png") == (3, 4)
    (run,) = mlflow_store.runs()
    assert run.info.status == "FINISHED"
    assert "features.png" in mlflow_store.artifacts(run)
    assert run.data.params["channels"] == "4" and run.data.params["backbone.name"] == "vgg19"
    assert not BACKGROUND[0] == BACKGROUND[1] == BACKGROUND[2]


def test_channel_tiles_stretch_each_map_and_keep_coarse_pixels():
    features = torch.zeros(1, 3, 2, 4)
    features[0, 0, 0, 0] = 5.0
    features[0, 1] = torch.arange(8.0).view(2, 4)
    tiles = channel_tiles(features, channels=8, tile_size=8)
    assert len(tiles) == 3 and all(tile.size == (8, 4) for tile in tiles)
    assert tiles[0].getpixel((0, 0)) == 255 and tiles[0].getpixel((1, 1)) == 255
    assert tiles[0].getpixel((2, 0)) == 0
    assert tiles[1].getpixel((0, 0)) == 0 and tiles[1].getpixel((7, 3)) == 255
    assert tiles[2].getextrema() == (0, 0)
