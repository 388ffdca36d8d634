"""Runs that go wrong keep their record: divergence, interruption, failing plugins, reproducibility."""

import os
import signal
import sys
import textwrap

import PIL
import pytest
import torch
import torchvision
from omegaconf import OmegaConf
from PIL import Image

import nstx
from nstx.engine import assemble
from nstx.errors import DivergedError, PluginError, Terminated
from nstx.hookspecs import hookimpl
from tests.support import FAST


class Recorder:
    """Keeps each step's image and how the run ended; optionally acts at one step."""

    def __init__(self):
        self.images, self.ends, self.tags = {}, [], {}
        self.at_step = {}

    @hookimpl
    def nstx_run_start(self, run):
        self.tags = dict(run.tags)

    @hookimpl
    def nstx_step(self, step, image):
        self.images[step] = image()
        if step in self.at_step:
            self.at_step[step]()

    @hookimpl
    def nstx_run_end(self, result, status, error):
        self.ends.append((status, error, result))


@pytest.fixture
def recorder(registered):
    return registered(Recorder())


def run(tmp_path, content_path, style_path, tracked=False, **options):
    config = nstx.compose(**{**FAST, "tracking": {"enabled": tracked}, **options})
    return nstx.run(config, output_dir=tmp_path / "out", content=content_path, style=style_path)


@pytest.mark.parametrize(
    ("options", "step", "reason"),
    [
        ({"optimizer": {"name": "lbfgs", "lr": 1e30, "max_step": None}}, 2, "image has NaN or infinite"),
        # Relative content terms are about 1 for noise: a weight past float32's range overflows.
        ({"content_weight": 1e39, "init": "noise"}, 1, "loss content=inf, total=inf"),
    ],
    ids=["huge_learning_rate", "overflowing_loss"],
)
def test_divergence_stops_keeps_last_finite_image_and_fails(
    options, step, reason, recorder, mlflow_store, tmp_path, content_path, style_path
):
    with pytest.raises(DivergedError) as error:
        run(tmp_path, content_path, style_path, tracked=True, iterations=5, **options)
    assert error.value.step == step
    assert f"diverged at step {step}: " in str(error.value)
    assert reason in str(error.value)
    [(status, ended_with, result)] = recorder.ends
    assert status == "FAILED" and ended_with is error.value
    assert result.steps == step - 1
    saved = Image.open(tmp_path / "out" / "stylized.png")
    assert result.output == tmp_path / "out" / "stylized.png"
    if step > 1:  # the saved image is the one reported at the last finite step
        assert saved.tobytes() == recorder.images[step - 1].tobytes()
    [tracked] = mlflow_store.runs()
    assert tracked.info.status == "FAILED"
    assert tracked.data.tags["nstx.error"].startswith(f"DivergedError: diverged at step {step}: ")
    assert reason in tracked.data.tags["nstx.error"]
    assert "stylized.png" in mlflow_store.artifacts(tracked)


def send_sigterm():
    os.kill(os.getpid(), signal.SIGTERM)


def raise_interrupt():
    raise KeyboardInterrupt


@pytest.mark.parametrize("interrupt", [raise_interrupt, send_sigterm], ids=["ctrl_c", "sigterm"])
def test_interruption_saves_current_image_and_ends_killed(
    interrupt, recorder, tmp_path, content_path, style_path
):
    handler_before = signal.getsignal(signal.SIGTERM)
    recorder.at_step[2] = interrupt
    with pytest.raises(KeyboardInterrupt) as error:
        run(tmp_path, content_path, style_path, iterations=50)
    if interrupt is send_sigterm:
        assert isinstance(error.value, Terminated)
    [(status, ended_with, result)] = recorder.ends
    assert status == "KILLED" and ended_with is error.value
    assert result.steps == 2
    saved = Image.open(tmp_path / "out" / "stylized.png")
    assert saved.tobytes() == recorder.images[2].tobytes()
    assert signal.getsignal(signal.SIGTERM) is handler_before


FAILING_PLUGIN = textwrap.dedent(
    """
    from nstx.hookspecs import hookimpl
    from nstx.loss import CorrelationCost


    class Fragile(CorrelationCost):
        def distance(self, statistic, target):
            return helper(statistic)


    def helper(statistic):
        return 1 // 0


    class Flaky(CorrelationCost):
        # Fails at its sixth comparison: a few steps into the run.
        def distance(self, statistic, target):
            self.calls = getattr(self, "calls", 0) + 1
            if self.calls > 5:
                raise ArithmeticError("flaky at last")
            return ((statistic - target) ** 2).mean()


    def broken_start(content, style, generator):
        raise RuntimeError("no start today")


    @hookimpl
    def nstx_register_style_cost(register):
        register("fragile", Fragile)
        register("flaky", Flaky)


    @hookimpl
    def nstx_register_init(register):
        register("broken_start", broken_start)
    """
)


@pytest.fixture(scope="module")
def failing_plugins(tmp_path_factory):
    """A plugin directory (loaded once per process: the registry keeps what it loaded)."""
    plugins = tmp_path_factory.mktemp("plugins")
    (plugins / "failing.py").write_text(FAILING_PLUGIN)
    return plugins


@pytest.mark.parametrize(
    ("options", "named", "cause"),
    [
        ({"style_cost": "fragile"}, "style_cost 'fragile'", "ZeroDivisionError"),
        ({"init": "broken_start"}, "init 'broken_start'", "RuntimeError: no start today"),
    ],
    ids=["during_optimization", "while_building"],
)
def test_failing_plugin_is_named_with_its_kind(
    options, named, cause, failing_plugins, recorder, tmp_path, content_path, style_path
):
    with pytest.raises(PluginError) as error:
        run(tmp_path, content_path, style_path, plugins_dir=str(failing_plugins), **options)
    message = str(error.value)
    assert message.startswith(f"{named} (plugin '{failing_plugins / 'failing.py'}') failed: {cause}")
    if recorder.ends:  # failed after the run started: the run ended FAILED with the named error
        [(status, ended_with, _)] = recorder.ends
        assert status == "FAILED" and ended_with is error.value


def test_a_plugin_that_raises_mid_run_fails_the_run_and_keeps_its_last_image(
    failing_plugins, recorder, tmp_path, content_path, style_path
):
    with pytest.raises(PluginError, match=r"style_cost 'flaky' .* failed: ArithmeticError: flaky at last"):
        plugins = str(failing_plugins)
        run(tmp_path, content_path, style_path, plugins_dir=plugins, style_cost="flaky", iterations=50)
    [(status, ended_with, result)] = recorder.ends
    assert status == "FAILED" and isinstance(ended_with, PluginError)
    assert 1 <= result.steps < 50
    assert Image.open(tmp_path / "out" / "stylized.png").size == result.image.size


def test_a_hook_that_raises_mid_run_fails_the_run_and_keeps_its_last_image(
    recorder, tmp_path, content_path, style_path
):
    recorder.at_step[2] = lambda: 1 // 0
    with pytest.raises(PluginError, match=r"nstx_step hook of plugin .* failed: ZeroDivisionError"):
        run(tmp_path, content_path, style_path, iterations=50)
    [(status, ended_with, result)] = recorder.ends
    assert status == "FAILED" and isinstance(ended_with, PluginError)
    assert result.steps == 2
    saved = Image.open(tmp_path / "out" / "stylized.png")
    assert saved.tobytes() == recorder.images[2].tobytes()


def test_same_config_and_seed_give_identical_images_and_record_seed_versions_config(
    mlflow_store, tmp_path, content_path, style_path, monkeypatch
):
    options = {"init": "noise", "optimizer": "adam", "seed": 7, "iterations": 3}
    first = run(tmp_path / "1", content_path, style_path, **options)
    monkeypatch.setattr(assemble, "_backbones", {})  # rebuild the random-weight backbone from its seed
    second = run(tmp_path / "2", content_path, style_path, tracked=True, **options)
    assert first.output.read_bytes() == second.output.read_bytes()

    [tracked] = mlflow_store.runs()
    tags = tracked.data.tags
    assert tags["seed"] == tracked.data.params["seed"] == "7"
    assert tags["version.torch"] == torch.__version__
    assert tags["version.torchvision"] == torchvision.__version__
    assert tags["version.pillow"] == PIL.__version__
    assert tags["version.nstx"] == nstx.__version__
    assert tags["version.python"] == ".".join(map(str, sys.version_info[:3]))
    config = mlflow_store.client.download_artifacts(tracked.info.run_id, "config.yaml", str(tmp_path))
    recorded = OmegaConf.load(config)
    assert recorded.seed == 7 and recorded.optimizer.name == "adam" and recorded.init.name == "noise"


class Exhausting:
    """Raises ``error`` at step 2, as an allocation that fails there would."""

    def __init__(self, error):
        self.error = error

    @hookimpl
    def nstx_step(self, step):
        if step == 2:
            raise self.error


@pytest.mark.parametrize(
    "error",
    [
        MemoryError(),
        RuntimeError(
            "[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory: 8 bytes"
        ),
    ],
    ids=["python", "torch_cpu_allocator"],
)
def test_running_out_of_memory_is_one_line_and_a_failed_run_with_its_image(
    error, registered, mlflow_store, tmp_path, content_path, style_path, monkeypatch, capsys
):
    from nstx.cli import main as cli
    from tests.support import cli_args

    registered(Exhausting(error))
    args = [f"content={content_path}", f"style={style_path}", *cli_args(FAST), "iterations=5"]
    monkeypatch.setattr(sys, "argv", ["nstx", *args, f"hydra.run.dir={tmp_path / 'run'}"])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    assert stop.value.code == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, "\n".join(lines)
    [line] = lines
    assert line.startswith("nstx: error: out of memory (") and "lower image_size" in line
    assert f"the image of step 2 was saved to {tmp_path / 'run' / 'stylized.png'}" in line
    [run] = mlflow_store.runs()
    assert line.endswith(f"MLflow run {run.info.run_id} was recorded as FAILED")
    assert run.info.status == "FAILED"
    assert "stylized.png" in mlflow_store.artifacts(run)
