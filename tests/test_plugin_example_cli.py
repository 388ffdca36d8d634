"""The example plugin package, installed, is used by name in a CLI sweep."""

import importlib.util

import pytest
from omegaconf import OmegaConf

from tests.nstx_helpers import run_nstx

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("nstx_plugin_example") is None,
    reason="the example plugin is not installed (pip install --no-deps ./examples/nstx-plugin-example)",
)


def test_a_cli_sweep_selects_the_example_correlation_and_style_cost_by_name(tmp_path):
    sweep = tmp_path / "sweep"
    run_nstx(
        "-m",
        "correlation=pearson,gram",
        "style_cost=huber",
        "style_cost.delta=0.5",
        "image_size=32",
        "iterations=2",
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )
    jobs = sorted(path for path in sweep.iterdir() if path.is_dir())
    assert len(jobs) == 2
    chosen = []
    for job in jobs:
        config = OmegaConf.load(job / ".hydra" / "config.yaml")
        chosen.append((config.correlation.name, config.style_cost.name, config.style_cost.delta))
        assert (job / "stylized.png").stat().st_size > 0
    assert sorted(chosen) == [("gram", "huber", 0.5), ("pearson", "huber", 0.5)]
