"""What both benchmarks share: their set-up, a device-synchronised clock, the machine's
description, and lifecycle plugins that take part in a block of runs."""

from __future__ import annotations

import argparse
import os
import platform
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def registered(plugin: object, name: str) -> Iterator[None]:
    """``plugin``'s lifecycle hooks take part in the runs made inside the block."""
    from nstx import registry

    reg = registry.default()
    reg.register(plugin, name=name)
    try:
        yield
    finally:
        reg.unregister(plugin)


def clock(device: Any) -> tuple[float, float]:
    """Wall and process CPU seconds, once ``device`` has finished its queued work."""
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter(), time.process_time()


def prepare(args: argparse.Namespace) -> tuple[Any, int]:
    """What both benchmarks do first: check the output paths, load plugins, set the threads.

    Returns the device and the number of torch threads.
    """
    import torch

    from nstx.config.overrides import values_of
    from nstx.config.store import use_plugins
    from nstx.encoder.execution import resolve_device
    from nstx.image import io

    for path in (args.json, args.plot):
        if path is not None:  # before minutes of measuring, not after
            io.ensure_writable(path.expanduser().parent)
    use_plugins(values_of("plugins_dir", args.overrides))  # so that their plugins can be named
    if args.threads:
        torch.set_num_threads(args.threads)
    return resolve_device(args.device), torch.get_num_threads()


def machine(device: Any, threads: int) -> dict[str, Any]:
    import torch

    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "torch_threads": threads,
        "device": str(device),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        if match:
            return match.group(1).strip()
    return platform.processor() or "unknown"


def square_samples() -> tuple[Any, Any]:
    """The bundled sample images, centre-cropped square so that every size is size x size."""
    from nstx import samples
    from nstx.image import io

    def square(path: Any) -> Any:
        image = io.open_image(path, 10**9)
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        return image.crop((left, top, left + side, top + side))

    return square(samples.CONTENT), square(samples.STYLE)
