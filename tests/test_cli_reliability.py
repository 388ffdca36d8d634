"""The real ``nstx`` command keeps every record: bad input, parallel jobs, a tracking server."""

from __future__ import annotations

import io
import json
import urllib.parse
import urllib.request

import pytest
from PIL import Image


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["correlation=grum"], "unknown correlation 'grum'; did you mean 'gram'? (available: covariance"),
        (["iterations=0"], "iterations must be a positive integer, got 0"),
    ],
    ids=["while_composing", "in_the_job"],
)
def test_bad_input_is_one_line_exit_status_2_no_image_no_run(args, message, nstx_cli, mlflow_store):
    result = nstx_cli.without("iterations")(*args)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"nstx: error: {message}")
    assert not list(nstx_cli.cwd.rglob("stylized.png"))
    assert mlflow_store.runs() == []


def test_a_sweep_on_a_tracking_uri_mlflow_cannot_open_says_so_once(nstx_cli):
    result = nstx_cli("-m", "tracking.uri=foo://store", "seed=0,1")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].startswith(
        "nstx: error: tracking.uri 'foo://store' is not a store MLflow can open (accepted: a path"
    )
    assert "Traceback" not in result.stderr
    assert "Warning" not in result.stderr  # Hydra only warns when a callback raises


def test_parallel_jobs_on_one_sqlite_store_are_all_recorded(nstx_cli, mlflow_store):
    """8 jobs, 4 joblib workers, one SQLite file: no lock errors, every run and image there."""
    result = nstx_cli(
        "-m",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=4",
        "correlation=gram,covariance",
        "style_layers=early,late",
        "seed=0,1",
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "locked" not in output.lower()
    parent, children = mlflow_store.sweep()
    assert parent.info.status == "FINISHED"
    assert len(children) == 8
    assert {child.info.status for child in children} == {"FINISHED"}
    assert {child.info.run_name for child in children} == {
        f"{c} · {s} · {n}" for c in ("gram", "covariance") for s in ("early", "late") for n in (0, 1)
    }
    for child in children:
        assert "stylized.png" in mlflow_store.artifacts(child)
        assert (nstx_cli.cwd / child.data.tags["nstx.output_dir"] / "stylized.png").is_file()


def request(url: str, body: dict | None = None) -> bytes:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if body is not None else {}
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=30) as reply:
        return reply.read()


def test_sweep_against_a_tracking_server(tracking_server, nstx_cli, monkeypatch):
    tracking_server = tracking_server.url
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_server)
    result = nstx_cli("-m", "seed=0,1")
    assert result.returncode == 0, result.stdout + result.stderr

    api = f"{tracking_server}/api/2.0/mlflow"
    [experiment] = [
        e
        for e in json.loads(request(f"{api}/experiments/search", {"max_results": 100}))["experiments"]
        if e["name"] == "nstx"
    ]
    search = {"experiment_ids": [experiment["experiment_id"]]}
    runs = json.loads(request(f"{api}/runs/search", search))["runs"]
    tags = {run["info"]["run_id"]: {t["key"]: t["value"] for t in run["data"]["tags"]} for run in runs}
    [parent] = [run for run in runs if "mlflow.parentRunId" not in tags[run["info"]["run_id"]]]
    children = [run for run in runs if run is not parent]
    assert parent["info"]["status"] == "FINISHED"
    assert sorted(run["info"]["run_name"] for run in children) == ["0", "1"]
    for child in children:
        run_id = child["info"]["run_id"]
        assert child["info"]["status"] == "FINISHED"
        assert tags[run_id]["mlflow.parentRunId"] == parent["info"]["run_id"]
        listed = json.loads(request(f"{api}/artifacts/list?run_id={run_id}"))["files"]
        assert "stylized.png" in {entry["path"] for entry in listed}
        query = urllib.parse.urlencode({"path": "stylized.png", "run_uuid": run_id})
        image = Image.open(io.BytesIO(request(f"{tracking_server}/get-artifact?{query}")))
        assert image.format == "PNG" and max(image.size) == 32
