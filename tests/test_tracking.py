"""The MLflow tracker in-process: what a run records, step by step, and how it ends."""

from __future__ import annotations

import subprocess
import sys

import pytest

import nstx
from nstx.errors import InputError
from nstx.hookspecs import hookimpl
from nstx.tracking.tracker import flatten
from tests.support import FAST


def tracked(experiment: str, **tracking):
    return {"tracking": {"enabled": True, "experiment": experiment, **tracking}}


def test_every_step_is_logged_and_images_follow_image_every(mlflow_store, content_path, style_path):
    nstx.stylize(content_path, style_path, **{**FAST, "iterations": 3}, **tracked("api", image_every=2))
    (run,) = mlflow_store.runs("api")
    client, run_id = mlflow_store.client, run.info.run_id

    assert run.info.status == "FINISHED"
    for key in ("loss/total", "loss/content", "loss/style", "loss/style/relu3_1", "time/step_s"):
        assert [m.step for m in client.get_metric_history(run_id, key)] == [1, 2, 3], key
    assert [m.value for m in client.get_metric_history(run_id, "loss/tv")] == [0.0] * 3  # tv_weight=0
    total = client.get_metric_history(run_id, "loss/total")[-1].value
    parts = sum(run.data.metrics[k] for k in ("loss/content", "loss/style", "loss/tv"))
    assert total == pytest.approx(parts, rel=1e-5)

    images = mlflow_store.artifacts(run, "images")
    logged_steps = {int(path.split("+step+")[1].split("+")[0]) for path in images if path.endswith(".png")}
    assert logged_steps == {2, 3}  # every 2 steps, and the last one
    assert "stylized.png" in mlflow_store.artifacts(run)
    assert run.data.params["tracking.image_every"] == "2"
    assert run.data.params["style_layers.relu1_1"] == "1.0"
    assert run.data.params["correlation.name"] == "gram"


class FailingStep:
    @hookimpl(tryfirst=True)
    def nstx_step(self, step):
        raise RuntimeError(f"boom at step {step}")


def test_a_run_that_fails_mid_way_ends_failed_with_its_error_and_last_image(
    mlflow_store, registered, content_path, style_path
):
    registered(FailingStep())
    with pytest.raises(RuntimeError, match="boom"):
        nstx.stylize(content_path, style_path, **FAST, **tracked("failing"))
    (run,) = mlflow_store.runs("failing")
    assert run.info.status == "FAILED"
    assert run.data.tags["nstx.error"] == (
        "PluginError: nstx_step hook of plugin 'tests.test_tracking.FailingStep' failed: "
        "RuntimeError: boom at step 1"
    )
    assert "stylized.png" in mlflow_store.artifacts(run)  # the last finite image, as a divergence keeps


def test_tracking_disabled_records_nothing(mlflow_store, content_path, style_path):
    nstx.stylize(content_path, style_path, **FAST)  # the Python API tracks only when asked
    assert mlflow_store.runs() == []


@pytest.mark.parametrize(
    ("tracking", "message"),
    [
        ({"experiment": ""}, "tracking.experiment must be a non-empty name, got ''"),
        ({"experiment": None}, "tracking.experiment must be a non-empty name, got None"),
        ({"uri": "foo://store"}, "tracking.uri 'foo://store' is not a store MLflow can open (accepted: a"),
    ],
)
def test_bad_tracking_settings_are_one_line_and_record_nothing(
    mlflow_store, content_path, style_path, tmp_path, tracking, message
):
    config = nstx.compose(**FAST, tracking={"enabled": True, "experiment": "kept", **tracking})
    with pytest.raises(InputError) as error:
        nstx.run(config, output_dir=tmp_path / "out", content=content_path, style=style_path)
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert mlflow_store.runs("kept") == []
    assert not list(tmp_path.rglob("stylized.png"))


def test_params_are_the_config_flattened_to_dotted_keys():
    config = {"correlation": {"name": "gram"}, "style_layers": {"relu1_1": 0.8}, "empty": {}, "seed": None}
    assert flatten(config) == {
        "correlation.name": "gram",
        "style_layers.relu1_1": "0.8",
        "empty": "{}",
        "seed": "None",
    }


def test_cli_start_up_imports_neither_torch_nor_mlflow():
    code = (
        "import sys; from nstx import registry; from nstx.cli import main; from nstx.tracking import sweep; "
        "from nstx.config.store import store_plugin_configs; store_plugin_configs(registry.default()); "
        "print(sorted(m for m in ('torch', 'mlflow', 'torchvision') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_sweep_summary_ranks_jobs_by_the_judges_style_score():
    from types import SimpleNamespace

    from nstx.tracking.store import Store
    from nstx.tracking.sweep import OpenSweep, summary

    def child(value, content, style, status="FINISHED"):
        metrics = {"eval/content": content, "eval/style": style} if style is not None else {}
        data = SimpleNamespace(tags={"nstx.overrides": f'{{"correlation": "{value}"}}'}, metrics=metrics)
        return SimpleNamespace(data=data, info=SimpleNamespace(status=status))

    axes = {"correlation": ["gram", "covariance", "broken"]}
    sweep = OpenSweep(
        Store(None, "sqlite:///x.db", "0"), "parent", axes, None, "correlation=gram,covariance,broken"
    )
    children = [child("gram", 0.9, 0.2), child("broken", 0, None, "FAILED"), child("covariance", 1.1, 0.1)]
    text = summary(sweep, children)
    rows = [
        line
        for line in text.splitlines()
        if line.startswith("| ") and "eval" not in line and "---" not in line
    ]
    assert rows == [
        "| covariance | 1.1 | 0.1 | FINISHED |",
        "| gram | 0.9 | 0.2 | FINISHED |",
        "| broken |  |  | FAILED |",
    ]


def test_nstx_runs_repair_ends_the_dead_runs_of_this_host_and_lists_other_hosts(mlflow_store, capsys):
    from nstx.cli import runs
    from nstx.tracking.repair import STARTED_TAG, owner_tags

    client = mlflow_store.client
    experiment = client.create_experiment("repairs")
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    here = owner_tags()
    ids = {
        name: client.create_run(experiment, run_name=name, tags=tags).info.run_id
        for name, tags in {
            "dead": {**here, "nstx.pid": ended.stdout.strip()},
            "reused_pid": {**here, STARTED_TAG: "1"},  # this process's id, another start time
            "alive": here,
            "elsewhere": {"nstx.host": "another-host", "nstx.pid": "1"},
            "not_nstx": {},
        }.items()
    }
    assert runs.main(["repair", "--tracking-uri", mlflow_store.uri]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"ended FAILED 2 run(s) of {mlflow_store.uri} whose process had died:")
    assert "left alone 1 RUNNING run(s) of other hosts" in out and "process 1 on another-host" in out
    status = {name: client.get_run(run_id).info.status for name, run_id in ids.items()}
    assert status == {
        "dead": "FAILED",
        "reused_pid": "FAILED",
        "alive": "RUNNING",
        "elsewhere": "RUNNING",
        "not_nstx": "RUNNING",
    }
    assert client.get_run(ids["dead"]).data.tags["nstx.repaired"].endswith("ended FAILED by nstx-runs repair")
