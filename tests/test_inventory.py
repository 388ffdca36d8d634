"""nstx-plugins lists every plugin by kind and origin; nstx --version."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from nstx import registry
from nstx.cli.plugins import listing

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "plugin_examples"
BIN = Path(sys.executable).parent


def test_builtins_are_listed_for_every_kind():
    reg = registry.Registry()
    rows = listing(reg)
    for kind in registry.KINDS:
        listed = [row for row in rows if row.kind == kind]
        assert [row.name for row in listed] == reg.names(kind)
        # Installed plugin packages (CI installs the example one) list as entry points.
        builtin = {row.plugin for row in listed if row.detail.startswith("nstx.plugins.")}
        assert builtin and all(row.source == "built-in" for row in listed if row.plugin in builtin)
        assert any(row.source == "built-in" for row in listed)
    progress = [row for row in rows if row.kind == "lifecycle" and row.plugin == "progress"]
    assert progress and progress[0].detail.endswith("nstx_run_start, nstx_step, nstx_run_end")


def installed_example(site: Path) -> None:
    """The packaged plugin of docs/plugins.md as pip would leave it: module + dist-info."""
    project = tomllib.loads((EXAMPLES / "pyproject.toml").read_text())["project"]
    (module,) = project["entry-points"]["nstx"].values()
    shutil.copy(EXAMPLES / "cosine.py", site / f"{module}.py")
    dist_info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    entry_points = "".join(f"{name} = {target}\n" for name, target in project["entry-points"]["nstx"].items())
    (dist_info / "entry_points.txt").write_text(f"[nstx]\n{entry_points}")


def test_listing_names_entry_point_distributions_and_plugin_files(tmp_path):
    site, plugins = tmp_path / "site", tmp_path / "plugins"
    site.mkdir()
    plugins.mkdir()
    installed_example(site)
    shutil.copy(EXAMPLES / "loss_csv.py", plugins / "loss_csv.py")
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("NSTX_PLUGINS_DIR", None)
    command = [str(BIN / "nstx-plugins"), "--plugins-dir", str(plugins)]

    listed = subprocess.run([*command, "--json"], capture_output=True, text=True, env=env, check=True)
    rows = {(row["kind"], row["name"]): row for row in json.loads(listed.stdout)}
    assert rows["correlation", "cosine"]["source"] == "entry point"
    assert rows["correlation", "cosine"]["detail"] == "nstx-cosine 0.1.0 (nstx_cosine)"
    assert rows["correlation", "gram"]["source"] == "built-in"
    csv_plugin = rows["lifecycle", str(plugins / "loss_csv.py")]
    assert csv_plugin["source"] == "plugins dir"
    assert csv_plugin["detail"] == f"{plugins / 'loss_csv.py'}: nstx_step"

    text = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    assert "correlation\n" in text
    assert any(line.split()[:3] == ["cosine", "entry", "point"] for line in text.splitlines())


def test_a_missing_plugins_dir_is_one_line():
    result = subprocess.run(
        [str(BIN / "nstx-plugins"), "--plugins-dir", "/no/such/dir"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["nstx-plugins: plugins_dir '/no/such/dir' does not exist"]


def test_version():
    result = subprocess.run([str(BIN / "nstx"), "--version"], capture_output=True, text=True, check=True)
    assert result.stdout == f"nstx {importlib.metadata.version('nstx')}\n"
