"""The value a run hands back to a Hydra sweeper (Optuna and others), chosen by ``objective``.

The weighted total loss is what the optimiser minimised, so a search over the weights
themselves needs a measure that does not move with them: the unweighted content and style
distances. ``objective: [content, style]`` returns both, for a two-objective search.
"""

from __future__ import annotations

from collections.abc import Mapping

from omegaconf import DictConfig, ListConfig

from nstx.errors import InputError

OBJECTIVES = {
    "total": "the weighted total loss the optimiser minimised",
    "content": "the content loss divided by content_weight",
    "style": "the sum over style layers of each layer's style cost, without style_weight and layer weights",
}


def objective_names(config: DictConfig) -> list[str]:
    """The names in ``config.objective`` (one name or a list), checked before the run starts."""
    value = config.get("objective", "total")
    names = [str(name) for name in value] if isinstance(value, ListConfig | list) else [str(value)]
    for name in names:
        if name not in OBJECTIVES:
            raise InputError(f"unknown objective {name!r} (accepted: {', '.join(OBJECTIVES)}, or a list)")
    needs = {"content": "content_weight", "style": "style_weight"}
    for name in names:
        if name in needs and not float(config[needs[name]]):
            raise InputError(f"objective {name!r} needs {needs[name]} > 0")
    return names


def unweighted_style(config: DictConfig, losses: Mapping[str, float]) -> float:
    """Sum of ``style/<layer>`` divided by ``style_weight`` and the layer's own weight.

    The engine reports layers in the order of ``style_layers`` with zero weights left out
    (under canonical names, which may differ from aliases in the config).
    """
    layer_weights = [float(w) for w in config.style_layers.values() if float(w)]
    reported = [value for key, value in losses.items() if key.startswith("style/")]
    if len(reported) != len(layer_weights):
        raise InputError(
            f"objective 'style': {len(reported)} style layers reported, {len(layer_weights)} configured"
        )
    style_weight = float(config.style_weight)
    return sum(value / (style_weight * weight) for value, weight in zip(reported, layer_weights, strict=True))


def objective_value(names: list[str], config: DictConfig, losses: Mapping[str, float]) -> float | list[float]:
    """One float for one name, a list of floats for several (Optuna's multi-objective form)."""
    measures = {
        "total": lambda: float(losses["total"]),
        "content": lambda: float(losses["content"]) / float(config.content_weight),
        "style": lambda: unweighted_style(config, losses),
    }
    values = [measures[name]() for name in names]
    return values[0] if len(values) == 1 else values
