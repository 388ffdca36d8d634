"""How the feature extractor runs on a device: memory format, precision and compilation.

Chosen once per run from the ``device``, ``precision`` and ``compile`` settings. Only the backbone's
features use reduced precision; losses and the optimizer state stay in fp32. An option
that does not apply on the device falls back with one log line (see docs/performance.md
for the measurements behind each choice).
"""

from __future__ import annotations

import ctypes
import functools
import logging
import platform
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from nstx.errors import InputError

log = logging.getLogger(__name__)

PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
# Device types where torch.compile of the extractor pays off (on CPU: a long compile, no gain).
COMPILES = ("cuda",)

Features = Callable[[Tensor], dict[str, Tensor]]


def memory_format(device: torch.device) -> torch.memory_format:
    """channels_last on CPU (measured faster for VGG) and CUDA (cuDNN's native layout)."""
    return torch.channels_last if device.type in ("cpu", "cuda") else torch.contiguous_format


def reduced_precision_pays_off(precision: str, device: torch.device) -> bool:
    """Whether features in ``precision`` run faster than fp32 on ``device``.

    CUDA: fp16 always, bf16 where supported. CPU: bf16 with AVX512-BF16 or AMX (measured
    about twice as fast as fp32); fp16 never (measured several times slower without
    native fp16 units).
    """
    if device.type == "cuda":
        return precision == "fp16" or torch.cuda.is_bf16_supported()
    if device.type == "cpu" and precision == "bf16":
        capabilities = torch.cpu.get_capabilities()
        return bool(capabilities.get("avx512_bf16") or capabilities.get("amx_bf16"))
    return False


# glibc mallopt parameters (malloc.h).
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4


@functools.cache
def keep_freed_memory() -> bool:
    """Have glibc's malloc keep freed blocks for reuse instead of handing them back.

    Each step allocates and frees the same feature-map-sized blocks. By default glibc
    maps large blocks afresh and trims its heap, so the kernel zero-fills them page by
    page on every step (6,500-18,000 page faults per 256 px step, measured). Its mmap
    threshold can be raised to 32 MB at most, which still leaves 512 px maps (64 MB) to
    fault again on every step (41,000 page faults per step, measured). So every block
    comes from the heap, and the heap is never trimmed: steps take almost no page faults,
    and the process keeps its peak memory until it exits. Set once per process, on glibc only.
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)
    kept = libc.mallopt(M_MMAP_MAX, 0) == 1 and libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1) == 1
    log.debug("glibc malloc keeps freed blocks: %s", kept)
    return kept


@dataclass(frozen=True)
class Execution:
    """The settings a run's feature passes use; build it with :meth:`choose`."""

    device: torch.device
    precision: str = "fp32"
    compile: bool = False

    @classmethod
    def choose(cls, device: torch.device, precision: str, compiled: bool) -> Execution:
        """Validate ``precision``, fall back where it or ``compile`` does not apply, tune cuDNN."""
        if precision not in PRECISIONS:
            raise InputError(f"precision {precision!r} is not one of {', '.join(PRECISIONS)}")
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        if device.type == "cpu":
            keep_freed_memory()
        if precision != "fp32" and not reduced_precision_pays_off(precision, device):
            log.warning("precision=%s brings no speed-up on %s; running in fp32", precision, device)
            precision = "fp32"
        if compiled and device.type not in COMPILES:
            log.warning("compile=true does not pay off on %s; running the extractor eager", device.type)
            compiled = False
        return cls(device=device, precision=precision, compile=compiled)

    def features(self, extractor: nn.Module, compiled: bool = True) -> Features:
        """``extractor`` as it runs for this device: compiled if asked, under autocast if reduced.

        Targets are computed once with ``compiled=False``: a compile pays off only in the loop.
        """
        module = torch.compile(extractor) if self.compile and compiled else extractor
        if self.precision == "fp32":
            return module
        dtype = PRECISIONS[self.precision]

        def reduced(image: Tensor) -> dict[str, Tensor]:
            with torch.autocast(self.device.type, dtype=dtype):
                return module(image)

        return reduced


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; anything else must exist here."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise InputError(f"unknown device {name!r} (accepted: auto, cpu, cuda, cuda:N, mps)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {name!r} requested but CUDA is not available on this machine")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise InputError(f"device {name!r}: only {torch.cuda.device_count()} CUDA device(s)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise InputError(f"device {name!r} requested but MPS is not available on this machine")
    return device
