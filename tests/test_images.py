"""Image loading: every kind of bad file gets one clear error naming it."""

import pytest
from PIL import Image

import nstx
from nstx.errors import InputError
from nstx.image import io
from tests.support import FAST, gradient_image


def write_truncated(path):
    gradient_image((64, 64)).save(path, format="PNG")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


BAD_FILES = {
    "missing": (lambda path: None, "does not exist"),
    "empty": (lambda path: path.write_bytes(b""), "is empty"),
    "not_an_image": (lambda path: path.write_text("hello, not pixels"), "is not an image"),
    "truncated": (write_truncated, "cannot be decoded"),
    "too_many_pixels": (lambda path: gradient_image((80, 80)).save(path), "above the limit"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_image_files_raise_one_clear_error(case, tmp_path):
    path = tmp_path / f"{case}.png"
    make, expected = BAD_FILES[case]
    make(path)
    with pytest.raises(InputError, match=expected) as error:
        io.open_image(path, max_pixels=5000)
    message = str(error.value)
    assert str(path) in message and "\n" not in message


def test_directory_is_not_an_image(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        io.open_image(tmp_path)


def test_exif_orientation_is_honoured(tmp_path):
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    gradient_image((40, 20)).save(path, exif=exif)
    assert io.open_image(path).size == (20, 40)


def test_resize_longest_side():
    image = gradient_image((90, 60))
    assert io.resize_longest(image, 30).size == (30, 20)
    assert io.resize_longest(image.rotate(90, expand=True), 30).size == (20, 30)


def test_bad_style_fails_the_run_naming_the_file(tmp_path, content_path):
    style = tmp_path / "style.jpg"
    style.write_bytes(b"")
    with pytest.raises(InputError, match=r"style\.jpg"):
        nstx.stylize(content_path, style, **FAST)


def test_save_png_leaves_no_partial_file(tmp_path):
    class Broken:
        def save(self, file, format):
            file.write(b"partial")
            raise OSError("disk full")

    with pytest.raises(OSError):
        io.save_png(Broken(), tmp_path / "out.png")
    assert list(tmp_path.iterdir()) == []


def test_saved_png_has_default_permissions(tmp_path):
    import os
    import stat

    umask = os.umask(0)
    os.umask(umask)
    path = io.save_png(gradient_image((8, 8)), tmp_path / "out.png")
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
