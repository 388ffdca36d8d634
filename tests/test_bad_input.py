"""Every bad input of the reliability table fails before any work with one line naming the value."""

import pytest
import torch

import nstx
from nstx.errors import InputError
from tests.bad_inputs import CASES, CUDA_MISSING
from tests.support import FAST


def run_with(options, content_path, style_path, tmp_path):
    output_dir = options.pop("output_dir", tmp_path / "out")
    content = options.pop("content", content_path)
    style = options.pop("style", style_path)
    config = nstx.compose(**{**FAST, "tracking": {"enabled": False}, **options})
    nstx.run(config, output_dir=output_dir, content=content, style=style)


def check(case, content_path, style_path, tmp_path):
    with pytest.raises(InputError) as error:
        run_with(case.options(tmp_path), content_path, style_path, tmp_path)
    message = str(error.value)
    assert "\n" not in message
    for expected in case.expected:
        assert expected in message, (expected, message)
    assert not list(tmp_path.rglob("stylized.png"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_raises_one_line(name, content_path, style_path, tmp_path):
    check(CASES[name], content_path, style_path, tmp_path)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_requested_without_cuda(content_path, style_path, tmp_path):
    check(CUDA_MISSING, content_path, style_path, tmp_path)
