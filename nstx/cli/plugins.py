"""The ``nstx-plugins`` command: every installed plugin by kind, and where it came from.

A name that does not show up here cannot be selected on the command line, so this is the
first thing to run when a plugin seems missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from nstx import registry
from nstx.config.store import use_plugins
from nstx.errors import InputError
from nstx.version import __version__


@dataclass(frozen=True)
class Listed:
    """One line of the listing: a registered name (or a lifecycle plugin) and its origin."""

    kind: str
    name: str
    plugin: str
    source: str
    detail: str


def origins(reg: registry.Registry) -> dict[str, tuple[str, str]]:
    """Plugin name -> (source, detail): built-in, entry point (distribution and version),
    plugins dir (the file) or registered from Python code."""
    distributions = {id(plugin): dist for plugin, dist in reg.pm.list_plugin_distinfo()}
    found = {}
    for name, plugin in reg.pm.list_name_plugin():
        dist = distributions.get(id(plugin))
        module = getattr(plugin, "__name__", type(plugin).__module__)
        if dist is not None and dist.project_name == "nstx":
            found[name] = ("built-in", module)
        elif dist is not None:
            found[name] = ("entry point", f"{dist.project_name} {dist.version} ({module})")
        elif Path(name).is_file():
            found[name] = ("plugins dir", name)
        else:
            found[name] = ("python", f"registered from code as {name!r}")
    return found


def listing(reg: registry.Registry) -> list[Listed]:
    """Registered implementations of every kind, then the plugins of the lifecycle hooks."""
    where = origins(reg)
    rows = [
        Listed(kind, entry.name, entry.plugin, *where[entry.plugin])
        for kind in registry.KINDS
        for entry in sorted(reg.tables()[kind].values(), key=lambda entry: entry.name)
    ]
    for name, plugin in sorted(reg.pm.list_name_plugin()):
        hooks = [hook for hook in registry.LIFECYCLE_HOOKS if hasattr(plugin, hook)]
        if hooks:
            source, detail = where[name]
            rows.append(Listed("lifecycle", name, name, source, f"{detail}: {', '.join(hooks)}"))
    return rows


def render(rows: Sequence[Listed]) -> str:
    """Plain text: a heading per kind, then ``name  source  detail`` in aligned columns."""
    name_width = max((len(row.name) for row in rows), default=0)
    source_width = max((len(row.source) for row in rows), default=0)
    lines: list[str] = []
    for kind in dict.fromkeys(row.kind for row in rows):
        lines.append(kind if kind != "lifecycle" else "lifecycle hooks")
        lines.extend(
            f"  {row.name:<{name_width}}  {row.source:<{source_width}}  {row.detail}".rstrip()
            for row in rows
            if row.kind == kind
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="nstx-plugins",
        description="List every nstx plugin by kind with where it came from "
        "(built-in, entry point distribution and version, plugins dir file).",
    )
    parser.add_argument(
        "--plugins-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="also load the *.py plugins in DIR, as plugins_dir=DIR does for nstx "
        "($NSTX_PLUGINS_DIR is read too)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of text")
    parser.add_argument("--version", action="version", version=f"nstx {__version__}")
    args = parser.parse_args(argv)
    try:
        rows = listing(use_plugins(args.plugins_dir))
    except (InputError, ValueError) as error:
        print(f"nstx-plugins: {error}", file=sys.stderr)
        return 2
    print(json.dumps([asdict(row) for row in rows], indent=2) if args.json else render(rows))
    return 0
