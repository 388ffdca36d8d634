"""Command-line shorthands rewritten into plain Hydra overrides before Hydra parses them.

Hydra sweeps over listed values only; it knows no files. Two shorthands fill that gap:

- ``content=photos/`` or ``'style=styles/*.jpg'``: a directory or a glob becomes the
  sorted list of its images as sweep values, so ``nstx -m content=photos/ style=styles/``
  runs every content x style pair as its own job.
- ``init=start.jpg``: a path to a picture becomes ``init=image init.path=start.jpg``.

A third is for the layer groups, where Hydra would read a list as several presets and
merge a mapping into the preset: ``style_layers=[relu1_1,relu3_1]`` (equal weights) or
``style_layers={relu1_1:1,relu3_1:0.5}`` become exactly those layers.

:func:`split_override` is the one reader of ``key=value`` arguments; :func:`values_of` uses it
for what the commands need before Hydra runs (``plugins_dir``, ``hydra.verbose``).
"""

from __future__ import annotations

import glob
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from nstx.errors import InputError
from nstx.image.io import IMAGE_SUFFIXES, expand_directory, is_image_file

IMAGE_SET_KEYS = ("content", "style")
LAYER_GROUPS = ("style_layers", "content_layers")
MULTIRUN_FLAGS = ("-m", "--multirun", "hydra.mode=MULTIRUN")
GLOB_CHARACTERS = re.compile(r"[*?\[]")
# What Hydra reads as a plain unquoted value; anything else is quoted.
UNQUOTED = re.compile(r"[A-Za-z0-9_/.+\-]+")


def rewrite(argv: Sequence[str], init_names: Iterable[str]) -> list[str]:
    """Both shorthands applied to a command line (the other arguments are kept as they are)."""
    return rewrite_layer_maps(rewrite_init_paths(expand_image_sets(argv), init_names))


def split_override(arg: str) -> tuple[str, str, str] | None:
    """``(prefix, key, value)`` of a ``key=value`` override (``+`` / ``++`` prefix kept)."""
    if arg.startswith("-") or "=" not in arg:
        return None
    key, _, value = arg.partition("=")
    prefix = key[: len(key) - len(key.lstrip("+"))]
    return prefix, key[len(prefix) :], value


def values_of(key: str, argv: Sequence[str]) -> list[str]:
    """The values of ``key=...`` overrides on a command line (``+``/``++`` forms too), nulls left out."""
    found = (split_override(arg) for arg in argv)
    return [parts[2] for parts in found if parts and parts[1] == key and parts[2] not in ("", "null")]


def is_plain_sweep(value: str) -> bool:
    """A bare value or comma list: no quoting, list, dict or sweep function for Hydra to read."""
    return bool(value) and not value.startswith(("[", "{", "'", '"')) and "(" not in value


def quote(value: str) -> str:
    """``value`` as Hydra reads it back verbatim: bare when safe, else single-quoted."""
    if UNQUOTED.fullmatch(value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def images_in(key: str, value: str) -> list[str]:
    """The image files a directory or glob names (sorted), or ``[value]`` for anything else."""
    path = Path(value).expanduser()
    accepted = ", ".join(IMAGE_SUFFIXES)
    if path.is_dir():
        return [str(file) for file in expand_directory(value, key)]
    if GLOB_CHARACTERS.search(value):
        found = sorted(p for p in glob.glob(str(path)) if is_image_file(Path(p)))
        if not found:
            raise InputError(f"{key} pattern {value!r} matches no images (accepted: {accepted})")
        return found
    return [value]


def expand_image_sets(argv: Sequence[str]) -> list[str]:
    """Replace directory / glob values of ``content`` and ``style`` by their images.

    Several images need a multirun (``-m``): without it the command is refused with one line
    rather than left to Hydra's generic "ambiguous value" error.
    """
    multirun = any(arg in MULTIRUN_FLAGS for arg in argv)
    rewritten = []
    for arg in argv:
        parts = split_override(arg)
        if parts is None or parts[1] not in IMAGE_SET_KEYS or not is_plain_sweep(parts[2]):
            rewritten.append(arg)
            continue
        prefix, key, value = parts
        files = [file for item in value.split(",") for file in images_in(key, item)]
        if len(files) > 1 and not multirun:
            raise InputError(
                f"{key}={value} names {len(files)} images; add -m to run each as its own job "
                f"(or pass one image file)"
            )
        rewritten.append(f"{prefix}{key}=" + ",".join(quote(file) for file in files))
    return rewritten


def looks_like_path(value: str) -> bool:
    path = Path(value).expanduser()
    return "/" in value or path.suffix.lower() in IMAGE_SUFFIXES or path.exists()


def rewrite_init_paths(argv: Sequence[str], init_names: Iterable[str]) -> list[str]:
    """``init=<image path>`` (or a comma list of them) -> ``init=image init.path=<path>``."""
    known = set(init_names)
    rewritten = []
    for arg in argv:
        parts = split_override(arg)
        values = parts[2].split(",") if parts and parts[1] == "init" and is_plain_sweep(parts[2]) else []
        if values and not known.intersection(values) and all(map(looks_like_path, values)):
            rewritten += [f"{parts[0]}init=image", "init.path=" + ",".join(map(quote, values))]
        else:
            rewritten.append(arg)
    return rewritten


def rewrite_layer_maps(argv: Sequence[str]) -> list[str]:
    """``style_layers=[a,b]`` or ``style_layers={a:1,b:0.5}`` -> ``~style_layers +style_layers.a=1 ...``."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    rewritten = []
    for arg in argv:
        parts = split_override(arg)
        if not parts or parts[0] or parts[1] not in LAYER_GROUPS or not parts[2].startswith(("[", "{")):
            rewritten.append(arg)
            continue
        override = OverridesParser.create().parse_override(arg)
        value = override.value()
        if override.is_sweep_override() or not isinstance(value, list | dict):
            rewritten.append(arg)
            continue
        key = parts[1]
        weights = value if isinstance(value, dict) else dict.fromkeys(value, 1.0)
        rewritten += [f"~{key}", *(f"+{key}.{layer}={weight}" for layer, weight in weights.items())]
        if not weights:
            rewritten.append(f"+{key}={{}}")
    return rewritten
