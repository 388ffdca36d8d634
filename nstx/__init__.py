"""nstx: neural style transfer experiments with pluggable parts, Hydra sweeps and MLflow."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("nstx")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__", "compose", "evaluate", "run", "stylize"]


def __getattr__(name: str) -> Any:
    # The API pulls in torch; import it on first use so that `nstx --help` stays fast.
    if name in ("compose", "run", "stylize"):
        from nstx import api

        return getattr(api, name)
    if name == "evaluate":
        from nstx.judge import evaluate

        return evaluate
    raise AttributeError(f"module 'nstx' has no attribute {name!r}")
