"""precision and compile: accepted everywhere, applied where they pay off, else one log line."""

import logging
import platform
import subprocess
import sys

import pytest
import torch

import nstx
from nstx.encoder.backbone import FeatureExtractor
from nstx.encoder.execution import Execution, reduced_precision_pays_off
from nstx.errors import InputError
from nstx.hookspecs import hookimpl
from tests.support import FAST, backbone_of, inputs_of, objective_of

CPU = torch.device("cpu")


class RunRecorder:
    @hookimpl
    def nstx_run_start(self, run):
        self.execution = run.execution


@pytest.fixture
def recorder(registered):
    return registered(RunRecorder())


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"precision": "fp16"}, "precision=fp16 brings no speed-up on cpu; running in fp32"),
        ({"compile": True}, "compile=true does not pay off on cpu; running the extractor eager"),
    ],
)
def test_cpu_falls_back_with_one_line(option, message, recorder, caplog, content_path, style_path):
    with caplog.at_level(logging.WARNING, logger="nstx.encoder.execution"):
        image = nstx.stylize(content_path, style_path, **FAST, **option)
    assert image.size == (32, 27)
    assert [r.getMessage() for r in caplog.records if r.name == "nstx.encoder.execution"] == [message]
    assert recorder.execution == Execution(CPU, "fp32", False)


def test_bf16_on_cpu_applies_only_with_native_bf16(recorder, caplog, content_path, style_path):
    with caplog.at_level(logging.WARNING, logger="nstx.encoder.execution"):
        nstx.stylize(content_path, style_path, **FAST, precision="bf16")
    lines = [r.getMessage() for r in caplog.records if r.name == "nstx.encoder.execution"]
    if reduced_precision_pays_off("bf16", CPU):
        assert recorder.execution.precision == "bf16" and lines == []
    else:
        assert recorder.execution.precision == "fp32" and len(lines) == 1


@pytest.mark.parametrize(
    ("option", "accepted"),
    [({"precision": "fp8"}, "fp32, bf16, fp16"), ({"compile": "yes"}, "true or false")],
)
def test_bad_values_are_input_errors(option, accepted, content_path, style_path):
    with pytest.raises(InputError, match=accepted):
        nstx.stylize(content_path, style_path, **FAST, **option)


def test_reduced_precision_features_with_fp32_losses_and_gradients(content_path, style_path):
    cfg = nstx.compose(**FAST)
    extractor = FeatureExtractor(backbone_of(cfg), ["relu1_1", "relu2_1", "relu4_2"])
    features = Execution(CPU, "bf16").features(extractor)
    content, styles = inputs_of(cfg, content_path, style_path)
    objective = objective_of(
        cfg, features, content, styles, {"relu1_1": 1.0, "relu2_1": 1.0}, {"relu4_2": 1.0}
    )
    image = content.clone().requires_grad_(True)
    out = features(image)
    assert {f.dtype for f in out.values()} == {torch.bfloat16}
    losses = objective(out, image)
    assert {loss.dtype for loss in losses.values()} == {torch.float32}
    assert all(term.target.dtype == torch.float32 for term in objective.style_terms.values())
    losses["total"].backward()
    assert image.grad.dtype == torch.float32 and image.grad.abs().sum() > 0


def test_backbone_weights_are_channels_last_on_cpu():
    backbone = backbone_of(nstx.compose(**FAST))
    convs = [m for m in backbone.layers if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convs)


def printed_by_fresh_process(script: str, *args: str) -> float:
    """The last number ``script`` prints, run by this Python in a process of its own.

    A fresh process, since the test process's heap has been shaped by every earlier test.
    """
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=True)
    return float(done.stdout.split()[-1])


FAULTS_PER_STEP = """
import resource, statistics, sys
import nstx
from nstx import registry
from nstx.hookspecs import hookimpl

class Faults:
    counts = []

    @hookimpl
    def nstx_step(self, step):
        self.counts.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt)

registry.default().register(Faults())
nstx.stylize(sys.argv[1], sys.argv[2], image_size=256, iterations=16, weights="random")
print(statistics.mean(b - a for a, b in zip(Faults.counts[-11:], Faults.counts[-10:])))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="a glibc malloc setting")
def test_cpu_steps_reuse_freed_memory_without_page_faults(content_path, style_path):
    """Once a 256 px CPU run is under way its steps take almost no fresh pages from the kernel.

    With glibc's defaults a step takes 6,500-13,000 page faults (measured means over steps
    7-16). Kept blocks leave the odd step that still grows the heap by a feature map
    (1,360-2,720 faults), so the test judges that mean: 0-700 measured.
    """
    assert printed_by_fresh_process(FAULTS_PER_STEP, str(content_path), str(style_path)) < 2500


LARGE_BLOCK_FAULTS = """
import resource
import torch
from nstx.encoder.execution import keep_freed_memory

assert keep_freed_memory()
faults = []
for _ in range(20):  # 64 MB, a 512 px map: above any mmap threshold glibc accepts
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.empty(2**24).fill_(1.0)
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(max(faults[-5:]))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="a glibc malloc setting")
def test_large_blocks_are_reused_without_page_faults():
    """After a few rounds a freed 64 MB block is reused as it is.

    With glibc's defaults every round maps it afresh: 16,384 page faults each time. The
    first rounds may still fault while the heap finds room for the block's alignment.
    """
    assert printed_by_fresh_process(LARGE_BLOCK_FAULTS) < 100
