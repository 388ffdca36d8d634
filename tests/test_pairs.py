"""Image folders and globs as sweeps over every content x style pair; ``init=<picture>``."""

from __future__ import annotations

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from PIL import Image

import nstx
from nstx.config.overrides import expand_image_sets, quote, rewrite_init_paths
from nstx.errors import InputError
from tests.support import FAST, Cli, gradient_image


def sweep_values(override: str) -> list[str]:
    """The values Hydra reads from ``override`` (a sweep or a single value)."""
    parsed = OverridesParser.create().parse_override(override)
    return list(parsed.sweep_string_iterator()) if parsed.is_sweep_override() else [parsed.value()]


def test_directory_becomes_sorted_images(image_folders):
    content, style = image_folders
    rewritten = expand_image_sets(["-m", f"content={content}", f"+style={style}", "image_size=32"])
    assert rewritten[0] == "-m" and rewritten[3] == "image_size=32"
    assert sweep_values(rewritten[1]) == [str(content / "cat.png"), str(content / "dog.jpg")]
    assert rewritten[2].startswith("+style=")
    assert sweep_values(rewritten[2].lstrip("+")) == [str(style / "stars.png"), str(style / "waves.png")]


def test_glob_matches_images_only(image_folders):
    content, _ = image_folders
    rewritten = expand_image_sets(["-m", f"content={content}/*"])
    assert sweep_values(rewritten[1]) == [str(content / "cat.png"), str(content / "dog.jpg")]
    assert sweep_values(expand_image_sets([f"content={content}/d*.jpg"])[0]) == [str(content / "dog.jpg")]


def test_paths_hydra_cannot_read_bare_are_quoted(tmp_path):
    odd = tmp_path / "my photos" / "it's, fine=1.png"
    odd.parent.mkdir()
    gradient_image((8, 8)).save(odd)
    rewritten = expand_image_sets([f"content={odd.parent}"])
    assert sweep_values(rewritten[0]) == [str(odd)]
    assert quote("photos/cat.png") == "photos/cat.png"


def test_empty_directory_is_refused_in_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"^content directory '.*empty' holds no images \(accepted: .png"):
        expand_image_sets(["-m", f"content={tmp_path / 'empty'}"])
    with pytest.raises(InputError, match=r"style pattern .* matches no images"):
        expand_image_sets(["-m", f"style={tmp_path}/*.jpg"])


def test_several_images_need_a_multirun(image_folders):
    content, _ = image_folders
    with pytest.raises(InputError, match="names 2 images; add -m"):
        expand_image_sets([f"content={content}"])


def test_files_lists_and_other_keys_are_left_alone(image_folders):
    content, style = image_folders
    args = [
        f"content={content / 'cat.png'}",
        f"style=[{style / 'waves.png'},{style / 'stars.png'}]",
        "seed=1",
    ]
    assert expand_image_sets(args) == args


def test_init_picture_shorthand():
    names = ["content", "image", "noise", "style"]
    assert rewrite_init_paths(["init=start.jpg", "seed=1"], names) == [
        "init=image",
        "init.path=start.jpg",
        "seed=1",
    ]
    assert rewrite_init_paths(["init=a/b.png,c.png"], names) == ["init=image", "init.path=a/b.png,c.png"]
    assert rewrite_init_paths(["init=noise", "init=style"], names) == ["init=noise", "init=style"]


def test_init_starts_from_the_given_picture(tmp_path, content_path, style_path):
    start = tmp_path / "start.png"
    Image.new("RGB", (20, 16), (10, 200, 30)).save(start)
    options = {**FAST, "iterations": 1, "optimizer": {"name": "adam", "lr": 1e-6}}
    image = nstx.stylize(content_path, style_path, init=str(start), **options)
    assert image.size == (32, 27)
    assert image.getpixel((16, 13)) == (10, 200, 30)


def test_init_image_without_path_is_refused(content_path, style_path):
    with pytest.raises(InputError, match=r"init=image needs init.path"):
        nstx.stylize(content_path, style_path, init="image", **FAST)


def test_folders_give_one_tracked_run_per_pair(image_folders, nstx_cli, mlflow_store):
    content, style = image_folders
    done = nstx_cli.without("content").without("style")("-m", f"content={content}", f"style={style}")
    assert done.returncode == 0, done.stderr
    parent, children = mlflow_store.sweep()
    pairs = {(c, s) for c in ("cat.png", "dog.jpg") for s in ("stars.png", "waves.png")}
    expected = {f"{c} · {s}" for c, s in pairs}  # swept values first, a file by its name
    assert {child.info.run_name for child in children} == expected
    assert {(child.data.params["content"], child.data.params["style"]) for child in children} == {
        (str(content / c), str(style / s)) for c, s in pairs
    }
    assert all(child.info.status == "FINISHED" for child in children)
    assert "comparison_grid.png" in mlflow_store.artifacts(parent)


def test_empty_folder_on_the_command_line(tmp_path):
    (tmp_path / "empty").mkdir()
    done = Cli(tmp_path, [])("-m", "content=empty")
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "nstx: error: content directory 'empty' holds no images "
        "(accepted: .png, .jpg, .jpeg, .bmp, .gif, .tif, .tiff, .webp, .ppm)"
    ]
