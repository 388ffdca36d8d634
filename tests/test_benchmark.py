"""The benchmark runs end to end on a tiny size and reports every field it promises."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.support import gradient_image

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
    from nstx.bench import speed
    from nstx.bench.common import square_samples
    from nstx.cli.bench import parse_args

    args = parse_args(["--steps", "1", "optimizer.history_size=2"])
    lbfgs = speed.measure(32, "lbfgs", args, square_samples())
    assert lbfgs.warmup == speed.WARMUP + 2
    assert len(lbfgs.nstx_samples) == len(lbfgs.floor_samples) == 1
    adam = speed.measure(32, "adam", parse_args(["--steps", "1"]), square_samples())
    assert adam.warmup == speed.WARMUP


def quality_images(folder: Path) -> Path:
    """Tiny generated images under the names of the quality benchmark's pairs."""
    from nstx.bench import quality

    folder.mkdir()
    for seed, name in enumerate(name for pair in quality.PAIRS for name in pair):
        gradient_image((48, 48), seed=seed).save(folder / name)
    return folder


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sizes", "0"], "nstx-bench: error: image_size must be a positive integer, got 0"),
        (["--optimizers", "sgdd"], "nstx-bench: error: unknown optimizer 'sgdd'"),
        (["--json", "{file}/report.json"], "nstx-bench: error: output directory '{file}' cannot be written"),
        (["--quality", "--images", "{file}.d"], "nstx-bench: error: image folder '{file}.d' does not exist"),
        (
            ["--quality", "--images", "{empty}"],
            "nstx-bench: error: image folder '{empty}' lacks tubingen.jpg, ",
        ),
        (
            ["--quality", "--images", "{images}", "--sizes", "24"],
            "nstx-bench: error: size 24 is too small: at its coarse level (12 px) tubingen.jpg has a 12 px "
            "side, below the 16 px that relu5_1 needs",
        ),
    ],
    ids=["size", "optimizer", "json_directory", "quality_folder", "quality_images", "quality_size"],
)
def test_bad_input_is_one_line_and_exit_status_2_before_measuring(tmp_path, args, message):
    """In its own process: logging set up by earlier in-process runs must not mix in."""
    paths = {"file": tmp_path / "a_file", "empty": tmp_path / "empty", "images": tmp_path / "images"}
    paths["file"].write_text("not a directory")
    paths["empty"].mkdir()
    quality_images(paths["images"])
    args = [arg.format(**paths) for arg in args]
    command = [sys.executable, str(SCRIPT), *args, "--steps", "1", "--warmup", "0"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith(message.format(**paths))


def test_quality_benchmark_runs_nstx_and_pastiche_end_to_end(tmp_path, monkeypatch, capsys):
    """One pair at 32 px: the real engine, the real pastiche command, the judge, both tables,
    the JSON curves and the plot."""
    from nstx.bench import quality
    from nstx.cli import bench as benchmark

    monkeypatch.setattr(quality, "PAIRS", quality.PAIRS[:1])
    report, plot = tmp_path / "quality.json", tmp_path / "quality.png"
    args = ["--quality", "--images", str(quality_images(tmp_path / "images")), "--sizes", "32"]
    args += ["--pastiche-steps", "2", "--nstx-steps", "3", "--every", "1", "--weights", "random"]
    assert benchmark.main([*args, "--json", str(report), "--plot", str(plot)]) == 0

    curves = json.loads(report.read_text())["curves"]
    assert [(curve["contender"], [point["step"] for point in curve["points"]]) for curve in curves] == [
        ("pastiche", [1, 2]),
        ("nstx", [1, 2, 3]),
        ("nstx coarse-to-fine", [1, 2, 3]),
    ]
    for curve in curves:
        assert all(
            point["seconds"] > 0 and point["content"] >= 0 < point["style"] for point in curve["points"]
        )
    for curve in curves[1:]:  # pastiche prints tenths of seconds; nstx's clock is exact
        assert [point["seconds"] for point in curve["points"]] == sorted(
            point["seconds"] for point in curve["points"]
        )
    out = capsys.readouterr().out
    final = curves[0]["points"][-1]
    scores = f"{final['content']:.3g} | {final['style']:.3g} | {final['seconds']:.1f}"
    assert f"| 32 | tubingen.jpg / starry_night.jpg | pastiche | 2 | {scores} | the reference |" in out
    assert "| 32 | tubingen.jpg / starry_night.jpg | nstx coarse-to-fine | 3 |" in out
    assert f"| 32 | tubingen.jpg / starry_night.jpg | {final['seconds'] / 2:.1f} |" in out
    assert Image.open(plot).format == "PNG"


def test_pastiche_clock_takes_its_image_writes_off():
    from nstx.bench.pastiche import pastiche_clock

    output = """device[0]: cpu (0-29)
seed: 0
size: 32x32
style_sizes[0]: 25x32

step elapsed loss
---- ------- ----
wrote 0.500000
0    4.8     141857296.00
1    6.0     141857296.00
wrote 0.250000
2    6.8     nan
"""
    assert pastiche_clock(output) == pytest.approx({0: 4.3, 1: 5.5, 2: 6.05})


def test_quality_tables_compare_with_pastiches_final_image():
    """A contender reaches pastiche's final image at the first checkpoint that is as good in
    style with content no worse; the target is reaching it within half of pastiche's time."""
    from nstx.bench.curves import Curve, Point, table, targets

    def curve(contender, *points):
        return Curve("c.png", "s.jpg", 512, contender, [Point(*point) for point in points])

    curves = [
        curve("pastiche", (150, 50.0, 1.0, 0.3), (300, 100.0, 1.0, 0.2)),
        # step 10: style good enough, content worse; step 20: both
        curve(
            "nstx", (10, 5.0, 1.5, 0.19), (20, 10.0, 0.9, 0.2), (100, 50.0, 0.8, 0.1), (300, 150.0, 0.7, 0.09)
        ),
        curve("nstx coarse-to-fine", (100, 20.0, 0.5, 0.25), (300, 60.0, 0.5, 0.21)),
    ]
    rows = table(curves, default_steps=100).splitlines()[2:]
    assert rows == [
        "| 512 | c.png / s.jpg | pastiche | 300 | 1 | 0.2 | 100.0 | the reference |",
        "| 512 | c.png / s.jpg | nstx | 100 | 0.8 | 0.1 | 50.0 | 10.0 s (step 20), 0.10 of pastiche's |",
        "| 512 | c.png / s.jpg | nstx | 300 | 0.7 | 0.09 | 150.0 | 10.0 s (step 20), 0.10 of pastiche's |",
        "| 512 | c.png / s.jpg | nstx coarse-to-fine | 300 | 0.5 | 0.21 | 60.0 | not reached |",
    ]
    assert targets(curves).splitlines()[2:] == [
        "| 512 | c.png / s.jpg | 50.0 | 10.0 | not reached | yes (nstx) |"
    ]
