"""Make the example figures of the feature docs (docs/figures/*.png).

    python docs/figures/make_figures.py --images ../shared/images

Every figure is made with seeded RANDOM backbone weights (no trained weights on the
machines that made them): they show what each option does to the optimisation, not
the quality of trained style transfer. Content: Chelsea the cat (CC0, bundled sample);
styles: The Starry Night and The Scream (public domain).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw

import nstx
from nstx import registry, samples
from nstx.hookspecs import hookimpl
from nstx.image import io

HERE = Path(__file__).resolve().parent
TILE = 128
COMMON = {"weights": "random", "image_size": TILE, "iterations": 40, "seed": 0}


def tile(image: Image.Image, label: str, height: int = TILE) -> Image.Image:
    """``image`` scaled to ``height`` pixels high with ``label`` written under it."""
    width = max(1, round(image.width * height / image.height))
    panel = Image.new("RGB", (width, height + 16), "white")
    panel.paste(image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS), (0, 0))
    ImageDraw.Draw(panel).text((3, height + 2), label, fill="black")
    return panel


def row(panels: list[Image.Image], name: str) -> Path:
    """Panels side by side, 4 px apart, saved as ``docs/figures/<name>.png``."""
    width = sum(panel.width for panel in panels) + 4 * (len(panels) - 1)
    figure = Image.new("RGB", (width, max(panel.height for panel in panels)), "white")
    x = 0
    for panel in panels:
        figure.paste(panel, (x, 0))
        x += panel.width + 4
    path = HERE / f"{name}.png"
    figure.save(path, optimize=True)
    width, height = figure.size
    print(f"{path.relative_to(HERE.parents[1])}: {width}x{height}, {path.stat().st_size} bytes")
    return path


def style_blend(content: Image.Image, a: Image.Image, b: Image.Image) -> None:
    panels = [tile(content, "content"), tile(a, "style A"), tile(b, "style B")]
    for blend in ([1, 0], [0.7, 0.3], [0.3, 0.7], [0, 1]):
        result = nstx.stylize(content, [a, b], style_blend=blend, **COMMON)
        panels.append(tile(result, f"blend {blend[0]}/{blend[1]}"))
    row(panels, "style-blend")


def color(content: Image.Image, a: Image.Image) -> None:
    panels = [tile(content, "content"), tile(a, "style")]
    for mode in ("none", "luminance", "histogram"):
        panels.append(tile(nstx.stylize(content, a, color=mode, **COMMON), f"color={mode}"))
    row(panels, "color")


class LevelEnds:
    """Keeps the image of the last step of each level (a change of size marks a new level)."""

    def __init__(self) -> None:
        self.images: list[Image.Image] = []

    @hookimpl
    def nstx_step(self, image):
        current = image()
        if self.images and self.images[-1].size == current.size:
            self.images[-1] = current
        else:
            self.io.append(current)


def multiscale(content: Image.Image, a: Image.Image) -> None:
    ends = LevelEnds()
    registry.default().register(ends, name="figure-level-ends")
    options = COMMON | {"scales": [64, 128, 256], "scale_iterations": [40, 20, 10]}
    nstx.stylize(content, a, **options)
    registry.default().pm.unregister(ends)
    panels = [tile(content, "content"), tile(a, "style")]
    panels += [tile(image, f"level {image.width}px", height=image.height) for image in ends.images]
    row(panels, "multiscale")


def masks(content: Image.Image, a: Image.Image, b: Image.Image) -> None:
    left = Image.new("L", content.size, 0)
    left.paste(255, (0, 0, content.width // 2, content.height))
    right = Image.eval(left, lambda value: 255 - value)
    result = nstx.stylize(content, [a, b], style_masks=[left, right], **COMMON)
    only_left = nstx.stylize(content, a, style_masks=[left], **COMMON)
    row(
        [
            tile(content, "content"),
            tile(left, "mask of A"),
            tile(result, "A left, B right"),
            tile(only_left, "A left, none right"),
        ],
        "style-masks",
    )


def style_costs(content: Image.Image, a: Image.Image) -> None:
    panels = [tile(content, "content"), tile(a, "style")]
    for name in ("mse", "sliced_wasserstein", "gaussian_w2"):
        panels.append(tile(nstx.stylize(content, a, style_cost=name, **COMMON), name))
    row(panels, "style-costs")


def plugin_example(content: Image.Image, a: Image.Image) -> None:
    if "pearson" not in registry.names("correlation"):
        print("skipping plugin-example.png: pip install ./examples/nstx-plugin-example first")
        return
    panels = [tile(content, "content"), tile(a, "style")]
    for correlation, cost in (("gram", "mse"), ("pearson", "huber")):
        result = nstx.stylize(content, a, correlation=correlation, style_cost=cost, **COMMON)
        panels.append(tile(result, f"{correlation} + {cost}"))
    row(panels, "plugin-example")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=Path("../shared/images"), help="shared test images")
    args = parser.parse_args()
    content = io.open_image(samples.CONTENT)
    starry = io.open_image(args.images / "starry_night.jpg")
    scream = io.open_image(args.images / "the_scream.jpg")
    style_blend(content, starry, scream)
    color(content, starry)
    multiscale(content, starry)
    masks(content, starry, scream)
    style_costs(content, starry)
    plugin_example(content, starry)


if __name__ == "__main__":
    main()
