"""The examples of docs/plugins.md, run as the page says, and the log lines of that run."""

from __future__ import annotations

import csv
import importlib.util
import logging.config
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "plugin_examples"
NSTX = Path(sys.executable).with_name("nstx")


@pytest.fixture(scope="module")
def guide_run(tmp_path_factory):
    """nstx plugins_dir=<the page's examples> correlation=cosine, tiny and with random weights."""
    work = tmp_path_factory.mktemp("guide")
    run_dir = work / "run"
    command = [
        str(NSTX),
        f"plugins_dir={EXAMPLES}",
        "correlation=cosine",
        "correlation.eps=1e-6",
        "weights=random",
        "image_size=32",
        "iterations=3",
        "style_layers=early",
        "tracking.enabled=false",
        f"hydra.run.dir={run_dir}",
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    result = subprocess.run(command, cwd=work, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result, run_dir


def test_directory_plugins_are_selectable_with_their_options(guide_run):
    _, run_dir = guide_run
    composed = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    assert OmegaConf.to_container(composed.correlation) == {"name": "cosine", "eps": 1e-6}
    assert (run_dir / "stylized.png").stat().st_size > 0


def test_lifecycle_plugin_writes_every_step(guide_run):
    _, run_dir = guide_run
    with (run_dir / "losses.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert [row["step"] for row in rows] == ["1", "2", "3"]
    assert {"content", "style", "style/relu1_1", "style/relu2_1", "total"} <= set(rows[0])
    for row in rows:
        parts = float(row["content"]) + float(row["style"])
        assert float(row["total"]) == pytest.approx(parts, rel=1e-5)


def test_cosine_statistic_is_a_cosine_similarity():
    spec = importlib.util.spec_from_file_location("cosine_example", EXAMPLES / "cosine.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    features = torch.randn(2, 5, 4, 3, generator=torch.Generator().manual_seed(0))
    statistic = module.cosine(features)
    assert statistic.shape == (2, 5, 5)
    assert torch.allclose(statistic.diagonal(dim1=-2, dim2=-1), torch.ones(2, 5), atol=1e-6)
    assert torch.allclose(statistic, statistic.mT)
    scaled = module.cosine(features * torch.tensor([1.0, 10.0, 0.1, 3.0, 7.0]).view(1, 5, 1, 1))
    assert torch.allclose(scaled, statistic, atol=1e-5)


def test_log_lines_are_short_and_plain_when_piped(guide_run):
    result, run_dir = guide_run
    assert "\x1b[" not in result.stdout
    console = r"^\d\d:\d\d:\d\d INFO    nstx\.encoder\.weights: using seeded random backbone weights"
    assert re.search(console, result.stdout, re.MULTILINE), result.stdout
    job_name = OmegaConf.load(run_dir / ".hydra" / "hydra.yaml").hydra.job.name
    logfile = (run_dir / f"{job_name}.log").read_text()
    assert re.search(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO    nstx\.encoder\.weights: ", logfile, re.MULTILINE
    )


def test_console_log_is_coloured_by_level(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    schema = OmegaConf.to_container(OmegaConf.load(ROOT / "conf/hydra/job_logging/nstx.yaml"))
    configurator = logging.config.DictConfigurator(schema)
    formatter = configurator.configure_formatter(configurator.config["formatters"]["console"])
    record = logging.LogRecord("nstx.engine", logging.WARNING, __file__, 1, "slow step", None, None)
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d \x1b\[33mWARNING\x1b\[0m nstx\.engine: slow step(\x1b\[0m)?",
        formatter.format(record),
    )
    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in formatter.format(record)
