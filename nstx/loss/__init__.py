"""The objective (content, style and TV terms), spatially guided style costs, and the tensor
operations style costs share. Plugins build on :class:`CorrelationCost`."""

from nstx.registry.contract import Correlation, CorrelationCost, StyleCost

__all__ = ["Correlation", "CorrelationCost", "StyleCost"]
