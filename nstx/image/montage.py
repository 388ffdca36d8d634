"""Labelled image montages: rows of equally sized tiles, a caption per column or per row.

The background is a warm off-white that is never grey, so greyscale tiles stay tellable
from the gaps between them.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (250, 248, 240)
INK = (40, 40, 90)
GAP = 2
FONT_SIZE = 12
PADDING = 4


def montage(
    rows: Sequence[Sequence[Image.Image]],
    row_labels: Sequence[str] = (),
    column_labels: Sequence[str] = (),
) -> Image.Image:
    """Tiles laid out row by row at the size of the first one, with optional captions.

    ``row_labels`` go left of each row, ``column_labels`` above each column.
    """
    if not rows or not rows[0]:
        raise ValueError("a montage needs at least one tile")
    font = ImageFont.load_default(size=FONT_SIZE)
    width, height = rows[0][0].size
    columns = max(len(row) for row in rows)
    label_width = max((text_width(font, label) for label in row_labels), default=0)
    left = label_width + 2 * PADDING if row_labels else 0
    top = FONT_SIZE + 2 * PADDING if column_labels else 0
    sheet = Image.new(
        "RGB",
        (left + columns * (width + GAP) + GAP, top + len(rows) * (height + GAP) + GAP),
        BACKGROUND,
    )
    draw = ImageDraw.Draw(sheet)
    for index, label in enumerate(column_labels):
        x = left + GAP + index * (width + GAP)
        draw.text((x + width / 2, top / 2), fit(font, label, width), fill=INK, font=font, anchor="mm")
    for row_index, row in enumerate(rows):
        y = top + GAP + row_index * (height + GAP)
        if row_index < len(row_labels):
            draw.text((PADDING, y + height / 2), row_labels[row_index], fill=INK, font=font, anchor="lm")
        for column_index, tile in enumerate(row):
            x = left + GAP + column_index * (width + GAP)
            if tile.size != (width, height):
                tile = tile.resize((width, height), Image.Resampling.LANCZOS)
            sheet.paste(tile.convert("RGB"), (x, y))
    return sheet


def text_width(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, text: str) -> int:
    left, _, right, _ = font.getbbox(text)
    return int(right - left)


def fit(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, text: str, width: int) -> str:
    """``text`` shortened with an ellipsis until it fits ``width`` pixels."""
    if text_width(font, text) <= width:
        return text
    while len(text) > 1 and text_width(font, text + "…") > width:
        text = text[:-1]
    return text + "…"
