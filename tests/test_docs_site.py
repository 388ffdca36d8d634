"""The documentation site builds with ``mkdocs build --strict``; its generated configuration
reference covers every option and key in conf/."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[1]
QUIET = {"NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}


def leaf_keys(node, prefix=""):
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from leaf_keys(value, f"{prefix}{key}.")
    else:
        yield prefix.rstrip(".")


def test_mkdocs_build_strict(tmp_path):
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **QUIET},
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    reference = (site / "configuration" / "index.html").read_text()
    for path in sorted((ROOT / "conf").rglob("*.yaml")):
        if path.parent != ROOT / "conf":  # root-level files are apps' configs, not group options
            option = f"{path.parent.relative_to(ROOT / 'conf').as_posix()}={path.stem}"
            assert option in reference, f"{option} missing from the configuration reference"
    top = OmegaConf.to_container(OmegaConf.load(ROOT / "conf" / "config.yaml"), resolve=False)
    for key in leaf_keys({k: v for k, v in top.items() if k != "defaults"}):
        assert f"<code>{key}</code>" in reference, f"{key} missing from the configuration reference"

    api = (site / "api" / "index.html").read_text()
    for name in ("nstx.api.stylize", "nstx.registry.manager.Registry", "nstx.registry.hookspecs.nstx_step"):
        assert f'id="{name}"' in api, f"{name} missing from the API reference"
    assert ":func:" not in api
    guide = (site / "plugins" / "index.html").read_text()
    assert "nstx_register_correlation" in guide and "losses.csv" in guide
