"""The sweep comparison grid: tiles where their swept values say, labelled, failures visible."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from nstx.tracking.grid import EMPTY, Tile, comparison_grid

AXES = {"correlation": ["gram", "covariance"], "style_layers": ["early", "late"]}
COLOURS = {
    ("gram", "early"): (255, 0, 0),
    ("gram", "late"): (0, 255, 0),
    ("covariance", "early"): (0, 0, 255),
}


def tile(correlation: str, layers: str) -> Tile:
    colour = COLOURS.get((correlation, layers))
    image = Image.new("RGB", (32, 24), colour) if colour else None
    return Tile({"correlation": correlation, "style_layers": layers}, image, "" if colour else "FAILED")


def centre(grid: Image.Image, colour: tuple[int, int, int]) -> tuple[float, float]:
    """Centre (x, y) of the pixels of exactly ``colour``."""
    ys, xs = np.nonzero(np.all(np.asarray(grid) == colour, axis=-1))
    assert len(xs) > 100, colour
    return xs.mean(), ys.mean()


def test_two_axes_make_a_table_rows_by_the_first_columns_by_the_second():
    tiles = [tile(c, s) for c in reversed(AXES["correlation"]) for s in AXES["style_layers"]]
    grid = comparison_grid(tiles, AXES)
    red, green, blue = (centre(grid, colour) for colour in COLOURS.values())
    failed = centre(grid, EMPTY)
    assert red[0] < green[0] and red[1] == green[1]  # gram: early | late on one row
    assert blue[1] > red[1] and blue[0] == red[0]  # covariance below gram, same column
    # The failed job keeps its cell, drawn empty (its note shifts the centre a little).
    assert failed == pytest.approx((green[0], blue[1]), abs=3)
    # Labels: dark text left of the first column and above the first row.
    pixels = np.asarray(grid)
    assert (pixels[:, : int(red[0]) - 40] < 100).any()
    assert (pixels[: int(red[1]) - 40] < 100).any()


def test_one_axis_is_a_single_row_in_sweep_order():
    tiles = [
        Tile({"correlation": c}, Image.new("RGB", (16, 16), COLOURS[(c, "early")]))
        for c in ("covariance", "gram")
    ]
    grid = comparison_grid(tiles, {"correlation": ["gram", "covariance"]})
    red, blue = centre(grid, COLOURS[("gram", "early")]), centre(grid, COLOURS[("covariance", "early")])
    assert red[0] < blue[0] and red[1] == blue[1]
    assert grid.width >= 2 * 128  # small results are scaled up to be seen


def test_values_outside_the_axes_fall_back_to_labelled_tiles_in_a_row():
    tiles = [tile("gram", "early"), Tile({"correlation": "?", "style_layers": "early"}, None, "FAILED")]
    grid = comparison_grid(tiles, AXES)
    red, failed = centre(grid, COLOURS[("gram", "early")]), centre(grid, EMPTY)
    assert red[0] < failed[0] and red[1] == pytest.approx(failed[1], abs=3)


@pytest.mark.parametrize("axes", [AXES, {"correlation": ["gram", "covariance"]}], ids=["table", "rows"])
def test_captions_are_written_under_the_tiles(axes):
    keys = list(axes)
    plain = [Tile({k: AXES[k][0] for k in keys}, Image.new("RGB", (32, 24), (255, 0, 0)))]
    captioned = [Tile(plain[0].values, plain[0].image, caption="content 0.97 · style 0.103")]
    without, with_caption = comparison_grid(plain, axes), comparison_grid(captioned, axes)
    assert with_caption.height > without.height
    below = np.asarray(with_caption)[centre(with_caption, (255, 0, 0))[1].astype(int) + 40 :]
    assert (below < 128).any()  # ink under the image
