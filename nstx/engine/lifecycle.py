"""A run's life around its loop: the lifecycle hooks, the image kept whichever way it ends,
and errors from plugin code named after their plugin."""

from __future__ import annotations

import logging
import platform
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from PIL import Image
from torch import Tensor

from nstx.engine.signals import shielded, stop_error
from nstx.errors import DivergedError, InputError, PluginError, RecordIncomplete, out_of_memory
from nstx.image import color, io
from nstx.registry import Registry
from nstx.registry.hookspecs import Result, Run

OUTPUT_FILE = "stylized.png"

log = logging.getLogger(__name__)


def blame(registry: Registry, error: Exception) -> Exception:
    """``error`` itself, or a :class:`PluginError` naming the plugin whose code raised it."""
    if isinstance(error, InputError | PluginError | DivergedError | RecordIncomplete) or out_of_memory(error):
        return error
    culprit = registry.culprit(error)
    if culprit is None:
        return error
    return PluginError(f"{culprit} failed: {type(error).__name__}: {error}")


@contextmanager
def plugins_named(registry: Registry) -> Iterator[None]:
    """Re-raise an error from plugin code as a :class:`PluginError` that names the plugin."""
    try:
        yield
    except Exception as error:
        named = blame(registry, error)
        if named is error:
            raise
        raise named from error


def library_versions() -> dict[str, str]:
    """The versions a result depends on, recorded with every run."""
    import PIL
    import torchvision

    from nstx.version import __version__

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "pillow": PIL.__version__,
        "nstx": __version__,
    }


@dataclass
class Canvas:
    """The image being optimised (one tensor per level) and how hooks and outputs see it."""

    image: Tensor | None = None
    render: color.Render = color.identity

    def picture(self) -> Image.Image:
        """The image as it is now, rendered and clamped."""
        assert self.image is not None
        return io.to_pil(self.render(self.image.detach()))


def keep(run: Run, canvas: Canvas) -> Result | None:
    """The image as it is now, saved into the run's output directory when it has one."""
    if canvas.image is None:
        return None
    final = canvas.picture()
    saved = io.save_png(final, run.output_dir / OUTPUT_FILE) if run.output_dir is not None else None
    return Result(image=final, steps=run.step, losses=dict(run.losses), weights=run.weights, output=saved)


def saved_where(result: Result | None) -> str:
    if result is None:
        return "no image was made yet"
    if result.output is None:
        return f"the image of step {result.steps} is kept in the result (no output directory)"
    return f"the image of step {result.steps} was saved to {result.output}"


def track(run: Run, registry: Registry, loop: Callable[[], object], canvas: Canvas) -> Result:
    """Call the lifecycle hooks around ``loop``; keep the image whichever way the run ends.

    However the run ends (finished, diverged, interrupted, or a plugin raised), its last finite
    image is saved before the end hooks run, and that ending is shielded from further Ctrl-C and
    SIGTERM. A run that stopped early raises its error, with notes saying where its image is and
    what became of its record (the end hooks' lines).
    """
    status, error = "FAILED", None
    try:
        with plugins_named(registry):
            registry.hook.nstx_run_start(run=run)
            loop()
        status = "FINISHED"
    except KeyboardInterrupt as interrupt:
        status, error = "KILLED", interrupt
    except Exception as failure:  # diverged, out of memory, or a plugin's error, already named
        error = failure
    with shielded() as arrived:
        result = keep(run, canvas)
        if isinstance(error, KeyboardInterrupt):
            log.warning("interrupted after step %d; %s", run.step, saved_where(result))
        elif error is not None:
            log.error("%s; %s", error, saved_where(result))
        try:
            with plugins_named(registry):
                lines = registry.hook.nstx_run_end(run=run, result=result, status=status, error=error)
        except Exception as failure:  # the record is incomplete, or an end hook failed
            if error is None:
                raise
            error.add_note(str(failure))
            lines = []
    if arrived and status != "KILLED":  # a stop that came while the run was ending
        error, cause = stop_error(arrived[0]), error
        error.__cause__ = cause
    if error is None:
        return result
    for line in [saved_where(result), *lines]:
        error.add_note(line)
    raise error
