"""What the MLflow UI opens on: nstx's experiments are model-training ones, and a sweep saves a
view of its runs (tests/test_mlflow_ui.py shows both in a browser)."""

from __future__ import annotations

import json

from omegaconf import OmegaConf

from nstx.tracking import sweep, ui
from nstx.tracking.store import Store, open_store
from nstx.tracking.tracker import IMAGE_KEY


def config(experiment: str = "nstx"):
    return OmegaConf.create({"tracking": {"experiment": experiment, "uri": None}})


def test_a_new_experiment_is_a_model_training_one(mlflow_store):
    experiment_id = open_store(config()).experiment_id
    tags = mlflow_store.client.get_experiment(experiment_id).tags
    assert tags[ui.EXPERIMENT_KIND_TAG] == ui.MODEL_TRAINING


def test_an_older_experiment_is_tagged_but_a_chosen_kind_is_kept(mlflow_store):
    client = mlflow_store.client
    older = client.create_experiment("older")
    chosen = client.create_experiment("chosen", tags={ui.EXPERIMENT_KIND_TAG: "genai_development"})
    open_store(config("older"))
    open_store(config("chosen"))
    assert client.get_experiment(older).tags[ui.EXPERIMENT_KIND_TAG] == ui.MODEL_TRAINING
    assert client.get_experiment(chosen).tags[ui.EXPERIMENT_KIND_TAG] == "genai_development"


def test_a_sweep_saves_a_view_of_its_runs(mlflow_store, tmp_path):
    client = mlflow_store.client
    experiment_id = open_store(config()).experiment_id
    parent = client.create_run(experiment_id, run_name="correlation=gram,covariance").info.run_id
    children = []
    for correlation, style in (("gram", 0.4), ("covariance", 0.3)):
        run_id = client.create_run(experiment_id, tags={"mlflow.parentRunId": parent}).info.run_id
        for key, value in {"correlation.name": correlation, "image_size": 32}.items():
            client.log_param(run_id, key, value)
        for step in (1, 2):
            client.log_metric(run_id, "loss/total", 1.0 / step, step=step)
        client.log_metric(run_id, "eval/style", style, step=2)
        client.set_terminated(run_id)
        children.append(client.get_run(run_id))
    open_sweep = sweep.OpenSweep(
        Store(client, "x", experiment_id), parent, {"correlation": []}, tmp_path, "s"
    )

    address = sweep.save_view(open_sweep, children)

    assert address == (
        f"http://127.0.0.1:5000/#/experiments/{experiment_id}/runs"
        f"?workflowType=machine_learning&viewStateShareKey={parent}"
    )
    saved = json.loads(client.get_experiment(experiment_id).tags[ui.VIEW_TAG + parent])
    assert saved["name"] == "sweep s"
    state = json.loads(saved["state"])
    # Only what the sweep changed, then the judge's scores; best style score first.
    assert state["selectedColumns"] == [
        "params.`correlation.name`",
        "metrics.`eval/style`",
        "metrics.`eval/content`",
    ]
    assert (state["orderByKey"], state["orderByAsc"]) == ("metrics.`eval/style`", True)
    assert state["runsExpanded"] == {parent: True}
    (grid,) = state["compareRunCharts"]
    assert (grid["type"], grid["imageKeys"], grid["step"]) == ("IMAGE", [IMAGE_KEY], 2)
    assert grid["metricSectionId"] == state["compareRunSections"][0]["uuid"]


def test_the_view_is_on_the_tracking_server_when_there_is_one():
    assert ui.ui_address("http://mlflow.example.org:8080") == "http://mlflow.example.org:8080/"
    assert ui.ui_address("sqlite:///mlflow.db") == "http://127.0.0.1:5000/"
