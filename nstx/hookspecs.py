"""The plugin contract: what nstx asks of plugins and when.

Each plugin kind has one ``nstx_register_<kind>(register)`` hook; a plugin calls
``register(name, impl)`` once per implementation it offers. The lifecycle hooks
are called by the engine for every run, so trackers and progress displays are
plugins too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from nstx.engine import Result, Run

hookspec = pluggy.HookspecMarker("nstx")
hookimpl = pluggy.HookimplMarker("nstx")

Register = Callable[[str, Any], None]


@hookspec
def nstx_register_backbone(register: Register) -> None:
    """Register backbones: ``impl(weights=..., **params) -> nstx.features.Backbone``."""


@hookspec
def nstx_register_pooling(register: Register) -> None:
    """Register poolings: ``impl(layer, **params) -> nn.Module`` replacing a pooling layer."""


@hookspec
def nstx_register_correlation(register: Register) -> None:
    """Register correlations: ``impl(**params)`` is callable on (B, C, H, W) -> (B, C, C)."""


@hookspec
def nstx_register_style_cost(register: Register) -> None:
    """Register style costs: ``impl(correlation=..., **params)`` with ``prepare``/``score``."""


@hookspec
def nstx_register_optimizer(register: Register) -> None:
    """Register optimizers: ``impl(params, **options)`` returns an object with ``step(closure)``."""


@hookspec
def nstx_register_init(register: Register) -> None:
    """Register initialisations: ``impl(content, style, generator, **params) -> image``."""


@hookspec
def nstx_run_start(run: Run) -> None:
    """A run is about to optimise; ``run`` holds its config, inputs and output directory."""


@hookspec
def nstx_step(
    run: Run, step: int, losses: dict[str, float], image: Callable[[], Any], seconds: float
) -> None:
    """A step finished (called every ``log_every`` steps and at the last one).

    ``losses`` is the weighted breakdown (``total``, ``content``, ``style``, ``tv``,
    ``style/<layer>``); ``image()`` renders the current image as PIL on demand;
    ``seconds`` is the wall time of this step.
    """


@hookspec
def nstx_run_end(run: Run, result: Result | None, status: str, error: BaseException | None) -> None:
    """A run ended with ``status`` FINISHED, FAILED or KILLED; always called once per start."""
