"""A plugin's options, read from its signature: offered by the config store, checked before a run.

A plugin group's config node is ``name`` plus keyword arguments for the implementation: the
parameters its form (:mod:`nstx.registry.kinds`) leaves to the config. Without the check, a
key it does not take or a value of another type than its default would end in a traceback
from inside the run, once the backbone had been loaded.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nstx.errors import InputError, flag, integer_in, unknown
from nstx.registry.kinds import POSITIONAL, Form

if TYPE_CHECKING:
    from nstx.registry.manager import Entry

NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


@dataclass(frozen=True)
class Parameters:
    """What an implementation takes from its config node, read from its signature."""

    options: dict[str, inspect.Parameter]  # what the config may set, by name
    engine_fills: frozenset[str]  # what the engine passes itself
    takes_any: bool  # it has **kwargs


def parameters(impl: Any, form: Form) -> Parameters | None:
    """The options of ``impl`` in ``form``, or None where it has no Python signature."""
    try:
        signature = list(inspect.signature(impl).parameters.values())
    except (TypeError, ValueError):  # a builtin, say
        return None
    positional, engine_fills = form.positional, set(form.keywords)
    while positional and signature and signature[0].kind in POSITIONAL:
        engine_fills.add(signature[0].name)
        signature, positional = signature[1:], positional - 1
    return Parameters(
        options={p.name: p for p in signature if p.kind in NAMED and p.name not in engine_fills},
        engine_fills=frozenset(engine_fills),
        takes_any=any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature),
    )


def check(entry: Entry, options: Mapping[str, Any]) -> None:
    """Raise an :class:`InputError` for an option the entry does not take, lacks or cannot use."""
    takes = parameters(entry.impl, entry.form)
    if takes is None:
        return
    kind, what = entry.kind, f"{entry.kind}={entry.name}"
    for key, value in options.items():
        if key in takes.options:
            check_type(f"{kind}.{key}", value, takes.options[key])
        elif key in takes.engine_fills:
            raise InputError(f"{kind}.{key} is not an option: nstx passes it to {what} itself")
        elif not takes.takes_any and not takes.options:
            raise InputError(f"{what} takes no options, got {kind}.{key}")
        elif not takes.takes_any:
            raise InputError(unknown(f"{what} option", key, takes.options))
    for key, parameter in takes.options.items():
        if parameter.default is inspect.Parameter.empty and options.get(key) is None:
            raise InputError(f"{what} needs {kind}.{key}")


# The kinds of value a default can give, each with how an error says it.
VALUE_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "true or false"),
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
)


def check_type(key: str, value: Any, parameter: inspect.Parameter) -> None:
    """``value`` must be of the kind of the parameter's default: a bool, an integer, a number or a
    string; null only where the default is null or the annotation allows None. Any number must be
    one torch can take, whatever the default."""
    check_number(key, value)
    default = parameter.default
    if default is None or default is inspect.Parameter.empty:
        return
    accepted = next((text for kind, text in VALUE_KINDS if isinstance(default, kind)), None)
    if value is None:
        if not admits_none(parameter.annotation):
            raise InputError(f"{key} must be {accepted}, got null" if accepted else f"{key} cannot be null")
        return
    if isinstance(default, bool):
        flag(value, key)
    elif accepted is not None and not fits(value, default):
        raise InputError(f"{key} must be {accepted}, got {value!r}")


def check_number(key: str, value: Any) -> None:
    """A NaN or infinite option would only surface as a NaN loss, and an integer past 64 bits as an
    overflow inside torch, both once the run had started."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"{key} must be a finite number, got {value!r}")
    if isinstance(value, int) and not isinstance(value, bool):
        integer_in(value, key, -(2**63), 2**63 - 1, "a 64-bit integer, as torch takes it")


def fits(value: Any, default: Any) -> bool:
    """Whether ``value`` is of ``default``'s kind (not a bool); an integer is a number, a bool is not."""
    if isinstance(value, bool):
        return False
    if isinstance(default, float):
        return isinstance(value, int | float)
    return isinstance(value, type(default))


def admits_none(annotation: Any) -> bool:
    """Whether an annotation (a string under ``from __future__ import annotations``) allows None.

    Without an annotation, the non-null default is all there is to go by.
    """
    if annotation is inspect.Parameter.empty:
        return False
    text = annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)
    return bool({"None", "Optional", "Any", "object"} & set(re.findall(r"\w+", text)))
