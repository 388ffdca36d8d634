"""Where plugins import the markers from: ``from nstx.hookspecs import hookimpl``.

The contract itself lives in :mod:`nstx.registry.hookspecs`.
"""

from nstx.registry.hookspecs import Result, Run, hookimpl, hookspec

__all__ = ["Result", "Run", "hookimpl", "hookspec"]
