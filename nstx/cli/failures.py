"""How the ``nstx`` command reports a run that did not finish, and its exit status.

Bad input (including Hydra's config mistakes and an output directory Hydra cannot
create) is one line on stderr and exit status 2; Ctrl-C exits 130 and SIGTERM 143, as
shells expect; a divergence, an allocation that failed and a record that could not be
finished are one line and status 1; any other error shows its traceback and exits 1.
A run that stopped early adds what its notes say: where its image is and what became of
its record, so nothing is claimed that did not happen. ``NSTX_DEBUG=1`` or
``hydra.verbose=...`` adds the traceback to every error.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

from nstx.config.errors import as_input_error, first_line, traceback_modules
from nstx.config.overrides import values_of
from nstx.errors import DivergedError, InputError, RecordIncomplete, Terminated, out_of_memory

DEBUG_ENV = "NSTX_DEBUG"
USAGE_ERROR, INTERRUPTED, TERMINATED = 2, 130, 143
NOTHING_STARTED = "before the run started: no image was made and no run was recorded"


def wants_traceback(argv: Sequence[str]) -> bool:
    """``NSTX_DEBUG=1`` in the environment or a ``hydra.verbose=...`` override on the command line."""
    if os.environ.get(DEBUG_ENV, "").lower() not in ("", "0", "false", "no"):
        return True
    return any(value.lower() not in ("false", "[]") for value in values_of("hydra.verbose", argv))


def report(error: BaseException, debug: bool = False) -> int:
    """Print ``error`` for a person at a terminal and return the exit status it calls for."""
    mistake = as_input_error(error) or unwritable_output(error)
    exhausted = out_of_memory(error)
    said_in_a_line = isinstance(error, KeyboardInterrupt | DivergedError | RecordIncomplete)
    if debug or not (mistake is not None or exhausted or said_in_a_line):
        traceback.print_exception(error)
    notes = list(getattr(error, "__notes__", []))
    if mistake is not None:
        print(f"nstx: error: {mistake}", file=sys.stderr)
        return USAGE_ERROR
    if isinstance(error, KeyboardInterrupt):
        what = "terminated (SIGTERM)" if isinstance(error, Terminated) else "interrupted (Ctrl-C)"
        said = f"; {'; '.join(notes)}" if notes else f" {NOTHING_STARTED}"
        print(f"nstx: {what}{said}", file=sys.stderr)
        return TERMINATED if isinstance(error, Terminated) else INTERRUPTED
    if exhausted:
        reason = first_line(str(error)) or type(error).__name__
        notes.insert(0, "lower image_size (or scales, style_scale), or free memory")
        print(f"nstx: error: out of memory ({reason}); {'; '.join(notes)}", file=sys.stderr)
    elif said_in_a_line:
        print("; ".join([f"nstx: error: {error}", *notes]), file=sys.stderr)
    return 1


def unwritable_output(error: BaseException) -> InputError | None:
    """An ``OSError`` from Hydra creating or writing the run/sweep directory, before any job ran."""
    if not isinstance(error, OSError) or error.filename is None:
        return None
    modules = traceback_modules(error)
    in_hydra = any(module.startswith(("hydra.", "hydra_plugins.")) for module in modules)
    in_a_job = any(module.startswith("nstx.") and not module.startswith("nstx.cli.") for module in modules)
    if not in_hydra or in_a_job:
        return None
    return InputError(
        f"output directory {str(error.filename)!r} cannot be written: {error.strerror or error} "
        f"(set hydra.run.dir or hydra.sweep.dir to a writable directory)"
    )
