"""Loading plugin code: the files of a plugin directory and the entry points of installed packages.

A plugin that cannot be loaded (a syntax error, a missing import, an exception at import or
while it registers) stops the command before any work with one line naming the file and line
and what to do, rather than a traceback through the registry.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType

import pluggy

from nstx.errors import InputError


def failed_at(error: BaseException, module: str) -> str:
    """``file, line N`` where ``error`` arose in the code of ``module``'s package: the line of a
    syntax error, else the innermost frame of that package, else the innermost frame."""
    if isinstance(error, SyntaxError) and error.filename:
        return f"{error.filename}, line {error.lineno}"
    frames = list(traceback.walk_tb(error.__traceback__))
    package = module.partition(".")[0]
    own = [(f, n) for f, n in frames if str(f.f_globals.get("__name__", "")).partition(".")[0] == package]
    frame, line = (own or frames)[-1]
    return f"{frame.f_code.co_filename}, line {line}"


def what_failed(error: BaseException, module: str) -> str:
    """``at file, line N: Kind: message`` for a one-line report."""
    message = error.msg if isinstance(error, SyntaxError) else str(error)
    return f"at {failed_at(error, module)}: {type(error).__name__}: {message}"


def import_file(path: Path, module_name: str) -> ModuleType:
    """Import the plugin file ``path`` as ``module_name``."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[module_name]
        raise InputError(
            f"plugin file {str(path)!r} failed to load {what_failed(error, module_name)}; fix it, or "
            f"move it out of the plugin directory {str(path.parent)!r}"
        ) from error
    return module


def load_entry_points(pm: pluggy.PluginManager, group: str) -> None:
    """Register every entry point of ``group``; one that fails to import is named, with its package."""
    try:
        pm.load_setuptools_entrypoints(group)
    except Exception:
        for entry in importlib.metadata.entry_points(group=group):
            if pm.get_plugin(entry.name) is None and not pm.is_blocked(entry.name):
                try:
                    entry.load()
                except Exception as error:
                    package = entry.dist.name if entry.dist is not None else "its package"
                    raise InputError(
                        f"plugin {entry.name!r} (entry point {entry.value} of {package}) failed to load "
                        f"{what_failed(error, entry.module)}; fix or reinstall {package}, or uninstall "
                        f"it (pip uninstall {package})"
                    ) from error
        raise
