"""nstx: neural style transfer experiments with pluggable parts, Hydra sweeps and MLflow."""

from __future__ import annotations

from typing import Any

from nstx.version import __version__

__all__ = ["__version__", "compose", "evaluate", "run", "stylize"]


def __getattr__(name: str) -> Any:
    # The API pulls in torch; import it on first use so that `nstx --help` stays fast.
    if name in ("compose", "run", "stylize"):
        from nstx import api

        return getattr(api, name)
    if name == "evaluate":
        from nstx.judge.ruler import evaluate

        return evaluate
    raise AttributeError(f"module 'nstx' has no attribute {name!r}")
