"""Experiment presets: each composes, sweeps the expected values, and the cheap ones run."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest
import yaml
from hydra import compose, initialize_config_module
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from nstx.plugins import style_cost
from omegaconf import OmegaConf
from PIL import Image

from nstx.tracking.grid import Tile, comparison_grid
from nstx.tracking.sweep import scores_caption
from tests.support import Cli

EXPERIMENTS = sorted(
    p.name.removesuffix(".yaml") for p in files("nstx.conf").joinpath("experiment").iterdir()
)


def builtin_style_costs() -> list[str]:
    names: list[str] = []
    style_cost.nstx_register_style_cost(register=lambda name, impl: names.append(name))
    return names


# experiment -> (swept key, the values it takes, in order)
SWEEPS = {
    "layer_depth": ("style_layers", ["even", "early", "late"]),
    "correlation": ("correlation", ["gram", "covariance", "mean_shifted"]),
    "style_cost": ("style_cost", builtin_style_costs()),
    "style_reconstruction": ("style_layers", [f"upto_relu{n}_1" for n in range(1, 6)]),
    "content_style_ratio": ("style_weight", ["0.1", "1", "10", "100", "1000"]),
    "style_scale": ("style_scale", ["0.5", "1.0", "2.0"]),
    "pooling": ("pooling", ["max", "avg"]),
    "backbone": ("backbone", ["vgg16", "vgg19"]),
}


def sweep_jobs(experiment: str) -> list[list[str]]:
    """The per-job overrides Hydra's basic sweeper makes of ``+experiment=<experiment>``."""
    with initialize_config_module(config_module="nstx.conf", version_base="1.3"):
        cfg = compose("config", overrides=[f"+experiment={experiment}"], return_hydra_config=True)
    params = [f"{key}={value}" for key, value in cfg.hydra.sweeper.params.items()]
    batches = BasicSweeper.split_arguments(OverridesParser.create().parse_overrides(params), None)
    return [list(job) for batch in batches for job in batch]


def job_config(experiment: str, overrides: list[str]):
    with initialize_config_module(config_module="nstx.conf", version_base="1.3"):
        return compose("config", overrides=[f"+experiment={experiment}", *overrides])


def test_every_experiment_config_is_covered():
    assert sorted(SWEEPS) == EXPERIMENTS


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_cli_composes_experiment(experiment, tmp_path):
    done = Cli(tmp_path, [])(f"+experiment={experiment}", "--cfg", "job")
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load(done.stdout)["style_layers"]


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_sweep_has_one_job_per_value(experiment):
    key, values = SWEEPS[experiment]
    jobs = sweep_jobs(experiment)
    assert jobs == [[f"{key}={value}"] for value in values]
    for job, value in zip(jobs, values, strict=True):
        cfg = job_config(experiment, job)
        swept = cfg[key]
        if key == "style_layers":
            assert swept == OmegaConf.load(files("nstx.conf").joinpath(key, f"{value}.yaml"))
        elif OmegaConf.is_dict(swept):
            assert swept.name == value
        else:
            assert float(swept) == float(value)


def test_style_reconstruction_is_texture_synthesis_from_noise():
    jobs = sweep_jobs("style_reconstruction")
    layer_counts = []
    for job in jobs:
        cfg = job_config("style_reconstruction", job)
        assert cfg.content_weight == 0 and cfg.init.name == "noise"
        layer_counts.append(list(cfg.style_layers))
    assert layer_counts == [[f"relu{n}_1" for n in range(1, k + 1)] for k in range(1, 6)]


def test_content_style_ratio_spans_four_orders_of_magnitude():
    weights = [
        job_config("content_style_ratio", job).style_weight for job in sweep_jobs("content_style_ratio")
    ]
    assert max(weights) / min(weights) >= 1e4
    assert job_config("content_style_ratio", []).content_weight == 1.0


@pytest.mark.parametrize("experiment", ["layer_depth", "correlation"])
def test_experiment_runs_end_to_end_with_its_grid(experiment, nstx_cli, mlflow_store):
    done = nstx_cli("-m", f"+experiment={experiment}")
    assert done.returncode == 0, done.stderr
    key, values = SWEEPS[experiment]
    parent, children = mlflow_store.sweep()
    assert parent.info.status == "FINISHED"
    assert parent.info.run_name == f"{key}={','.join(values)}"
    assert sorted(child.info.run_name for child in children) == sorted(values)
    assert all(child.info.status == "FINISHED" for child in children)
    assert "comparison_grid.png" in mlflow_store.artifacts(parent)
    sweep = nstx_cli.cwd / parent.data.tags["nstx.output_dir"]
    assert sweep.parts[-3:-1] == ("multirun", experiment)
    captions = {child.info.run_name: scores_caption(child.data.metrics) for child in children}
    assert all(captions.values())  # every job was judged
    tiles = []
    for job in sweep.glob("*/stylized.png"):
        overrides = dict(
            o.split("=", 1) for o in yaml.safe_load((job.parent / ".hydra" / "overrides.yaml").read_text())
        )
        caption = captions[overrides[key]]
        tiles.append(Tile({key: overrides[key]}, Image.open(job).convert("RGB"), caption=caption))
    assert len(tiles) == len(values)
    # The grid is one row laid out along the swept axis, in sweep order.
    with Image.open(sweep / "comparison_grid.png") as grid:
        assert grid.convert("RGB").tobytes() == comparison_grid(tiles, {key: values}).tobytes()


def test_sweep_dir_is_named_after_the_experiment():
    with initialize_config_module(config_module="nstx.conf", version_base="1.3"):
        cfg = compose("config", overrides=["+experiment=pooling"], return_hydra_config=True)
    assert Path(OmegaConf.to_container(cfg.hydra.sweep)["dir"]).parts[:2] == ("multirun", "pooling")
