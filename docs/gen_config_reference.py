"""Write the configuration reference (configuration.md) from conf/ at every docs build.

mkdocs-gen-files runs this file, so the page lists exactly what ships: every group, every
option in it (a YAML file, or a built-in plugin that has none) and every parameter with its
default and the comment next to it in the YAML. ``python docs/gen_config_reference.py``
prints the page.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

CONF = Path(__file__).resolve().parents[1] / "conf"
PAGE = "configuration.md"
# key: value  # comment  (one key per line; the comment after " #")
KEY_LINE = re.compile(
    r"^(?P<indent>\s*)(?P<key>[^\s#:-][^:#]*?):(?P<value>[^#]*?)(?:\s+#\s?(?P<comment>.*))?$"
)

INTRO = """# Configuration reference

Generated from `conf/` each time this site is built. Choose an option of a group with
`group=option` (`correlation=covariance`), set a parameter with `key=value`
(`optimizer.lr=0.5`, `tracking.uri=http://127.0.0.1:5000`), and print the composed config
of a command with `--cfg job`. Every group below that is a plugin kind also offers each
installed plugin without a YAML; `nstx-plugins` lists them.
"""


HYDRA_GROUPS = {
    "hydra/launcher": "Where the jobs of a multirun (`-m`) run; without a choice, Hydra's `basic` launcher "
    "runs them one after another in the same process. See [Scaling out](scaling.md).",
    "hydra/job_logging": "How each run logs (console and `<run dir>/<job name>.log`).",
    "hydra/hydra_logging": "How Hydra itself logs.",
    "hydra/help": "The text of `nstx --help`.",
}
# Groups whose files are settings objects (logging schemas, help templates), not parameters.
WITHOUT_TABLES = ("hydra/job_logging", "hydra/hydra_logging", "hydra/help")
OTHER_GROUPS = {
    "search": "Hyperparameter searches, added with `+search=<option>`; see [Scaling out](scaling.md).",
}


def comments(text: str) -> dict[str, str]:
    """Dotted key -> the comment written after it on its line."""
    found: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in text.splitlines():
        match = KEY_LINE.match(line)
        if not match:
            continue
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, match["key"].strip()))
        if match["comment"]:
            found[".".join(key for _, key in stack)] = match["comment"].strip()
    return found


def header(text: str) -> str:
    """The comment lines a YAML file starts with (its description), ``# @package`` left out."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if not line.startswith("# @package"):
            lines.append(line.lstrip("#").strip())
    return " ".join(lines)


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves of a config as dotted key -> value, interpolations left as written."""
    if isinstance(node, dict) and (node or not prefix):
        leaves: dict[str, Any] = {}
        for key, value in node.items():
            leaves.update(flatten(value, f"{prefix}{key}."))
        return leaves
    return {prefix.rstrip("."): node}


def shown(value: Any) -> str:
    """A default as it would be typed in YAML or on the command line, in a table cell."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, list):
        text = "[" + ", ".join(shown(item).strip("`") for item in value) + "]"
    elif isinstance(value, dict):
        text = "{}"
    else:
        text = " ".join(str(value).split())  # one line: a table cell cannot hold more
    return f"`{escaped(text)}`"


def escaped(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")


def table(rows: list[tuple[str, Any, str]], first: str = "parameter") -> list[str]:
    if not rows:
        return ["No parameters.", ""]
    lines = [f"| {first} | default | meaning |", "| --- | --- | --- |"]
    lines += [f"| `{key}` | {shown(value)} | {escaped(meaning)} |" for key, value, meaning in rows]
    return [*lines, ""]


def load(path: Path) -> tuple[dict[str, Any], str]:
    text = path.read_text()
    container = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    return (container if isinstance(container, dict) else {}), text


def parameters(path: Path, skip: tuple[str, ...] = ("name", "defaults")) -> list[tuple[str, Any, str]]:
    """(dotted key, default, comment) for every leaf of a YAML file."""
    values, text = load(path)
    notes = comments(text)
    return [
        (key, value, notes.get(key, ""))
        for key, value in flatten({k: v for k, v in values.items() if k not in skip}).items()
    ]


def defaults_list(values: dict[str, Any]) -> dict[str, str]:
    """Group -> the option the defaults list selects (``override`` entries included);
    a plain name (another config of the same group that a file extends) maps to ``""``."""
    chosen = {}
    for item in values.get("defaults", []):
        if isinstance(item, str) and item != "_self_":
            chosen[item] = ""
        elif isinstance(item, dict):
            for group, option in item.items():
                chosen[group.removeprefix("override ").lstrip("/")] = str(option)
    return chosen


def builtin_plugins() -> dict[str, dict[str, Any]]:
    """Kind -> name -> registry entry, for nstx's own plugins (third-party ones left out)."""
    from nstx import registry
    from nstx.cli.plugins import origins

    reg = registry.Registry()
    builtin = {name for name, (source, _) in origins(reg).items() if source == "built-in"}
    return {
        kind: {name: entry for name, entry in reg.tables()[kind].items() if entry.plugin in builtin}
        for kind in registry.KINDS
    }


def summary(impl: Any) -> str:
    doc = inspect.getdoc(impl) or ""
    return doc.split("\n\n")[0].replace("\n", " ")


def plugin_group(kind: str, default: str | None, impls: dict[str, Any]) -> list[str]:
    from nstx.config.store import plugin_options

    lines = [f"### `{kind}`", ""]
    lines += [
        f"Default: `{default}`. Choose with `{kind}=<option>`; "
        f"set a parameter with `{kind}.<parameter>=...`.",
        "",
    ]
    yaml_files = {path.stem: path for path in (CONF / kind).glob("*.yaml")}
    for name in sorted(set(yaml_files) | set(impls)):
        lines += [f"#### `{kind}={name}`", ""]
        description = header(yaml_files[name].read_text()) if name in yaml_files else ""
        description = description or summary(impls[name].impl if name in impls else None)
        if description:
            lines += [description, ""]
        if name in yaml_files:
            lines += table(parameters(yaml_files[name]))
        else:
            lines += ["No YAML: the options come from the plugin's signature.", ""]
            lines += table([(key, value, "") for key, value in plugin_options(impls[name]).items()])
    return lines


def preset_group(group: str, default: str | None) -> list[str]:
    lines = [f"### `{group}`", ""]
    lines += [
        f"Default: `{default}`. A preset maps layer -> weight; choose one with `{group}=<option>`, "
        f"change one weight with `{group}.<layer>=<weight>`, add a layer with `+{group}.<layer>=<weight>`.",
        "",
    ]
    for path in sorted((CONF / group).glob("*.yaml")):
        lines += [f"#### `{group}={path.stem}`", ""]
        if header(path.read_text()):
            lines += [header(path.read_text()), ""]
        lines += table(parameters(path), first="layer")
    return lines


def extra_group(group: str, default: str | None, how: str) -> list[str]:
    """A group that is not a plugin kind (Hydra's launcher and logging, searches)."""
    lines = [f"### `{group}`", ""]
    lines += [f"Default: `{default}`. {how}" if default else how, ""]
    for path in sorted((CONF / group).glob("*.yaml")):
        values, text = load(path)
        lines += [f"#### `{group}={path.stem}`", ""]
        if header(text):
            lines += [header(text), ""]
        selects = [
            f"`{g}={o}`" if o else f"`{group}={g}` (extended)" for g, o in defaults_list(values).items()
        ]
        if selects:
            lines += ["Builds on: " + ", ".join(selects), ""]
        if group not in WITHOUT_TABLES:
            lines += table(parameters(path))
    return lines


def render(conf: Path = CONF) -> str:
    from nstx.config.overrides import LAYER_GROUPS
    from nstx.registry import KINDS

    values, text = load(conf / "config.yaml")
    chosen = defaults_list(values)
    notes = comments(text)
    top = [(key, value, notes.get(key, "")) for key, value in flatten(values).items() if key != "defaults"]
    lines = [INTRO, "## Parameters", "", "Top-level keys of `conf/config.yaml`.", ""]
    lines += table(top, first="key")
    lines += ["## Plugin groups", ""]
    plugins = builtin_plugins()
    for kind in KINDS:
        lines += plugin_group(kind, chosen.get(kind), plugins[kind])
    lines += ["## Layer presets", ""]
    for group in LAYER_GROUPS:
        lines += preset_group(group, chosen.get(group))
    lines += ["## Sweeps, searches and logging", ""]
    for group in sorted(f"hydra/{p.name}" for p in (conf / "hydra").iterdir() if p.is_dir()):
        lines += extra_group(group, chosen.get(group), HYDRA_GROUPS.get(group, ""))
    plugin_like = {*KINDS, *LAYER_GROUPS, "hydra"}
    for group in sorted(p.name for p in conf.iterdir() if p.is_dir() and p.name not in plugin_like):
        lines += extra_group(
            group, chosen.get(group), OTHER_GROUPS.get(group, f"Added with `+{group}=<option>`.")
        )
    return "\n".join(lines)


def write_page() -> None:
    import mkdocs_gen_files

    with mkdocs_gen_files.open(PAGE, "w") as page:
        page.write(render())
    mkdocs_gen_files.set_edit_path(PAGE, "gen_config_reference.py")


if __name__ == "<run_path>":  # run by mkdocs-gen-files during `mkdocs build`
    write_page()
elif __name__ == "__main__":
    print(render())
