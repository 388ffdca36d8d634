"""The plugin kinds, in one table: what nstx gives an implementation, what it must return, and
the forms an implementation may take, a plain function among them.

The registry, the option checks (:mod:`nstx.registry.signatures`), the config store, ``nstx
--help``, ``nstx-plugins`` and the table in docs/plugins.md all derive from :data:`KINDS`.
A form says which leading positional parameters and which keywords nstx fills; the other
parameters of the signature are the plugin's options, set in the config. A plain function
is wrapped at registration (as llm wraps a function into a Tool), so the run calls every
implementation of a kind the same way.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nstx.registry.contract import CorrelationCost

if TYPE_CHECKING:
    from torch import Tensor

POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def statistic_function(function: Callable[..., Tensor]) -> Callable[..., Callable[[Tensor], Tensor]]:
    """``f(features, **options)`` -> a factory of correlations, ``make(**options)(features)``."""

    @functools.wraps(function)
    def make(**options: Any) -> Callable[[Tensor], Tensor]:
        return functools.partial(function, **options)

    return make


class FunctionCost(CorrelationCost):
    """A style cost from ``f(statistic, target, **options)``: the target is the blended statistic."""

    def __init__(self, function: Callable[..., Tensor], correlation: Any, options: Mapping[str, Any]) -> None:
        super().__init__(correlation)
        self.function, self.options = function, dict(options)

    def distance(self, statistic: Tensor, target: Tensor) -> Tensor:
        return self.function(statistic, target, **self.options)


def cost_function(function: Callable[..., Tensor]) -> Callable[..., FunctionCost]:
    """``f(statistic, target, **options)`` -> a factory of style costs, ``make(correlation=..., **opts)``."""

    @functools.wraps(function)
    def make(correlation: Any, **options: Any) -> FunctionCost:
        return FunctionCost(function, correlation, options)

    return make


@dataclass(frozen=True)
class Form:
    """One shape of implementation: the parameters nstx fills, and the wrapper for a plain function."""

    label: str  # "a function", "a class or factory", ...
    signature: str  # how nstx calls it
    positional: int = 0  # leading positional parameters nstx fills
    keywords: tuple[str, ...] = ()  # keyword parameters nstx fills
    adapt: Callable[[Any], Any] | None = None

    def fits(self, impl: Any, exact: bool = False) -> bool:
        """Whether ``impl``'s signature takes what this form fills (no signature: assumed).

        A plain function to wrap must require exactly the positional arguments nstx fills, so
        that a factory whose options all have defaults is never taken for one. With ``exact``
        (a kind that also takes plain functions), so must a factory function: one that needs
        other positional arguments is a plain function of the wrong shape, not a factory.
        Otherwise further positional parameters are options, set in the config.
        """
        try:
            parameters = list(inspect.signature(impl).parameters.values())
        except (TypeError, ValueError):  # a builtin, say
            return self.adapt is None
        if self.adapt is not None and isinstance(impl, type):
            return False  # a class is built, never wrapped
        positional = [p for p in parameters if p.kind in POSITIONAL and p.name not in self.keywords]
        required = len([p for p in positional if p.default is inspect.Parameter.empty])
        if self.adapt is not None or (exact and not isinstance(impl, type)):
            return required == self.positional
        varargs = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters)
        return len(positional) >= self.positional or varargs

    @property
    def shape(self) -> str:
        return f"{self.label} {self.signature}"

    def build(self, impl: Any) -> Any:
        """What the run calls: ``impl`` itself, or its wrapper."""
        return impl if self.adapt is None else self.adapt(impl)


@dataclass(frozen=True)
class Kind:
    """One plugin kind: its config group, what an implementation gets and returns, its forms."""

    name: str
    given: str
    returns: str
    forms: tuple[Form, ...]

    def form_of(self, impl: Any) -> Form | None:
        """The first form ``impl`` fits; None where it fits none."""
        exact = any(form.adapt is not None for form in self.forms)
        return next((form for form in self.forms if form.fits(impl, exact)), None)

    def accepted(self) -> str:
        return "; or ".join(form.shape for form in self.forms)


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "backbone",
            "the weights setting (`auto`, `original`, `imagenet`, `random`, a file)",
            "an `nstx.encoder.Backbone`: named layers (`relu1_1`, `conv4_2`, `pool1`, ...), their input "
            "normalisation and pooling layers",
            (Form("a function or class", "impl(weights=..., **options) -> Backbone", keywords=("weights",)),),
        ),
        Kind(
            "pooling",
            "the backbone's pooling layer",
            "the module that replaces it (max, average)",
            (Form("a function or class", "impl(layer, **options) -> nn.Module", positional=1),),
        ),
        Kind(
            "correlation",
            "features (B, C, H, W)",
            "a statistic, (B, C, C) for the built-ins (Gram, covariance, mean-shifted)",
            (
                Form(
                    "a function",
                    "f(features, **options) -> statistic",
                    positional=1,
                    adapt=statistic_function,
                ),
                Form("a class or factory", "impl(**options) -> callable(features)"),
            ),
        ),
        Kind(
            "style_cost",
            "the style features once, then the image's features at every step",
            "a score: how far the image's statistics or features are from the style's",
            (
                Form(
                    "a function over the correlation's statistic",
                    "f(statistic, target, **options) -> scalar",
                    positional=2,
                    adapt=cost_function,
                ),
                Form(
                    "a class or factory",
                    "impl(correlation=..., **options) -> .prepare(styles, blend), .score(features, target)",
                    keywords=("correlation",),
                ),
            ),
        ),
        Kind(
            "optimizer",
            "the image tensor to optimise",
            "an object whose step(closure) makes one iteration (L-BFGS, Adam)",
            (Form("a function or class", "impl(params, **options) -> .step(closure)", positional=1),),
        ),
        Kind(
            "init",
            "the content, the first style (tensors at the content's size) and a seeded generator",
            "the starting image, (1, 3, H, W) in [0, 1]",
            (Form("a function", "impl(content, style, generator, **options) -> image", positional=3),),
        ),
    )
}


def markdown_table(kinds: Sequence[Kind] = tuple(KINDS.values())) -> str:
    """The kinds as the Markdown table of docs/plugins.md."""
    lines = ["| kind | an implementation is given | and returns | its forms |", "| --- | --- | --- | --- |"]
    for kind in kinds:
        forms = "<br>".join(f"{form.label}: `{form.signature}`" for form in kind.forms)
        lines.append(f"| `{kind.name}` | {kind.given} | {kind.returns} | {forms} |")
    return "\n".join(lines)
