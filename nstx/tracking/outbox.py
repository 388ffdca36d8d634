"""A run's calls to MLflow, made in order by a thread of their own, so that a slow or dead
tracking server never holds up the optimisation.

Each request is bounded by MLflow's HTTP settings (:data:`nstx.tracking.store.HTTP_POLICY`).
After the first call that fails, the rest are dropped: the record is incomplete, and saying so
once beats waiting on a dead server at every step. At the end the run waits for the calls at
most :data:`FINISH_SECONDS`; that is all an unreachable server can cost a run.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Callable

FINISH_SECONDS = 30.0
MAX_REASON_CHARS = 300


class Outbox:
    """Calls made one after another by a daemon thread; :meth:`close` waits for them, bounded."""

    def __init__(self, name: str) -> None:
        self.calls: queue.SimpleQueue[Callable[[], object] | None] = queue.SimpleQueue()
        self.failure: Exception | None = None
        self.thread = threading.Thread(target=self.work, name=name, daemon=True)
        self.thread.start()

    def put(self, call: Callable[[], object]) -> None:
        if self.failure is None:
            self.calls.put(call)

    def work(self) -> None:
        while (call := self.calls.get()) is not None:
            if self.failure is not None:
                continue
            try:
                call()
            except Exception as error:
                self.failure = error

    def close(self, seconds: float = FINISH_SECONDS) -> str | None:
        """Wait up to ``seconds`` for the calls so far; None when all were made, else why not."""
        self.calls.put(None)
        self.thread.join(seconds)
        if self.thread.is_alive():
            return f"the store did not answer within {seconds:g} s"
        if self.failure is not None:
            return short(self.failure)
        return None


def short(error: Exception) -> str:
    """Why a call failed, in a few words: the operating system's reason when a connection failed
    (MLflow's message spells out the whole retry history), else the message itself."""
    text = " ".join(str(error).split())
    failed = re.search(r"\[Errno -?\d+\] [^\"'()]+|[\w ]*timed out", text)
    if failed is not None:
        return f"the store stopped answering ({failed.group(0).strip()})"
    return f"{type(error).__name__}: {text[:MAX_REASON_CHARS]}"
