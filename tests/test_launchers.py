"""Sweeps through the shipped launcher configs, and the Optuna search."""

from __future__ import annotations

import math
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

NSTX = Path(sys.executable).with_name("nstx")
TINY = ["weights=random", "image_size=32", "iterations=2", "tracking.enabled=false"]


def nstx(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "NSTX_PLUGINS_DIR"}
    result = subprocess.run([str(NSTX), *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.mark.parametrize(
    ("launcher", "target", "settings"),
    [
        ("processes", "joblib_launcher.JoblibLauncher", {"n_jobs": 2}),
        ("local", "submitit_launcher.LocalLauncher", {"timeout_min": 60}),
        ("slurm", "submitit_launcher.SlurmLauncher", {"gpus_per_node": 1, "array_parallelism": 32}),
    ],
)
def test_launcher_configs_compose(tmp_path, launcher, target, settings):
    printed = nstx(
        f"hydra/launcher={launcher}", "--cfg", "hydra", "--package", "hydra.launcher", cwd=tmp_path
    )
    composed = yaml.safe_load(printed.stdout)
    assert composed["_target_"].endswith(target)
    assert settings.items() <= composed.items()


def test_two_job_sweep_through_submitit_local(tmp_path):
    sweep = tmp_path / "sweep"
    nstx(
        "-m",
        "hydra/launcher=local",
        "correlation=gram,covariance",
        "style_layers=early",
        *TINY,
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )
    for job, correlation in (("0", "gram"), ("1", "covariance")):
        assert OmegaConf.load(sweep / job / ".hydra" / "config.yaml").correlation.name == correlation
        assert (sweep / job / "stylized.png").stat().st_size > 0
    results = sorted((sweep / ".submitit").glob("*/*_result.pkl"))
    assert len(results) == 2, "each job should have run under submitit"
    for path in results:
        status, job_return = pickle.loads(path.read_bytes())
        assert status == "success"
        assert math.isfinite(job_return.return_value) and job_return.return_value > 0


def test_optuna_search_over_style_weights(tmp_path):
    sweep = tmp_path / "search"
    nstx(
        "-m",
        "+search=style_weights",
        "hydra.sweeper.n_trials=2",
        *TINY,
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )
    front = yaml.safe_load((sweep / "optimization_results.yaml").read_text())["solutions"]
    assert 1 <= len(front) <= 2
    for solution in front:
        content, style = solution["values"]
        assert content > 0 and style > 0
        assert 1e3 <= solution["params"]["style_weight"] <= 1e7
        layers = {k: v for k, v in solution["params"].items() if k.startswith("style_layers.")}
        assert len(layers) == 5 and all(0.05 <= v <= 1.0 for v in layers.values())
    trials = sorted(p.parent.parent for p in sweep.glob("*/.hydra/config.yaml"))
    assert len(trials) == 2
    for trial in trials:
        assert list(OmegaConf.load(trial / ".hydra" / "config.yaml").objective) == ["content", "style"]
