"""The house keeps its shape: layered imports, no import cycle, modules that fit on a few screens,
config defaults that say what the code says, and a plugin-kinds table that is the registry's."""

from __future__ import annotations

import graphlib
import inspect
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import grimp
import pytest
from omegaconf import OmegaConf

from nstx import registry
from nstx.cli.plugins import origins
from nstx.config.store import plugin_options
from nstx.registry.kinds import markdown_table

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 300


def test_the_layered_import_contract_is_kept():
    """pyproject's [tool.importlinter]: cli -> api -> engine, tracking, judge -> config -> parts ->
    loss -> registry -> errors; nothing imports upwards, so nothing imports the commands."""
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]


def test_no_module_imports_itself_back_through_others():
    graph = grimp.build_graph("nstx", exclude_type_checking_imports=True)
    imports = {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}
    try:
        graphlib.TopologicalSorter(imports).prepare()
    except graphlib.CycleError as cycle:
        pytest.fail(f"import cycle: {' -> '.join(cycle.args[1])}")


@pytest.mark.parametrize("folder", ["nstx", "plugins"])
def test_every_module_fits_on_a_few_screens(folder):
    long = {
        str(path.relative_to(ROOT)): lines
        for path in (ROOT / folder).rglob("*.py")
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def builtin_entries():
    plugins = registry.Registry()
    builtin = {name for name, (source, _) in origins(plugins).items() if source == "built-in"}
    return [
        entry
        for kind in registry.KINDS
        for entry in plugins.tables()[kind].values()
        if entry.plugin in builtin
    ]


@pytest.mark.parametrize("entry", builtin_entries(), ids=lambda entry: f"{entry.kind}={entry.name}")
def test_a_plugins_yaml_repeats_its_signature_defaults(entry):
    """conf/<kind>/<name>.yaml may comment a plugin's options, but its values are the signature's
    (or an interpolation of another setting of the run, as ``seed: ${seed}``)."""
    conf = files("nstx.conf").joinpath(entry.kind, f"{entry.name}.yaml")
    if not conf.is_file():
        pytest.skip("no YAML: the config store builds its node from the signature")
    node = OmegaConf.load(conf)
    written = {key: node[key] for key in node if key != "name" and not OmegaConf.is_interpolation(node, key)}
    assert node.name == entry.name
    options = plugin_options(entry)
    assert set(node) - {"name"} <= set(options)
    assert written == {key: options[key] for key in written}


def test_the_docs_table_of_plugin_kinds_is_the_registrys():
    page = (ROOT / "docs" / "plugins.md").read_text()
    table = page.split("<!-- plugin-kinds -->\n", 1)[1].split("\n\n", 1)[0]
    assert table == markdown_table()


def test_each_plugin_module_mirrors_its_config_group():
    """plugins/<kind>.py registers the plugins of conf/<kind>/, one module per kind."""
    for kind in registry.KINDS:
        module = ROOT / "plugins" / f"{kind}.py"
        assert module.is_file(), kind
        assert f"def nstx_register_{kind}(" in module.read_text()
    hooks = {name for name, _ in inspect.getmembers(registry.hookspecs, inspect.isfunction)}
    assert {f"nstx_register_{kind}" for kind in registry.KINDS} <= hooks
