"""The documentation site builds with ``mkdocs build --strict``; its generated configuration
reference covers every option and key in conf/."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from tests.browser import CHROMEDRIVER, CHROMIUM, chromium

ROOT = Path(__file__).resolve().parents[1]
QUIET = {"NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}


def leaf_keys(node, prefix=""):
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from leaf_keys(value, f"{prefix}{key}.")
    else:
        yield prefix.rstrip(".")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("docs") / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **QUIET},
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return site


def test_mkdocs_build_strict(site):

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
    # Snippet includes were expanded, not shown: the page holds the examples' own code.
    for page in site.rglob("*.html"):
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))  # as a reader sees it
        assert not re.search(r"--8\s*<\s*--", text), f"a raw snippet marker in {page}"
    for example in ("cosine.py", "charbonnier.py", "loss_csv.py"):
        first_def = next(
            line
            for line in (ROOT / "docs" / "plugin_examples" / example).read_text().splitlines()
            if line.startswith("def ")
        )
        assert first_def.split("(")[0].removeprefix("def ") in guide, f"{example} is not on the plugin page"


@pytest.mark.browser
@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs chromium and chromedriver")
def test_tables_fit_the_content_column(site):
    """In a 1280 px wide window no table needs a horizontal scroll bar."""
    too_wide = []
    with chromium(width=1280, height=900) as browser:
        for page in sorted(site.rglob("index.html")):
            browser.get(page.as_uri())
            widths = browser.execute_script(
                "return [...document.querySelectorAll('.md-content table')].map(t => "
                "[t.scrollWidth, t.closest('.md-typeset__scrollwrap').clientWidth, t.rows[0].innerText])"
            )
            too_wide += [(page.parent.name, head) for wide, column, head in widths if wide > column]
    assert not too_wide, f"tables wider than the content column: {too_wide}"
