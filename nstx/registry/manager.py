"""The plugin manager: entry points of group ``nstx`` (nstx's own built-ins among them), then
plugin directories.

Lookups go through :func:`get` and :func:`names`; unknown names fail with the available
names and a "did you mean" suggestion. Each implementation is matched to a form of its kind
(:mod:`nstx.registry.kinds`) as it is collected, so a plain function is wrapped once.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, FunctionType, ModuleType
from typing import Any

import pluggy

from nstx.errors import InputError, unknown, unusable_path
from nstx.registry import hookspecs
from nstx.registry.kinds import KINDS, Form
from nstx.registry.loading import import_file, load_entry_points, what_failed

ENTRY_POINT_GROUP = "nstx"
LIFECYCLE_HOOKS = ("nstx_check", "nstx_run_start", "nstx_step", "nstx_run_end")

PLUGINS_DIR_ENV = "NSTX_PLUGINS_DIR"


@dataclass(frozen=True)
class Entry:
    """One registered implementation, the plugin that registered it, and its form."""

    kind: str
    name: str
    impl: Any  # as registered
    plugin: str
    form: Form

    @property
    def make(self) -> Any:
        """What the run calls, the same way for every implementation of the kind."""
        return self.form.build(self.impl)


class Registry:
    """A pluggy PluginManager plus the name -> implementation tables it yields."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("nstx")
        self.pm.add_hookspecs(hookspecs)
        self._tables: dict[str, dict[str, Entry]] | None = None
        self._dirs: list[Path] = []
        load_entry_points(self.pm, ENTRY_POINT_GROUP)

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def register(self, plugin: object, name: str | None = None) -> None:
        """Register a plugin object (a module or an instance with hookimpls)."""
        self.pm.register(plugin, name=name)
        self._tables = None

    def unregister(self, plugin: object) -> None:
        """Take a registered plugin object out again, with everything it registered."""
        self.pm.unregister(plugin)
        self._tables = None

    def load_plugins_dir(self, directory: str | os.PathLike[str]) -> None:
        """Import every ``*.py`` in ``directory`` (sorted) and register it."""
        problem = unusable_path(directory, directory=True)
        if problem is not None:
            raise InputError(f"plugins_dir {str(directory)!r} {problem}")
        path = Path(directory).expanduser().resolve()
        if path in self._dirs:
            return
        self._dirs.append(path)
        for file in sorted(path.glob("*.py")):
            self.register(import_file(file, f"nstx_plugins_dir.{path.name}.{file.stem}"), name=str(file))

    def tables(self) -> dict[str, dict[str, Entry]]:
        if self._tables is None:
            self._tables = {kind: self._collect(kind) for kind in KINDS}
        return self._tables

    def _collect(self, kind: str) -> dict[str, Entry]:
        table: dict[str, Entry] = {}
        caller = getattr(self.pm.hook, f"nstx_register_{kind}")
        # Oldest registration first, so a clash names the earlier plugin first.
        for hookimpl in reversed(caller.get_hookimpls()):

            def register(name: str, impl: Any, _plugin: str = hookimpl.plugin_name) -> None:
                if name in table:
                    raise InputError(
                        f"{kind} {name!r} is registered twice: by plugin {self.source(table[name].plugin)} "
                        f"and by plugin {self.source(_plugin)}; rename one, or remove one of them "
                        f"(uninstall its package, or take its file out of the plugin directory)"
                    )
                form = KINDS[kind].form_of(impl)
                if form is None:
                    raise InputError(
                        f"{kind} {name!r} (plugin {self.describe(_plugin)!r}) fits no form of a {kind}; "
                        f"accepted: {KINDS[kind].accepted()}"
                    )
                table[name] = Entry(kind, name, impl, _plugin, form)

            try:
                hookimpl.function(register=register)
            except InputError:
                raise
            except Exception as error:
                raise InputError(
                    f"plugin {self.source(hookimpl.plugin_name)} failed to register its {kind} plugins "
                    f"{what_failed(error, hookimpl.function.__module__)}; fix it or remove it"
                ) from error
        return table

    def entry(self, kind: str, name: str) -> Entry:
        table = self.tables().get(kind)
        if table is None:
            raise InputError(unknown("plugin kind", kind, KINDS))
        if name not in table:
            raise InputError(unknown(kind, name, table))
        return table[name]

    def get(self, kind: str, name: str) -> Any:
        return self.entry(kind, name).impl

    def names(self, kind: str) -> list[str]:
        if kind not in KINDS:
            raise InputError(unknown("plugin kind", kind, KINDS))
        return sorted(self.tables()[kind])

    def culprit(self, error: BaseException) -> str | None:
        """Which plugin raised ``error``: the innermost frame of its traceback that is plugin code.

        Returns e.g. ``"style_cost 'mine' (plugin 'my_plugin.py')"`` or
        ``"nstx_step hook of plugin 'tracking'"``; None when no plugin code was involved.
        """
        owners = [
            (f"{entry.kind} {entry.name!r} (plugin {self.describe(entry.plugin)!r})", entry.impl)
            for table in self.tables().values()
            for entry in table.values()
        ]
        hooks = {
            getattr(impl.function, "__func__", impl.function).__code__: (
                f"{name} hook of plugin {self.describe(impl.plugin_name)!r}"
            )
            for name in LIFECYCLE_HOOKS
            for impl in getattr(self.pm.hook, name).get_hookimpls()
        }
        frames = [frame for frame, _ in traceback.walk_tb(error.__traceback__)]
        for frame in reversed(frames):
            if frame.f_code in hooks:
                return hooks[frame.f_code]
            for label, impl in owners:
                if defined_in(frame, impl):
                    return label
        return None

    def source(self, plugin_name: str) -> str:
        """A plugin's name and the module or file its code is in, for a message."""
        plugin = self.pm.get_plugin(plugin_name)
        module = getattr(plugin, "__name__", type(plugin).__module__)
        if plugin is None or plugin_name == str(getattr(plugin, "__file__", "")):
            return repr(plugin_name)
        return f"{self.describe(plugin_name)!r} ({getattr(plugin, '__file__', None) or module})"

    def describe(self, plugin_name: str) -> str:
        """A plugin's name, or for one registered without a name (pluggy uses its id) its class."""
        plugin = self.pm.get_plugin(plugin_name)
        if plugin is None or plugin_name != str(id(plugin)):
            return plugin_name
        if isinstance(plugin, ModuleType):
            return plugin.__name__
        return f"{type(plugin).__module__}.{type(plugin).__qualname__}"


def defined_in(frame: FrameType, impl: Any) -> bool:
    """Whether ``frame`` runs code of ``impl`` (a function, a class or a callable instance)."""
    owner = impl if isinstance(impl, type | FunctionType) else type(impl)
    if frame.f_globals.get("__name__") != owner.__module__:
        return False
    qualname = frame.f_code.co_qualname
    return qualname == owner.__qualname__ or qualname.startswith(f"{owner.__qualname__}.")


_registry: Registry | None = None


def default() -> Registry:
    """The process-wide registry, created on first use (plus ``$NSTX_PLUGINS_DIR``)."""
    global _registry
    if _registry is None:
        _registry = Registry()
        for directory in filter(None, os.environ.get(PLUGINS_DIR_ENV, "").split(os.pathsep)):
            _registry.load_plugins_dir(directory)
    return _registry


def get(kind: str, name: str) -> Any:
    """The implementation registered as ``name`` for ``kind``."""
    return default().get(kind, name)


def names(kind: str) -> list[str]:
    """The sorted names registered for ``kind``."""
    return default().names(kind)


def load_plugins_dir(directory: str | os.PathLike[str]) -> None:
    """Load a plugin directory into the process-wide registry."""
    default().load_plugins_dir(directory)
