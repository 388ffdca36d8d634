"""benchmarks/gpu_check.sh and its driver: a GPU call must not be spent on a typo."""

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nstx

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.sh"
DRIVER = ROOT / "benchmarks" / "gpu_check.py"


def load_driver():
    spec = importlib.util.spec_from_file_location("gpu_check", DRIVER)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def driver():
    return load_driver()


def test_script_parses():
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_script_is_shellcheck_clean():
    subprocess.run(["shellcheck", str(SCRIPT)], check=True)


@pytest.mark.parametrize("args", [[], ["out", "--rehearsal"], ["out", "--rehearse", "extra"]])
def test_script_refuses_bad_arguments_before_any_work(args, tmp_path):
    done = subprocess.run(["bash", str(SCRIPT), *args], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2
    assert "usage:" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_check_arguments(driver, tmp_path):
    args = driver.parse_args(["check", str(tmp_path)])
    assert (args.command, args.out, args.rehearse, args.only) == ("check", tmp_path, False, None)
    assert args.time_limit == 420
    args = driver.parse_args(
        ["check", "out", "--rehearse", "--only", "environment", "sweep", "--time-limit", "60"]
    )
    assert args.rehearse and args.only == ["environment", "sweep"] and args.time_limit == 60


@pytest.mark.parametrize(
    "argv",
    [
        ["check"],
        ["check", "out", "--only", "no_such_part"],
        ["check", "out", "--time-limit", "1"],
        ["part", "environment", "--out", "o", "--result", "r.json"],  # no --work
        ["part", "no_such_part", "--out", "o", "--result", "r.json", "--work", "w"],
    ],
)
def test_bad_arguments_exit_2(driver, argv, capsys):
    with pytest.raises(SystemExit) as stop:
        driver.parse_args(argv)
    assert stop.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_parts_keep_within_the_gpu_call(driver):
    """Every part has a budget; the most important come first, since what runs out of time is last."""
    names = [part.name for part in driver.PARTS]
    assert names[:2] == ["environment", "stylize"]
    assert len(set(names)) == len(names)
    assert all(0 < part.gpu_budget_s <= 150 for part in driver.PARTS)
    assert driver.GPU.device == "cuda" and driver.REHEARSAL.device == "cpu"
    assert 1024 in driver.GPU.bench_sizes and max(driver.REHEARSAL.bench_sizes) <= 64


def test_watch_hooks_match_the_hookspecs(driver):
    """pluggy checks a plugin's hook arguments against the specs when it is registered."""
    from nstx import registry

    with driver.watching() as watch:
        callers = {caller.name for caller in registry.default().pm.get_hookcallers(watch)}
    assert callers == {"nstx_run_start", "nstx_step", "nstx_run_end"}
    assert registry.default().pm.get_hookcallers(watch) is None  # unregistered after the block


def test_rehearsal_of_the_environment_part(tmp_path):
    """The cheapest part, rehearsed end to end: a child process, its record, the report."""
    out, work = tmp_path / "out", tmp_path / "work"
    done = subprocess.run(
        [
            sys.executable,
            str(DRIVER),
            "check",
            str(out),
            "--work",
            str(work),
            "--rehearse",
            "--only",
            "environment",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((out / "gpu_check.json").read_text())
    assert report["mode"] == "rehearsal" and report["summary"]["pass"] == 1
    environment = report["parts"]["environment"]
    assert environment["status"] == "pass"
    assert environment["result"]["versions"]["nstx"] == nstx.__version__
    assert environment["result"]["modules_imported"] > 10
