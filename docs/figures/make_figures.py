"""Make the example figures of the feature docs (docs/figures/*.png, except first-run.png).

    python docs/figures/make_figures.py

Every run uses the default weights (``weights=auto``: the original VGG19), the bundled
samples (Chelsea the cat as content; The Starry Night and the brick texture as styles) and
``SETTINGS``. Each figure shows the inputs above the results, labelled like a sweep's
comparison grid, with the judge's scores under every result.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps

import nstx
from nstx import registry, samples
from nstx.hookspecs import hookimpl
from nstx.image import io
from nstx.tracking.grid import Tile, comparison_grid

HERE = Path(__file__).resolve().parent
SETTINGS = {"image_size": 192, "iterations": 80, "seed": 0, "tracking": {"enabled": False}}
CONTENT, STARRY, BRICK = samples.CONTENT.name, samples.STYLE.name, "brick.png"
ONE_STYLE = (("style", STARRY),)
TWO_STYLES = (("style A", STARRY), ("style B", BRICK))


def caption(scores: dict[str, float]) -> str:
    """The judge's scores as the comparison grid writes them under a tile."""
    return f"content {scores['content']:.3g} · style {scores['style']:.3g}"


def run(style: str | list[str], **options):
    """One run on Chelsea at ``SETTINGS`` plus ``options``; its result."""
    masks = options.pop("style_masks", None)
    return nstx.run(nstx.compose(**SETTINGS, **options), content=CONTENT, style=style, style_masks=masks)


def stylize(label: dict[str, str], style: str | list[str], **options) -> Tile:
    """One run as a tile labelled ``label``, with the judge's scores under it."""
    result = run(style, **options)
    return Tile(label, result.image, caption=caption(result.scores))


def inputs(*named: tuple[str, str]) -> list[Tile]:
    """The content, then each ``(label, sample name)``, as input tiles labelled ``label=name``."""
    return [Tile({key: name}, io.open_image(name)) for key, name in (("content", CONTENT), *named)]


def save(name: str, shown: list[Tile], results: list[Tile]) -> None:
    """The inputs ``shown`` (fitted to the results' size) above the ``results``, as
    ``docs/figures/<name>.png``."""
    size = max((tile.image.size for tile in results), key=lambda wh: wh[0] * wh[1])
    for tile in shown:
        tile.image = ImageOps.contain(tile.image.convert("RGB"), size, Image.Resampling.LANCZOS)
    rows = [comparison_grid(shown, {}), comparison_grid(results, {})]
    figure = Image.new("RGB", (max(row.width for row in rows), sum(row.height for row in rows)), "white")
    figure.paste(rows[0], (0, 0))
    figure.paste(rows[1], (0, rows[0].height))
    path = HERE / f"{name}.png"
    figure.save(path, optimize=True)
    print(f"{path.relative_to(HERE.parents[1])}: {figure.width}x{figure.height}, {path.stat().st_size} bytes")


def style_blend() -> None:
    results = [
        stylize({"style_blend": f"[{a},{b}]"}, [STARRY, BRICK], style_blend=[a, b])
        for a, b in ((1, 0), (0.7, 0.3), (0.3, 0.7), (0, 1))
    ]
    save("style-blend", inputs(*TWO_STYLES), results)


def color() -> None:
    results = [stylize({"color": mode}, STARRY, color=mode) for mode in ("none", "luminance", "histogram")]
    save("color", inputs(*ONE_STYLE), results)


def style_costs() -> None:
    results = [
        stylize({"style_cost": name}, STARRY, style_cost=name)
        for name in ("mse", "sliced_wasserstein", "gaussian_w2")
    ]
    save("style-costs", inputs(*ONE_STYLE), results)


def masks() -> None:
    content = io.open_image(CONTENT)
    left = Image.new("L", content.size, 0)
    left.paste(255, (0, 0, content.width // 2, content.height))
    right = ImageOps.invert(left)
    results = [
        stylize({"style_masks": "[left,right]"}, [STARRY, BRICK], style_masks=[left, right]),
        stylize({"style_masks": "[left]"}, STARRY, style_masks=[left]),
    ]
    shown = inputs(*TWO_STYLES)
    framed = ImageOps.expand(left.crop((1, 1, left.width - 1, left.height - 1)), border=1, fill=128)
    shown.insert(1, Tile({"mask of A": "left half"}, framed))
    save("style-masks", shown, results)


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
            self.images.append(current)


def multiscale() -> None:
    ends = LevelEnds()
    registry.default().register(ends, name="figure-level-ends")
    try:
        run(STARRY, scales=[128, 256], scale_iterations=[60, 20])
    finally:
        registry.default().unregister(ends)
    results = [
        Tile({"level": f"{image.width} px"}, image, caption=caption(nstx.evaluate(image, CONTENT, STARRY)))
        for image in ends.images
    ]
    save("multiscale", inputs(*ONE_STYLE), results)


def plugin_example() -> None:
    if "pearson" not in registry.names("correlation"):
        print("skipping plugin-example.png: pip install ./examples/nstx-plugin-example first")
        return
    results = [
        stylize(
            {"correlation": correlation, "style_cost": cost}, STARRY, correlation=correlation, style_cost=cost
        )
        for correlation, cost in (("gram", "mse"), ("pearson", "huber"))
    ]
    save("plugin-example", inputs(*ONE_STYLE), results)


def main() -> None:
    style_blend()
    color()
    multiscale()
    masks()
    style_costs()
    plugin_example()


if __name__ == "__main__":
    main()
