"""Why a run stopped early: bad input, a failing plugin, divergence or a termination signal.

The CLI prints :class:`InputError` as one line (exit code 2); the others end the run
FAILED or KILLED with their message recorded. The helpers below write those one lines.
"""

from __future__ import annotations

import difflib
import errno
import math
import os
import stat
import sys
from collections.abc import Iterable
from pathlib import Path

MISSING = "does not exist"


class InputError(ValueError):
    """A value given by the user cannot be used; the message names it and what is accepted."""


class PluginError(RuntimeError):
    """A plugin raised; the message names its kind, its name and the plugin that registered it."""


class DivergedError(ArithmeticError):
    """The loss or the image became NaN or infinite; the last finite image was kept."""

    def __init__(self, step: int, reason: str) -> None:
        super().__init__(f"diverged at step {step}: {reason} (lower the learning rate or the loss weights)")
        self.step = step
        self.reason = reason

    def __reduce__(self) -> tuple[type, tuple[int, str]]:
        # Pickled back from joblib/submitit workers with its fields, not its message.
        return type(self), (self.step, self.reason)


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: handled like Ctrl-C, so the current image is saved and the run ends KILLED."""


class RecordIncomplete(RuntimeError):
    """The tracker could not complete a run's record; the run's own outputs are intact."""


class Escalated(BaseException):
    """Carries the error in ``__cause__`` past Hydra, which prints a job's error itself and only
    warns about a callback's; the command reports the cause."""


def out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is an allocation that failed: Python's, torch's CPU allocator's or CUDA's."""
    torch = sys.modules.get("torch")
    if isinstance(error, MemoryError) or (torch is not None and isinstance(error, torch.OutOfMemoryError)):
        return True
    return isinstance(error, RuntimeError) and "can't allocate memory" in str(error)


def unknown(what: str, value: object, choices: Iterable[str]) -> str:
    """The one-line message for a value that is not among ``choices``, with the closest one."""
    choices = sorted(choices)
    message = f"unknown {what} {value!r}"
    close = difflib.get_close_matches(str(value), choices, n=1)
    if close:
        message += f"; did you mean {close[0]!r}?"
    return f"{message} (available: {', '.join(choices)})"


def number(value: object, key: str, whole: bool = False) -> float | int:
    """``value`` as a finite number (an integer with ``whole``), or an :class:`InputError` naming ``key``."""
    accepted = "an integer" if whole else "a finite number"
    if whole and isinstance(value, int) and not isinstance(value, bool):
        return value  # exact at any size, where a float would round it
    try:
        parsed = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{key} must be {accepted}, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(parsed) or (whole and not parsed.is_integer()):
        raise InputError(f"{key} must be {accepted}, got {value!r}")
    return int(parsed) if whole else parsed


def positive_int(value: object, key: str) -> int:
    """``value`` as an integer > 0, or an :class:`InputError` naming ``key``."""
    parsed = number(value, key, whole=True)
    if parsed <= 0:
        raise InputError(f"{key} must be a positive integer, got {value!r}")
    return int(parsed)


def integer_in(value: object, key: str, low: int, high: int, why: str) -> int:
    """``value`` as an integer from ``low`` to ``high``, or an :class:`InputError` saying ``why``."""
    parsed = int(number(value, key, whole=True))
    if not low <= parsed <= high:
        raise InputError(f"{key} must be an integer from {low} to {high} ({why}), got {value!r}")
    return parsed


def flag(value: object, key: str) -> bool:
    """``value`` as a boolean: only true or false, never a word or number that might mean one."""
    if not isinstance(value, bool):
        raise InputError(f"{key} must be true or false, got {value!r}")
    return value


def unusable_path(given: object, directory: bool = False) -> str | None:
    """Why the path ``given`` is no file to read (no directory, with ``directory``), in words
    that follow its name in a message; None when it is one. :data:`MISSING` when nothing is there."""
    if not str(given).strip():
        return "is empty (no path given)"
    path = Path(str(given)).expanduser()
    try:
        mode = path.stat().st_mode
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "is a symbolic link that loops back on itself"
        if path.is_symlink():
            return f"is a broken symbolic link (to {os.readlink(path)!r}, which does not exist)"
        if error.errno in (errno.ENOENT, errno.ENOTDIR):
            return MISSING
        return f"cannot be read ({error.strerror})"
    if directory:
        return None if stat.S_ISDIR(mode) else "is not a directory"
    if stat.S_ISDIR(mode):
        return "is a directory"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a device, a pipe or a socket)"
    if not os.access(path, os.R_OK):
        return "cannot be read (permission denied)"
    return None
