"""Ctrl-C (SIGINT) and SIGTERM stop a run once: the first raises, so that the image is saved and
the run ends KILLED; the ones after it are held until the process has finished that record, so
a second Ctrl-C cannot cut it short (the record's own wait is bounded; Ctrl-\\ still quits).

Only the main thread can install signal handlers; elsewhere these blocks change nothing.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from nstx.errors import Terminated

STOPS = (signal.SIGINT, signal.SIGTERM)
HELD_NOTICE = b"nstx: stopping; saving the image and the record first (Ctrl-\\ quits at once)\n"

_installed = False


def stop_error(signum: int) -> KeyboardInterrupt:
    """What a stop signal raises: ``KeyboardInterrupt`` for Ctrl-C, :class:`Terminated` for SIGTERM."""
    if signum == signal.SIGTERM:
        return Terminated(f"received {signal.Signals(signum).name}")
    return KeyboardInterrupt()


def held(signum: int, frame: FrameType | None) -> None:
    os.write(2, HELD_NOTICE)  # unbuffered: safe wherever the main thread was interrupted


def raise_first(signum: int, frame: FrameType | None) -> None:
    for stop in STOPS:
        if signal.getsignal(stop) == raise_first:
            signal.signal(stop, held)
    raise stop_error(signum)


def in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def stops_raise(process_ends: bool = False) -> Iterator[None]:
    """Within the block, the first SIGINT or SIGTERM raises; later ones are held. Nested blocks
    leave the outermost in charge, which restores the previous handlers on exit; with
    ``process_ends`` (the command's own block) a stop that came leaves later ones ignored
    instead, so that one arriving while the interpreter shuts down cannot change the exit
    status the first one set."""
    global _installed
    if _installed or not in_main_thread():
        yield
        return
    # A stop ignored by whoever started the process (a shell's background job) stays ignored.
    previous = {stop: handler for stop in STOPS if (handler := signal.getsignal(stop)) != signal.SIG_IGN}
    for stop in previous:
        signal.signal(stop, raise_first)
    _installed = True
    try:
        yield
    finally:
        _installed = False
        stopped = any(signal.getsignal(stop) == held for stop in previous)
        for stop, handler in previous.items():
            kept = signal.SIG_IGN if process_ends and stopped else handler
            signal.signal(stop, kept if kept is not None else signal.SIG_DFL)


@contextmanager
def shielded() -> Iterator[list[int]]:
    """Within the block, SIGINT and SIGTERM are held; yields the list of those that arrived, for
    the caller to act on once the block is done."""
    arrived: list[int] = []
    if not in_main_thread():
        yield arrived
        return

    def hold(signum: int, frame: FrameType | None) -> None:
        arrived.append(signum)
        held(signum, frame)

    previous = {stop: signal.signal(stop, hold) for stop in STOPS}
    try:
        yield arrived
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler if handler is not None else signal.SIG_DFL)
