"""What the MLflow UI opens on. nstx's experiments are tagged as model training (MLflow's
``mlflow.experimentKind``), and each sweep saves a view of its runs in the experiment: the runs
table with the swept parameters and the judge's scores as columns, best style score first, and
the chart view with an image grid of the children's step images. The view is a named entry in
the UI's views menu, and a link opens it directly.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
MODEL_TRAINING = "custom_model_development"
VIEW_TAG = "mlflow.sharedViewState."  # + the view's key: a saved view of the runs page
SCORES = ("eval/style", "eval/content")
MAX_PARAM_COLUMNS = 8


def experiment_tags() -> dict[str, str]:
    """Tags of a new experiment: a model-training one, whose page is the runs table."""
    return {EXPERIMENT_KIND_TAG: MODEL_TRAINING}


def mark_experiment(client: Any, experiment: Any) -> None:
    """Tag an experiment made before nstx tagged them, unless someone chose its kind already."""
    if EXPERIMENT_KIND_TAG not in experiment.tags:
        client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND_TAG, MODEL_TRAINING)


def swept_params(children: Sequence[Any]) -> list[str]:
    """The parameters whose values differ between the children: what the sweep changed."""
    keys = sorted({key for child in children for key in child.data.params})
    return [key for key in keys if len({child.data.params.get(key) for child in children}) > 1]


def view_state(parent_run_id: str, children: Sequence[Any], image_key: str, last_step: int) -> dict[str, Any]:
    """The runs page's state: columns, sort, the parent expanded, and an image grid chart."""
    columns = [f"params.`{key}`" for key in swept_params(children)[:MAX_PARAM_COLUMNS]]
    columns += [f"metrics.`{key}`" for key in SCORES]
    section = f"nstx-images-{parent_run_id}"
    grid = {
        "uuid": f"nstx-image-grid-{parent_run_id}",
        "type": "IMAGE",
        "runsCountToCompare": 10,
        "metricSectionId": section,
        "deleted": False,
        "isGenerated": False,
        "displayName": image_key,
        "imageKeys": [image_key],
        "step": last_step,
        "showRunParams": False,
    }
    return {
        "selectedColumns": columns,
        "orderByKey": f"metrics.`{SCORES[0]}`",
        "orderByAsc": True,
        "runsExpanded": {parent_run_id: True},
        "compareRunSections": [
            {"uuid": section, "name": "images", "display": True, "isReordered": False, "deleted": False}
        ],
        "compareRunCharts": [grid],
    }


def save_sweep_view(
    client: Any, experiment_id: str, parent_run_id: str, name: str, children: Sequence[Any], image_key: str
) -> str:
    """Save the sweep's view in its experiment (key: the parent run's id), with an image grid of
    ``image_key``; return its link, to append to the UI's address."""
    last_step = 0
    for child in children:
        history = client.get_metric_history(child.info.run_id, "loss/total")
        last_step = max([last_step, *(metric.step for metric in history)])
    now = int(time.time() * 1000)
    envelope = {
        "name": f"sweep {name}",
        "createdAt": now,
        "updatedAt": now,
        "state": json.dumps(view_state(parent_run_id, children, image_key, last_step)),
    }
    client.set_experiment_tag(experiment_id, VIEW_TAG + parent_run_id, json.dumps(envelope))
    return view_link(experiment_id, parent_run_id)


def view_link(experiment_id: str, key: str | None = None) -> str:
    """The UI's page of an experiment's runs (opened as model training), in a saved view."""
    link = f"#/experiments/{experiment_id}/runs?workflowType=machine_learning"
    return f"{link}&viewStateShareKey={key}" if key else link


def ui_address(store: str) -> str:
    """Where the UI of ``store`` is: the tracking server itself, else ``mlflow ui``'s default."""
    return store.rstrip("/") + "/" if store.startswith(("http://", "https://")) else "http://127.0.0.1:5000/"
