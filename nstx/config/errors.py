"""Hydra's and OmegaConf's config errors, turned into one-line :class:`InputError` messages."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager

from nstx.errors import InputError, unknown

GRAMMAR = "https://hydra.cc/docs/advanced/override_grammar/basic/"


def as_input_error(error: BaseException) -> InputError | None:
    """The one-line :class:`InputError` for a config mistake in ``error``; None for other errors."""
    from hydra.errors import CompactHydraException, MissingConfigException, OverrideParseException
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError, InterpolationResolutionError

    if isinstance(error, InputError):
        return error
    if isinstance(error, MissingConfigException) and error.missing_cfg_file and error.options:
        group, _, name = error.missing_cfg_file.rpartition("/")
        return InputError(unknown(group, name, error.options))
    if isinstance(error, OverrideParseException):
        reason = first_line(error.message)
        return InputError(f"cannot parse override {error.override!r}: {reason} ({GRAMMAR})")
    cause = error.__cause__
    if isinstance(cause, ConfigAttributeError | ConfigKeyError) and cause.full_key:
        key = cause.full_key
        parent = key.rpartition(".")[0]
        keys = [f"{parent}.{k}" if parent else k for k in (cause.parent_node or {}) if k != "hydra"]
        return InputError(f"{unknown('option', key, keys)}; add a new key with +{key}=...")
    if isinstance(error, CompactHydraException) or (isinstance(error, ValueError) and raised_in_hydra(error)):
        return InputError(" ".join(str(error).split()))
    if isinstance(error, InterpolationResolutionError):
        return InputError(f"config value {error.full_key!r}: {first_line(str(error))}")
    return None


@contextmanager
def config_mistakes_as_input_errors() -> Iterator[None]:
    """Re-raise a config mistake from the block as its one-line :class:`InputError`."""
    try:
        yield
    except Exception as error:
        mistake = as_input_error(error)
        if mistake is None:
            raise
        raise mistake from None


def traceback_modules(error: BaseException) -> list[str]:
    """The module of each frame of ``error``'s traceback, outermost first."""
    return [str(frame.f_globals.get("__name__", "")) for frame, _ in traceback.walk_tb(error.__traceback__)]


def raised_in_hydra(error: BaseException) -> bool:
    """Whether the innermost frame of ``error`` is Hydra's own code (composing the config)."""
    modules = traceback_modules(error)
    return bool(modules) and modules[-1].startswith("hydra.")


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
