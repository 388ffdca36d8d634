"""The ``nstx`` command: the Hydra app of :mod:`nstx.cli.app`, with its failures reported.

The stop signals are handled first, before the heavy imports, so that Ctrl-C at any moment of
start-up is one line. Every error reaches :func:`main`, which reports it through
:func:`nstx.cli.failures.report` (one line and exit status 2 for bad input).
"""

from __future__ import annotations

import os
import sys

from nstx.cli.failures import report, wants_traceback
from nstx.engine.signals import shielded, stops_raise
from nstx.errors import Escalated
from nstx.version import __version__


def main() -> None:
    """The console script: load plugin dirs, register their config nodes, run the Hydra app."""
    argv = sys.argv[1:]
    if "--version" in argv:
        print(f"nstx {__version__}")
        return
    full_error = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let errors reach report() rather than Hydra's printer
    try:
        with stops_raise(process_ends=True):
            try:
                from nstx.cli.app import launch

                launch(argv)
            except SystemExit:
                raise
            except BaseException as error:
                failure = error.__cause__ if isinstance(error, Escalated) else error
                with shielded():
                    from nstx.tracking.sweep import end_sweep

                    # Hydra skips on_multirun_end when a job fails or on Ctrl-C: the parent ends here.
                    end_sweep(failure)
                    status = report(failure, debug=wants_traceback(argv) or full_error is not None)
                sys.exit(status)
    finally:
        if full_error is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = full_error
