"""A comparison grid of a sweep's results: one labelled tile per job.

With two swept axes the tiles form a table (rows: first axis, columns: second),
headed by the axis values; otherwise they are laid out in reading order, each
labelled with its own swept values. A tile's caption (the judge's scores) is written
under its image in both layouts.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont, ImageOps

BACKGROUND = (255, 255, 255)
EMPTY = (200, 200, 200)
INK = (20, 20, 20)
PAD = 6
MIN_TILE = 128  # longest side of a tile, in pixels (small results are scaled up)
MAX_TILE = 384
ROW_WIDTH = 6  # tiles per row before a one-axis sweep wraps
FONT_SIZE = 14


@dataclass
class Tile:
    """One job: its swept values (key -> value), its image, or a note when it has none, and a caption."""

    values: Mapping[str, str]
    image: Image.Image | None
    note: str = ""
    caption: str = ""


def comparison_grid(tiles: Sequence[Tile], axes: Mapping[str, Sequence[str]]) -> Image.Image:
    """Lay ``tiles`` out by ``axes`` (swept key -> its values in sweep order)."""
    if not tiles:
        raise ValueError("a comparison grid needs at least one tile")
    size = tile_size(tiles)
    keys = list(axes)
    table = len(keys) == 2 and all(tile.values.get(key) in axes[key] for tile in tiles for key in keys)
    if table:
        rows, columns = list(axes[keys[0]]), list(axes[keys[1]])
        cells = {(tile.values[keys[0]], tile.values[keys[1]]): tile for tile in tiles}
        return draw_table(cells, rows, columns, keys, size)
    return draw_rows(ordered(tiles, axes), size)


def tile_size(tiles: Sequence[Tile]) -> tuple[int, int]:
    """The largest tile image, scaled to a longest side between ``MIN_TILE`` and ``MAX_TILE``."""
    sizes = [tile.image.size for tile in tiles if tile.image is not None] or [(MIN_TILE, MIN_TILE)]
    width, height = max(w for w, _ in sizes), max(h for _, h in sizes)
    scale = min(max(1.0, MIN_TILE / max(width, height)), MAX_TILE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def ordered(tiles: Sequence[Tile], axes: Mapping[str, Sequence[str]]) -> list[Tile]:
    """Tiles in sweep order (values not among the axes go last, in the order given)."""

    def rank(tile: Tile) -> tuple[int, ...]:
        return tuple(
            list(values).index(tile.values[key]) if tile.values.get(key) in values else len(values)
            for key, values in axes.items()
        )

    return sorted(tiles, key=rank)


def paste(
    canvas: Image.Image, tile: Tile | None, box: tuple[int, int], cell: tuple[int, int], size: tuple[int, int]
) -> None:
    """Draw ``tile`` fitted into ``size``, centred in the ``cell`` at ``box``; no image: a grey box."""
    x = box[0] + (cell[0] - size[0]) // 2
    y = box[1] + (cell[1] - size[1]) // 2
    if tile is None or tile.image is None:
        ImageDraw.Draw(canvas).rectangle((x, y, x + size[0] - 1, y + size[1] - 1), fill=EMPTY)
        note = tile.note if tile is not None else "no run"
        write(canvas, note, (x + size[0] // 2, y + size[1] // 2), anchor="mm")
        return
    image = ImageOps.contain(tile.image.convert("RGB"), size, Image.Resampling.LANCZOS)
    canvas.paste(image, (x + (size[0] - image.width) // 2, y + (size[1] - image.height) // 2))


@functools.cache
def label_font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=FONT_SIZE)


def write(canvas: Image.Image, text: str, at: tuple[int, int], anchor: str = "la") -> None:
    ImageDraw.Draw(canvas).multiline_text(
        at, text, fill=INK, font=label_font(), anchor=anchor, align="center"
    )


def text_size(text: str) -> tuple[int, int]:
    box = ImageDraw.Draw(Image.new("RGB", (1, 1))).multiline_textbbox((0, 0), text, font=label_font())
    return box[2] - box[0], box[3] - box[1]


def draw_table(
    cells: Mapping[tuple[str, str], Tile],
    rows: Sequence[str],
    columns: Sequence[str],
    keys: Sequence[str],
    size: tuple[int, int],
) -> Image.Image:
    """Rows by ``keys[0]``, columns by ``keys[1]``; headers name ``key=value``."""
    row_labels = [f"{keys[0]}={value}" for value in rows]
    column_labels = [f"{keys[1]}={value}" for value in columns]
    captions = [tile.caption for tile in cells.values() if tile.caption]
    caption_height = max(text_size(caption)[1] for caption in captions) + PAD if captions else 0
    left = max(text_size(label)[0] for label in row_labels) + 2 * PAD
    top = max(text_size(label)[1] for label in column_labels) + 2 * PAD
    widths = [text_size(label)[0] + PAD for label in [*column_labels, *captions]]
    cell = (max(size[0], *widths), size[1])
    width = left + len(columns) * (cell[0] + PAD) + PAD
    height = top + len(rows) * (cell[1] + caption_height + PAD) + PAD
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    for c, label in enumerate(column_labels):
        write(canvas, label, (left + c * (cell[0] + PAD) + cell[0] // 2, top // 2), anchor="mm")
    for r, label in enumerate(row_labels):
        y = top + r * (cell[1] + caption_height + PAD)
        write(canvas, label, (PAD, y + cell[1] // 2), anchor="lm")
        for c, column in enumerate(columns):
            x = left + c * (cell[0] + PAD)
            tile = cells.get((rows[r], column))
            paste(canvas, tile, (x, y), cell, size)
            if tile is not None and tile.caption:
                write(canvas, tile.caption, (x + cell[0] // 2, y + cell[1] + PAD // 2), anchor="ma")
    return canvas


def draw_rows(tiles: Sequence[Tile], size: tuple[int, int]) -> Image.Image:
    """Tiles in reading order, each with its ``key=value`` lines underneath."""
    count = len(tiles)
    per_row = count if count <= ROW_WIDTH else math.ceil(math.sqrt(count))
    labels = [
        "\n".join([*(f"{k}={v}" for k, v in tile.values.items()), tile.caption]).strip() for tile in tiles
    ]
    label_sizes = [text_size(label) for label in labels]
    label_height = max(h for _, h in label_sizes) + 2 * PAD if any(labels) else 0
    cell = (max(size[0], *(w + PAD for w, _ in label_sizes)), size[1])
    lines = math.ceil(count / per_row)
    width = per_row * (cell[0] + PAD) + PAD
    canvas = Image.new("RGB", (width, lines * (cell[1] + label_height + PAD) + PAD), BACKGROUND)
    for index, (tile, label) in enumerate(zip(tiles, labels, strict=True)):
        x = PAD + (index % per_row) * (cell[0] + PAD)
        y = PAD + (index // per_row) * (cell[1] + label_height + PAD)
        paste(canvas, tile, (x, y), cell, size)
        write(canvas, label, (x + cell[0] // 2, y + cell[1] + PAD), anchor="ma")
    return canvas
