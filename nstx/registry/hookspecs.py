"""The plugin contract: what nstx asks of plugins and when, and the run records hooks see.

Each plugin kind has one ``nstx_register_<kind>(register)`` hook; a plugin calls
``register(name, impl)`` once per implementation it offers (the forms an implementation
may take are in :mod:`nstx.registry.kinds`). The lifecycle hooks are called for every
run, so trackers, progress displays and the judge are plugins too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import torch
    from omegaconf import DictConfig
    from PIL import Image
    from torch import Tensor

    from nstx.encoder.execution import Execution

hookspec = pluggy.HookspecMarker("nstx")
hookimpl = pluggy.HookimplMarker("nstx")

Register = Callable[[str, Any], None]
Scorer = Callable[[int, "Image.Image"], dict[str, float]]


@dataclass
class Run:
    """What lifecycle hooks see of a run."""

    config: DictConfig
    output_dir: Path | None
    device: torch.device
    name: str  # what the run is: its pictures, and what the command line changed
    content: Tensor
    styles: list[Tensor]
    weights: str
    tags: dict[str, str] = field(default_factory=dict)
    total_steps: int = 0
    execution: Execution | None = None
    step: int = 0  # the last completed step
    losses: dict[str, float] = field(default_factory=dict)  # the last reported breakdown
    # The inputs as given (before resizing and colour modes), for plugins that need them.
    content_image: Image.Image | None = None
    style_images: list[Image.Image] = field(default_factory=list)
    blend: list[float] = field(default_factory=list)
    # The judge's scores of the image at a step (nstx.judge.plugin sets it; None: not judged).
    judge: Scorer | None = None


@dataclass
class Result:
    """The outcome of a run: the image, the last loss breakdown and where it was saved."""

    image: Image.Image
    steps: int
    losses: dict[str, float]
    weights: str
    output: Path | None = None
    scores: dict[str, float] = field(default_factory=dict)  # the judge's scores of ``image``
    # Where lifecycle plugins recorded the run, in a few words each (the tracker: its MLflow run).
    records: dict[str, str] = field(default_factory=dict)


@hookspec
def nstx_register_backbone(register: Register) -> None:
    """Register backbones: ``impl(weights=..., **params) -> nstx.encoder.Backbone``."""


@hookspec
def nstx_register_pooling(register: Register) -> None:
    """Register poolings: ``impl(layer, **params) -> nn.Module`` replacing a pooling layer."""


@hookspec
def nstx_register_correlation(register: Register) -> None:
    """Register correlations: ``f(features, **params) -> statistic``, or a class / factory
    ``impl(**params)`` that is callable on (B, C, H, W) features."""


@hookspec
def nstx_register_style_cost(register: Register) -> None:
    """Register style costs: ``f(statistic, target, **params) -> scalar``, or a class / factory
    ``impl(correlation=..., **params)`` with ``prepare``/``score``."""


@hookspec
def nstx_register_optimizer(register: Register) -> None:
    """Register optimizers: ``impl(params, **options)`` returns an object with ``step(closure)``."""


@hookspec
def nstx_register_init(register: Register) -> None:
    """Register initialisations: ``impl(content, style, generator, **params) -> image``."""


@hookspec
def nstx_check(config: DictConfig) -> None:
    """Before any work: raise an ``InputError`` for a setting of this plugin that no run can use
    (the tracker opens its store here, so that a store it cannot use stops nothing half-done)."""


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
def nstx_run_end(run: Run, result: Result | None, status: str, error: BaseException | None) -> str | None:
    """A run ended with ``status`` FINISHED, FAILED or KILLED; always called once per start, with
    the image already saved. May return a line saying what became of the run's record (``MLflow run
    ... was recorded as KILLED``), which ends the command's report of a run that stopped early."""
