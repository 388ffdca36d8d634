"""The benchmark runs end to end on a tiny size and reports every field it promises."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "bench_step.py"


def test_benchmark_at_64px_writes_table_and_json(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--sizes", "64", "--steps", "2", "--warmup", "1", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["machine"]["torch_threads"] >= 1
    assert report["settings"]["memory"] in ("rss", "rss_process_peak")
    rows = report["results"]
    assert [(r["size"], r["height"], r["width"], r["optimizer"]) for r in rows] == [
        (64, 64, 64, "lbfgs"),
        (64, 64, 64, "adam"),
    ]
    for row in rows:
        for samples in ("nstx_samples", "floor_samples", "nstx_cpu_samples", "floor_cpu_samples"):
            assert len(row[samples]) == 2 and all(value > 0 for value in row[samples])
        assert row["floor_s"] > 0 and row["nstx_s"] > 0
        assert row["ratio"] > 0 and row["cpu_ratio"] > 0 and row["peak_memory_mb"] > 0
        assert f"| 64x64 | {row['optimizer']} | {row['floor_s']:.3f} | {row['nstx_s']:.3f} |" in done.stdout


SGD_PLUGIN = """
from nstx.hookspecs import hookimpl


@hookimpl
def nstx_register_optimizer(register):
    register("sgd", sgd)


def sgd(params, lr: float = 0.1):
    import torch

    return torch.optim.SGD(params, lr=lr)
"""


def test_a_plugin_from_a_plugins_dir_can_be_benchmarked(tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "sgd.py").write_text(SGD_PLUGIN)
    args = ["--sizes", "32", "--optimizers", "sgd", "--steps", "1", "--warmup", "0", f"plugins_dir={plugins}"]
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "| 32x32 | sgd |" in done.stdout


def test_default_warmup_fills_the_optimizer_history():
    from nstx.cli import bench as benchmark

    args = benchmark.parse_args(["--steps", "1", "optimizer.history_size=2"])
    lbfgs = benchmark.measure(32, "lbfgs", args, benchmark.square_samples())
    assert lbfgs.warmup == benchmark.WARMUP + 2
    assert len(lbfgs.nstx_samples) == len(lbfgs.floor_samples) == 1
    adam = benchmark.measure(32, "adam", benchmark.parse_args(["--steps", "1"]), benchmark.square_samples())
    assert adam.warmup == benchmark.WARMUP


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sizes", "0"], "nstx-bench: error: image_size must be a positive integer, got 0"),
        (["--optimizers", "sgdd"], "nstx-bench: error: unknown optimizer 'sgdd'"),
        (["--json", "{file}/report.json"], "nstx-bench: error: output directory '{file}' cannot be written"),
    ],
    ids=["size", "optimizer", "json_directory"],
)
def test_bad_input_is_one_line_and_exit_status_2_before_measuring(tmp_path, args, message):
    """In its own process: logging set up by earlier in-process runs must not mix in."""
    a_file = tmp_path / "a_file"
    a_file.write_text("not a directory")
    args = [arg.format(file=a_file) for arg in args]
    command = [sys.executable, str(SCRIPT), *args, "--steps", "1", "--warmup", "0"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith(message.format(file=a_file))
