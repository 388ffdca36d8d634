"""What the built results of plugins must be: the protocols of correlations and style costs, and
:class:`CorrelationCost`, the base of style costs that compare a correlation statistic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from torch import Tensor


class Correlation(Protocol):
    """Features (B, C, H, W) -> a statistic, (B, C, C) for the built-ins."""

    def __call__(self, features: Tensor) -> Tensor: ...


class StyleCost(Protocol):
    """Prepare a target from style features once, then score generated features against it."""

    def prepare(self, styles: Sequence[Tensor], blend: Sequence[float]) -> Any: ...

    def score(self, features: Tensor, target: Any) -> Tensor: ...


class CorrelationCost:
    """A style cost comparing correlation statistics; subclasses define :meth:`distance`.

    The target of several style images is the blend-weighted sum of their statistics.
    """

    def __init__(self, correlation: Correlation) -> None:
        self.correlation = correlation

    def prepare(self, styles: Sequence[Tensor], blend: Sequence[float]) -> Tensor:
        return sum(weight * self.correlation(f) for f, weight in zip(styles, blend, strict=True))

    def score(self, features: Tensor, target: Tensor) -> Tensor:
        return self.distance(self.correlation(features), target)

    def distance(self, statistic: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError
