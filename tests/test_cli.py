"""The ``nstx`` command, run for real in subprocesses: runs, sweeps, MLflow records, help, errors."""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap
import time

import pytest
import yaml

from tests.support import NSTX, Cli, Store

SWEEP = ["-m", "correlation=gram,covariance", "style_layers=early,late"]
PRESETS = {"early": {"relu1_1": "0.8", "relu2_1": "0.2"}, "late": {"relu4_1": "0.2", "relu5_1": "0.8"}}
CHATTER = ("Creating initial", "Updating database", "alembic", "Context impl", "does not exist")


def passed(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_sweep_nests_four_tracked_children_under_a_parent_with_a_grid(nstx_cli, mlflow_store):
    # Parallel launchers: tests/test_cli_reliability.py (8 joblib jobs on one SQLite store).
    passed(nstx_cli(*SWEEP))
    parent, children = mlflow_store.sweep()

    assert parent.info.status == "FINISHED"
    assert parent.info.run_name == "correlation=gram,covariance style_layers=early,late"
    assert [r.info.status for r in children] == ["FINISHED"] * 4
    swept = set()
    for child in children:
        params = child.data.params
        preset = "early" if "style_layers.relu1_1" in params else "late"
        assert {k: v for k, v in params.items() if k.startswith("style_layers.")} == {
            f"style_layers.{layer}": weight for layer, weight in PRESETS[preset].items()
        }
        swept.add((params["correlation.name"], preset))
        assert child.info.run_name == f"{params['correlation.name']} · {preset}"  # the swept values first
        assert "stylized.png" in mlflow_store.artifacts(child)
        assert any(p.endswith(".png") for p in mlflow_store.artifacts(child, "images"))
        history = mlflow_store.client.get_metric_history(child.info.run_id, "loss/total")
        assert [m.step for m in history] == [1, 2]
    assert swept == {(c, p) for c in ("gram", "covariance") for p in ("early", "late")}

    assert "comparison_grid.png" in mlflow_store.artifacts(parent)
    grid = nstx_cli.cwd / parent.data.tags["nstx.output_dir"] / "comparison_grid.png"
    assert grid.is_file()


def test_failed_job_ends_its_child_failed_and_the_parent_still_ends(nstx_cli, mlflow_store, content_path):
    result = nstx_cli.without("content")("-m", f"content={content_path},missing.png")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == "nstx: error: image 'missing.png' does not exist"
    parent, children = mlflow_store.sweep()

    by_content = {r.data.params["content"]: r for r in children}
    assert by_content[str(content_path)].info.status == "FINISHED"
    failed = by_content["missing.png"]
    assert failed.info.status == "FAILED"
    assert "missing.png" in failed.data.tags["nstx.error"]
    assert parent.info.status == "FAILED"
    assert parent.info.end_time is not None
    assert "missing.png" in parent.data.tags["nstx.error"]


@pytest.mark.parametrize(
    ("sent", "status", "reason"),
    [(signal.SIGINT, 130, "KeyboardInterrupt"), (signal.SIGTERM, 143, "Terminated: received SIGTERM")],
    ids=["ctrl_c", "sigterm"],
)
def test_signal_saves_the_image_and_ends_the_child_and_the_parent_killed(
    sent, status, reason, nstx_cli, mlflow_store
):
    process = subprocess.Popen(
        [
            str(NSTX),
            "-m",
            "correlation=gram,covariance",
            "iterations=100000",
            *nstx_cli.without("iterations").base,
        ],
        cwd=nstx_cli.cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        # Shells start background jobs with SIGINT ignored; a user's Ctrl-C is not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        while not any(r.data.metrics for r in mlflow_store.runs()):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.5)
        os.killpg(process.pid, sent)
        assert process.wait(timeout=60) == status
    finally:
        if process.poll() is None:
            process.kill()
    parent, (child,) = mlflow_store.sweep()
    assert (parent.info.status, child.info.status) == ("KILLED", "KILLED")
    assert parent.data.tags["nstx.error"].startswith(reason)
    assert "stylized.png" in mlflow_store.artifacts(child)
    assert (nstx_cli.cwd / child.data.tags["nstx.output_dir"] / "stylized.png").is_file()


def test_single_run_records_everything_without_mlflow_chatter(tmp_path, nstx_cli, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # MLflow's default: ./mlflow.db
    result = passed(nstx_cli("tracking.experiment=single"))
    output = result.stdout + result.stderr
    assert not [line for line in output.splitlines() if any(c in line for c in CHATTER)], output

    store = Store(f"sqlite:///{tmp_path / 'mlflow.db'}")
    (run,) = store.runs("single")
    assert run.info.status == "FINISHED"
    metrics = set(run.data.metrics)
    assert {"loss/total", "loss/content", "loss/style", "loss/tv", "time/step_s"} <= metrics
    assert {f"loss/style/relu{i}_1" for i in range(1, 6)} <= metrics
    tags = run.data.tags
    assert (tags["plugin.correlation"], tags["weights"], tags["device"]) == ("gram", "random", "cpu")
    assert tags["version.nstx"] and "nstx.version" not in tags  # the version once, among the others
    assert {"config.yaml", "stylized.png", "inputs", "images"} <= store.artifacts(run)
    assert store.artifacts(run, "inputs") == {"inputs/content.png", "inputs/style.png"}
    assert (tmp_path / tags["nstx.output_dir"] / "stylized.png").is_file()


PLUGIN = textwrap.dedent(
    """
    import os

    from nstx.hookspecs import hookimpl


    class Scaled:
        def __init__(self, scale: float = 2.0):
            with open(os.environ["SCALED_LOG"], "a") as log:
                log.write(f"{scale}\\n")
            self.scale = scale

        def __call__(self, features):
            f = features.flatten(2)
            return self.scale * (f @ f.mT) / f.shape[-1]


    @hookimpl
    def nstx_register_correlation(register):
        register("scaled_gram", Scaled)
    """
)


def test_plugins_dir_plugin_is_listed_and_selectable(tmp_path, nstx_cli, monkeypatch):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "scaled.py").write_text(PLUGIN)
    monkeypatch.setenv("SCALED_LOG", str(tmp_path / "scaled.log"))

    shown = passed(nstx_cli("--help", f"plugins_dir={plugins}")).stdout
    assert {"covariance", "gram", "mean_shifted", "scaled_gram"} <= listed_options(shown, "correlation")

    passed(
        nstx_cli(
            f"plugins_dir={plugins}",
            "correlation=scaled_gram",
            "correlation.scale=1.5",
            "tracking.enabled=false",
        )
    )
    assert set((tmp_path / "scaled.log").read_text().split()) == {"1.5"}
    assert list(tmp_path.glob("outputs/*/*/stylized.png"))


def listed_options(shown: str, group: str) -> set[str]:
    """The options ``nstx --help`` lists for ``group``."""
    line = next(line for line in shown.splitlines() if line.startswith(f"{group}: "))
    return set(line.removeprefix(f"{group}: ").split(", "))


def test_help_names_the_app_and_lists_groups_with_their_options(tmp_path):
    shown = passed(Cli(tmp_path, [])("--help")).stdout
    assert shown.startswith("nstx: ")
    assert "is powered by Hydra" not in shown
    # Installed plugin packages (CI installs the example one) may add options.
    for group, options in (
        ("backbone", {"vgg16", "vgg19"}),
        ("correlation", {"covariance", "gram", "mean_shifted"}),
        ("optimizer", {"adam", "lbfgs"}),
        ("style_layers", {"early", "even", "gatys", "late"}),
        ("content_layers", {"deep", "default"}),
    ):
        assert options <= listed_options(shown, group)


def test_cfg_job_prints_the_composed_config(nstx_cli):
    shown = passed(nstx_cli("--cfg", "job", "correlation=covariance", "style_layers=late")).stdout
    config = yaml.safe_load(shown)
    assert config["correlation"] == {"name": "covariance"}
    assert config["style_layers"] == {"relu4_1": 0.2, "relu5_1": 0.8}
    assert config["image_size"] == 32
    assert "hydra" not in config
