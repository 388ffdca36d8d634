"""Loading, resizing and saving images with Pillow; tensors are (1, 3, H, W) in [0, 1]."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageOps, UnidentifiedImageError

from nstx import memory, samples
from nstx.errors import MISSING, InputError, unusable_path

if TYPE_CHECKING:
    from torch import Tensor

ImageSource = str | os.PathLike[str] | Image.Image

# Pillow's own default bomb threshold; larger images are refused before decoding.
MAX_PIXELS = 89_478_485
# Measured: the decoded RGB image (4 bytes a pixel in Pillow) and one converted copy.
DECODE_BYTES_PER_PIXEL = 8
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm")


def open_image(source: ImageSource, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open ``source`` as an RGB image, EXIF orientation applied, or raise :class:`InputError`.

    A bare file name that is no file here but names a bundled sample (``astronaut.png``)
    opens that sample.
    """
    if isinstance(source, Image.Image):
        return to_rgb(ImageOps.exif_transpose(source))
    if not isinstance(source, str | os.PathLike):
        raise InputError(f"image {source!r} is not a file path or a PIL image")
    path = Path(source).expanduser()
    problem = unusable_path(source)
    if problem == MISSING:
        sample = samples.bundled(source)
        if sample is None:
            raise InputError(f"image {str(source)!r} {MISSING}")
        path = sample
    elif problem is not None:
        expected = ", expected an image file" if path.is_dir() else ""
        raise InputError(f"image {str(source)!r} {problem}{expected}")
    if path.stat().st_size == 0:
        raise InputError(f"image {str(source)!r} is empty (0 bytes)")
    try:
        with own_pixel_limit(), Image.open(path) as image:
            width, height = image.size
            if width == 0 or height == 0:
                raise InputError(f"image {str(source)!r} has a zero dimension ({width}x{height})")
            if width * height > max_pixels:
                raise InputError(
                    f"image {str(source)!r} has {width * height} pixels, above the limit of "
                    f"{max_pixels} (max_pixels)"
                )
            check_decodable(source, width, height)
            image.load()
            return to_rgb(ImageOps.exif_transpose(image))
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError(f"image {str(source)!r} {why_unreadable(path)}") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise InputError(f"image {str(source)!r} cannot be decoded: {error}") from None


@contextlib.contextmanager
def own_pixel_limit() -> Iterator[None]:
    """Pillow's own guard against decompression bombs (89 megapixels) off: ``max_pixels`` and the
    memory check replace it, so that a raised ``max_pixels`` is one Pillow does not overrule."""
    kept = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = kept


def check_decodable(source: ImageSource, width: int, height: int) -> None:
    """Refuse, before decoding, an image whose pixels alone would not fit in the memory left."""
    needs, free = width * height * DECODE_BYTES_PER_PIXEL, memory.available()
    if free is not None and needs > free:
        raise InputError(
            f"image {str(source)!r} ({width}x{height}) needs about {memory.gib(needs)} to decode, "
            f"above the {memory.gib(free)} of memory available; use a smaller copy of it"
        )


def expand_directory(source: ImageSource, key: str = "style") -> list[ImageSource]:
    """``[source]``, or the images in ``source`` (sorted by name) when it is a directory.

    ``key`` names the setting in the error for a directory without images.
    """
    if (
        not isinstance(source, str | os.PathLike)
        or not str(source).strip()
        or not Path(source).expanduser().is_dir()
    ):
        return [source]
    found = sorted(path for path in Path(source).expanduser().iterdir() if is_image_file(path))
    if not found:
        raise InputError(
            f"{key} directory {str(source)!r} holds no images (accepted: {', '.join(IMAGE_SUFFIXES)})"
        )
    return list(found)


def is_image_file(path: Path) -> bool:
    """A file whose suffix is one of :data:`IMAGE_SUFFIXES`."""
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES


def ensure_writable(directory: str | os.PathLike[str]) -> Path:
    """Create ``directory`` if needed and prove a file can be written there, before any work."""
    path = Path(directory).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise InputError(f"output directory {str(directory)!r} cannot be written: {reason}") from None
    return path


def why_unreadable(path: Path) -> str:
    """Why Pillow could not open ``path``, from the driver of the format its header claims.

    Pillow reports a recognised file with a zero width or height, or with a pixel mode
    it does not support, only as "cannot identify image file"; this tells them apart.
    """
    with path.open("rb") as file:
        prefix = file.read(16)
    Image.init()
    for name, (factory, accept) in Image.OPEN.items():
        if accept is None or not accept(prefix) or not isinstance(factory, type):
            continue
        header: dict[str, object] = {}
        try:
            probe_header(factory, path, header)
        except Exception as error:
            width, height = header.get("size") or (1, 1)
            if width <= 0 or height <= 0:
                return f"has a zero dimension ({width}x{height} in its {name} header)"
            if "size" in header and not header.get("mode"):
                return f"has an unsupported mode (a {name} colour type or bit depth Pillow cannot decode)"
            return f"is a {name} file Pillow cannot open ({error})"
    return "is not an image Pillow can read"


def probe_header(factory: type, path: Path, header: dict[str, object]) -> None:
    """Open ``path`` with the Pillow driver ``factory``, noting the size and mode it parsed."""

    class Probe(factory):
        def _open(self) -> None:
            super()._open()
            header.update(size=self.size, mode=self.mode)

    with path.open("rb") as file, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Probe(file, str(path)).close()


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB: alpha over white, 16/32-bit scaled down to 8 bits."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        image = image.convert("I").point(lambda v: v / 256).convert("L")
    elif image.mode in ("I", "F"):
        low, high = image.getextrema()
        scale = 255.0 / (high - low) if high > low else 0.0
        image = image.point(lambda v: (v - low) * scale).convert("L")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    try:
        return image.convert("RGB")
    except ValueError as error:
        raise InputError(f"unsupported image mode {image.mode!r}: {error}") from None


def fitted(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """``size`` (width, height) scaled so that its longest side is ``longest``, aspect kept."""
    width, height = size
    scale = longest / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize_longest(image: Image.Image, size: int) -> Image.Image:
    """Resize so that the longest side is ``size`` pixels, keeping the aspect ratio."""
    new = fitted(image.size, size)
    if new == image.size:
        return image
    return image.resize(new, Image.Resampling.LANCZOS)


def to_tensor(image: Image.Image) -> Tensor:
    """An RGB PIL image as a float tensor (1, 3, H, W) in [0, 1]."""
    from torchvision.transforms.functional import pil_to_tensor

    return pil_to_tensor(image).unsqueeze(0).float().div_(255)


def to_pil(tensor: Tensor) -> Image.Image:
    """A (1, 3, H, W) or (3, H, W) tensor in [0, 1] as an 8-bit RGB PIL image."""
    from torchvision.transforms.functional import to_pil_image

    pixels = tensor.detach().float().squeeze(0).clamp(0, 1).mul(255).round().byte().cpu()
    return to_pil_image(pixels, mode="RGB")


def save_png(image: Image.Image, path: str | os.PathLike[str]) -> Path:
    """Write ``image`` as PNG atomically: a reader never sees a half-written file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # A unique sibling opened with "x" gets the usual umask permissions (mkstemp's are 0600).
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temp, "xb") as file:
            image.save(file, format="PNG")
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return target
