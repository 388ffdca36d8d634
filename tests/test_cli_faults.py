"""The real ``nstx`` command when things go wrong around a run: each class of bad setting, plugins
that cannot load, a tracking server that dies, a process killed with SIGKILL, Ctrl-C twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import SLOW_STEPS, Store, free_port, wait_until


def broken_file(tmp: Path) -> tuple[list[str], dict]:
    plugins = tmp / "plugins"
    plugins.mkdir()
    (plugins / "broken.py").write_text("from nstx.hookspecs import hookimpl\ndef oops(:\n")
    return [f"plugins_dir={plugins}"], {}


def same_name_twice(tmp: Path) -> tuple[list[str], dict]:
    plugins = tmp / "plugins"
    plugins.mkdir()
    (plugins / "mine.py").write_text(
        "from nstx.hookspecs import hookimpl\n\n\n@hookimpl\ndef nstx_register_correlation(register):\n"
        "    register('gram', lambda features: features)\n"
    )
    return [f"plugins_dir={plugins}"], {}


def broken_entry_point(tmp: Path) -> tuple[list[str], dict]:
    """An installed package (its metadata on PYTHONPATH) whose nstx entry point fails to import."""
    info = tmp / "site" / "broken_nstx_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-nstx-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[nstx]\nbroken = broken_nstx_plugin\n")
    (tmp / "site" / "broken_nstx_plugin.py").write_text("import math\n\nVALUE = math.sqrt(-1)\n")
    return [], {"PYTHONPATH": str(tmp / "site")}


def looping_weights(tmp: Path) -> tuple[list[str], dict]:
    (tmp / "loop.pth").symlink_to(tmp / "loop.pth")
    return [f"weights={tmp / 'loop.pth'}"], {}


def fixed(*args: str):
    return lambda tmp: (list(args), {})


# One row per class of bad setting: what is typed, and what the one line must say.
CLASSES = {
    "true_or_false": (
        fixed("tracking.enabled=maybe"),
        ["tracking.enabled must be true or false, got 'maybe'"],
    ),
    "integer_range": (
        fixed("seed=18446744073709551616"),
        ["seed must be an integer from 0 to 18446744073709551615 (the range torch.manual_seed takes)"],
    ),
    "weights_that_sum_to_infinity": (
        fixed("style_layers={relu1_1:1e308,relu2_1:1e308}"),
        ["style_layers weights sum to infinity"],
    ),
    "non_finite_plugin_option": (
        fixed("correlation=mean_shifted", "correlation.shift=nan"),
        ["correlation.shift must be a finite number, got nan"],
    ),
    "size_beyond_memory": (
        fixed("image_size=10000000"),
        ["image_size 10000000 makes a 10000000x8333333 image that needs about", "of memory available"],
    ),
    "empty_value": (
        fixed("content="),
        ["content is empty", "leave content out (null) for the bundled sample"],
    ),
    "odd_path": (looping_weights, ["loop.pth' is a symbolic link that loops back on itself; accepted: auto"]),
    "tracking_uri_a_file": (
        lambda tmp: ([f"tracking.uri={Path(__file__)}"], {}),
        ["test_cli_faults.py' is a file, not a directory"],
    ),
    "tracking_server_silent": (
        lambda tmp: ([f"tracking.uri=http://127.0.0.1:{free_port()}"], {}),
        ["did not answer within 5 s", "tracking.enabled=false"],
    ),
    "plugin_file_broken": (
        broken_file,
        ["plugin file", "broken.py' failed to load at", "broken.py, line 2: SyntaxError", "move it out"],
    ),
    "plugin_name_taken": (
        same_name_twice,
        ["correlation 'gram' is registered twice", "mine.py'", "'correlation' (", "rename one"],
    ),
    "entry_point_broken": (
        broken_entry_point,
        [
            "plugin 'broken' (entry point broken_nstx_plugin of broken-nstx-plugin) failed to load at",
            "broken_nstx_plugin.py, line 3: ValueError: math domain error",
            "pip uninstall broken-nstx-plugin",
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_each_class_of_bad_setting_is_one_line_and_exit_status_2(name, nstx_cli, mlflow_store, tmp_path):
    make, expected = CLASSES[name]
    args, environment = make(tmp_path)
    for arg in args:  # the row's value, not the fast default's
        nstx_cli = nstx_cli.without(arg.partition("=")[0])
    result = nstx_cli(*args, env={**os.environ, **environment})
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("nstx: error: ")
    for part in expected:
        assert part in line, (part, line)
    assert not list(tmp_path.rglob("stylized.png"))
    assert mlflow_store.runs() == []


STEPS = 60


def running(store: Store, with_metrics: bool = False):
    """The store's RUNNING run, once it is there (with its first metrics, if asked)."""
    found = [r for r in store.runs() if r.info.status == "RUNNING" and (r.data.metrics or not with_metrics)]
    return found[0] if found else None


def test_a_server_that_dies_mid_run_costs_at_most_the_bound_and_keeps_the_image(
    tracking_server, nstx_cli, tmp_path
):
    from nstx.tracking.outbox import FINISH_SECONDS

    plugins = tmp_path / "slow"
    plugins.mkdir()
    (plugins / "slow.py").write_text(SLOW_STEPS)
    process = nstx_cli.without("iterations").start(
        f"tracking.uri={tracking_server.url}", f"iterations={STEPS}", f"plugins_dir={plugins}"
    )
    wait_until(lambda: running(Store(tracking_server.url), with_metrics=True), process)
    tracking_server.crash()
    crashed = time.monotonic()
    _, stderr = process.communicate(timeout=120)
    waited = time.monotonic() - crashed
    assert process.returncode == 1, stderr
    [line] = stderr.splitlines()
    assert (
        line.startswith("nstx: error: MLflow run ")
        and " is incomplete: the store stopped answering (" in line
    )
    assert "the run's outputs are in " in line and "nstx-runs repair" in line
    # At most STEPS steps of 0.05 s (and a little compute) were left; the record may add FINISH_SECONDS.
    assert waited < STEPS * 0.05 + FINISH_SECONDS + 10, waited
    [image] = tmp_path.rglob("stylized.png")
    assert str(image.parent) in line


def test_a_run_killed_with_sigkill_is_ended_failed_by_the_next_run(nstx_cli, tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'runs' / 'mlflow.db'}")  # tracking.uri=runs: a directory
    process = nstx_cli.without("iterations").start("tracking.uri=runs", "iterations=100000")
    killed = wait_until(lambda: running(store), process)
    assert int(killed.data.tags["nstx.pid"]) == process.pid
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert running(store) is not None  # nothing ended it

    result = nstx_cli("tracking.uri=runs")
    assert result.returncode == 0, result.stderr
    assert f"ended FAILED 1 run(s) whose process had died: {killed.info.run_id}" in result.stdout
    repaired = store.client.get_run(killed.info.run_id)
    assert repaired.info.status == "FAILED"
    assert repaired.data.tags["nstx.repaired"].startswith(f"process {process.pid} on ")
    [finished] = [r for r in store.runs() if r.info.run_id != killed.info.run_id]
    assert finished.info.status == "FINISHED"
    assert "stylized.png" in store.artifacts(finished)
    assert (tmp_path / "runs" / "artifacts").is_dir()  # the store's files stay in its directory


def test_ctrl_c_twice_leaves_a_killed_run_with_its_image(nstx_cli, mlflow_store):
    process = nstx_cli.without("iterations").start("iterations=100000")
    wait_until(lambda: running(mlflow_store, with_metrics=True), process)
    os.killpg(process.pid, signal.SIGINT)
    time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)  # while the first is being handled
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    last = stderr.splitlines()[-1]
    assert last.startswith("nstx: interrupted (Ctrl-C); the image of step "), stderr
    [run] = mlflow_store.runs()
    assert last.endswith(f"; MLflow run {run.info.run_id} was recorded as KILLED")
    assert run.info.status == "KILLED"
    assert "stylized.png" in mlflow_store.artifacts(run)
    assert (nstx_cli.cwd / run.data.tags["nstx.output_dir"] / "stylized.png").is_file()


def test_ctrl_c_during_start_up_claims_no_run(nstx_cli, mlflow_store):
    process = nstx_cli.start()
    time.sleep(1.5)  # starting up: long before the backbone, the store or a run
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.splitlines() == [
        "nstx: interrupted (Ctrl-C) before the run started: no image was made and no run was recorded"
    ]
    assert mlflow_store.runs() == []


def test_processes_opening_a_new_sqlite_store_at_once_all_succeed(tmp_path):
    """Two first opens of one store at once would both create its tables, and one would fail."""
    code = (
        "from omegaconf import OmegaConf; from nstx.tracking.store import open_store; "
        f"open_store(OmegaConf.create({{'tracking': {{'uri': '{tmp_path / 'new'}', 'experiment': 'nstx'}}}}))"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    [experiment] = Store(f"sqlite:///{tmp_path / 'new' / 'mlflow.db'}").client.search_experiments(
        filter_string="name = 'nstx'"
    )
    assert experiment.lifecycle_stage == "active"
