"""The ``nstx`` command on bad input: one line on stderr, exit status 2, no traceback, no image."""

import sys

import pytest
import torch

from nstx.cli import main as cli
from nstx.config.overrides import LAYER_GROUPS
from tests.bad_inputs import CASES, CUDA_MISSING
from tests.support import FAST


def overrides(options: dict, tmp_path, content_path, style_path) -> list[str]:
    """Run options as the Hydra overrides a person would type."""
    options = {
        **FAST,
        "content": content_path,
        "style": style_path,
        "tracking.enabled": "false",
        "output_dir": tmp_path / "run",
        **options,
    }
    args = []
    for key, value in options.items():
        if key == "output_dir":
            args.append(f"hydra.run.dir={value}")
        elif key in LAYER_GROUPS and not value:
            args.append(f"~{key}")
        elif key in LAYER_GROUPS:
            args += [f"++{key}.{layer}={weight}" for layer, weight in value.items()]
        elif isinstance(value, dict):  # a plugin group: its name, then its options
            args.append(f"{key}={value['name']}")
            args += [f"++{key}.{option}={typed(v)}" for option, v in value.items() if option != "name"]
        else:
            args.append(f"{key}={typed(value)}")
    return args


def typed(value) -> str:
    """A Python value as Hydra's override grammar writes it: None as null, lists in brackets."""
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ",".join(typed(item) for item in value) + "]"
    return str(value)


def run_cli(monkeypatch, capsys, args):
    monkeypatch.setattr(sys, "argv", ["nstx", *args])
    with pytest.raises(SystemExit) as exit:
        cli.main()
    return exit.value.code, capsys.readouterr().err


def check(case, tmp_path, content_path, style_path, monkeypatch, capsys):
    args = overrides(case.options(tmp_path), tmp_path, content_path, style_path)
    status, stderr = run_cli(monkeypatch, capsys, args)
    lines = stderr.strip().splitlines()
    assert status == 2, stderr
    assert len(lines) == 1 and lines[0].startswith("nstx: error: "), stderr
    for expected in case.expected:
        assert expected in lines[0], (expected, lines[0])
    assert not [*tmp_path.rglob("stylized.png"), *tmp_path.rglob("step_*.png")]


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_one_line_and_exit_status_2(
    name, tmp_path, content_path, style_path, monkeypatch, capsys
):
    check(CASES[name], tmp_path, content_path, style_path, monkeypatch, capsys)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_requested_without_cuda(tmp_path, content_path, style_path, monkeypatch, capsys):
    check(CUDA_MISSING, tmp_path, content_path, style_path, monkeypatch, capsys)


@pytest.mark.parametrize(
    ("environment", "extra"),
    [({"NSTX_DEBUG": "1"}, []), ({}, ["hydra.verbose=true"])],
    ids=["NSTX_DEBUG", "hydra.verbose"],
)
def test_debug_shows_the_traceback_too(
    environment, extra, tmp_path, content_path, style_path, monkeypatch, capsys
):
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    args = overrides({"iterations": 0}, tmp_path, content_path, style_path) + extra
    status, stderr = run_cli(monkeypatch, capsys, args)
    assert status == 2
    assert "Traceback (most recent call last)" in stderr
    assert "nstx.errors.InputError: iterations must be a positive integer, got 0" in stderr
    assert stderr.strip().splitlines()[-1] == "nstx: error: iterations must be a positive integer, got 0"
