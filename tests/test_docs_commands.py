"""Every command on the README's and the docs' pages runs as written from a fresh clone, after
the README's install, in the clone's root.

An ``nstx`` or ``nstx-features`` command is composed as ``--cfg job`` composes it (every job
of a sweep), and its images (content, style, masks, init, image) must be files or bundled
samples; a command whose comment says ``fails:`` must fail that way. Other commands are
checked as far as is cheap: console scripts exist and their options parse (nstx-bench's
parser, MLflow's click commands), files and extras named by pip, python and pytest exist,
and versions pinned on a pip line are the ones pyproject.toml pins.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import itertools
import re
import shlex
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from omegaconf import DictConfig, ListConfig

from nstx import samples
from tests.docs_pages import ALL, ROOT, Command

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SCRIPTS = set(PYPROJECT["project"]["scripts"])
PLUGIN_EXAMPLES = ROOT / "docs" / "plugin_examples"
SHELL = {"export", "cat", "cd", "source"}  # builtins and file viewers: nothing of ours to check


def chained(words: list[str]) -> list[list[str]]:
    """``a x && b y`` -> [["a", "x"], ["b", "y"]], without leading ``VAR=value`` assignments."""
    parts = [list(group) for is_and, group in itertools.groupby(words, lambda w: w == "&&") if not is_and]
    return [list(itertools.dropwhile(lambda w: re.fullmatch(r"[A-Z_]+=.*", w), part)) for part in parts]


def resolves(value: str) -> bool:
    return Path(value).exists() or samples.bundled(value) is not None


def images(config: DictConfig, keys: tuple[str, ...]) -> list[str]:
    """The image paths a composed config names under ``keys`` (lists flattened, nulls left out)."""
    found = []
    for key in keys:
        node = config.get(key)
        if isinstance(node, DictConfig):  # init=image with its path
            node = node.get("path")
        values = list(node) if isinstance(node, ListConfig) else [node]
        found += [str(value) for value in values if value is not None]
    return found


def jobs(overrides: list[str]) -> list[list[str]]:
    """The override lists of a sweep's jobs (one list when nothing is swept)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    axes = []
    for override in OverridesParser.create().parse_overrides(overrides):
        if override.is_sweep_override():
            key = override.get_key_element()
            axes.append([f"{key}={value}" for value in override.sweep_string_iterator()])
        else:
            axes.append([override.input_line])
    return [list(job) for job in itertools.product(*axes)]


def hydra_overrides(args: list[str]) -> list[str]:
    """A Hydra app's overrides: its flags dropped (``--cfg job`` composes what a run would)."""
    with_value = {"--cfg", "-c", "--package", "-p", "--config-dir", "-cd", "--config-name", "-cn"}
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in with_value:
            skip = True
        elif not arg.startswith("-"):
            kept.append(arg)
    return kept


@functools.cache
def installed(package: str) -> bool:
    try:
        importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def pending_installs(command: Command) -> list[str]:
    """Packages a ``pip install`` earlier in the command's block adds and this machine lacks."""
    before = command.block.split(command.text, 1)[0]
    names = re.findall(r"pip install (?:-\w+ )*([A-Za-z][\w-]*)\s*$", before, re.M)
    return [name for name in names if not installed(name)]


def check_nstx(args: list[str], command: Command) -> None:
    from nstx import registry
    from nstx.config import overrides
    from nstx.config.compose import compose

    if {"-sc", "--shell-completion", "--help", "-h", "--version", "--info", "-i"} & set(args):
        return
    if command.page == "docs/plugins.md":  # the page's files are registered from docs/plugin_examples
        args = [arg for arg in args if arg != "plugins_dir=my_plugins"]
    if pending_installs(command):  # e.g. hydra-ray-launcher: only check that Hydra can parse it
        jobs(hydra_overrides(args))
        return
    argv = hydra_overrides(overrides.rewrite(args, registry.default().names("init")))
    missing = []
    for job in jobs(argv):
        config = compose(job)
        missing += [p for p in images(config, ("content", "style", "style_masks", "init")) if not resolves(p)]
    if command.comment.startswith("fails:"):
        assert missing, f"{command}: meant to fail on a missing image, but all resolve"
    else:
        assert not missing, f"{command}: no such image or bundled sample: {sorted(set(missing))}"


def check_features(args: list[str], command: Command) -> None:
    from hydra import compose, initialize_config_module

    for job in jobs(hydra_overrides(args)):
        with initialize_config_module(config_module="nstx.conf", version_base="1.3"):
            config = compose(config_name="features", overrides=job)
        missing = [p for p in images(config, ("image",)) if not resolves(p)]
        assert not missing, f"{command}: no such image or bundled sample: {missing}"


def check_bench(args: list[str], command: Command) -> None:
    from nstx.cli.bench import parse_args

    parse_args(args)


def check_python(args: list[str], command: Command) -> None:
    if args[:2] == ["-m", "venv"]:
        return
    pytest = args[:2] == ["-m", "pytest"]
    for path in [arg for arg in args[2:] if not arg.startswith("-")] if pytest else args[:1]:
        assert (ROOT / path).exists(), f"{command}: no {path} in the repository"


def check_pip(args: list[str], command: Command) -> None:
    assert args[0] == "install", command
    pins = dict(re.findall(r"^([\w-]+)==(\S+)$", "\n".join(PYPROJECT["project"]["dependencies"]), re.M))
    for arg in args[1:]:
        if arg.startswith("-") or arg.startswith("http"):
            continue
        target, _, extras = arg.partition("[")
        if target.startswith("."):
            assert (ROOT / target / "pyproject.toml").exists(), f"{command}: no package {arg}"
            for extra in filter(None, extras.rstrip("]").split(",")):
                assert extra in PYPROJECT["project"]["optional-dependencies"], f"{command}: no extra {extra}"
        elif "==" in arg:
            name, version = arg.split("==")
            assert pins.get(name) == version, f"{command}: {arg}, but pyproject.toml pins {pins.get(name)}"


def check_mlflow(args: list[str], command: Command) -> None:
    """Parse the options with MLflow's own click commands, without running them."""
    from mlflow.cli import cli

    group, rest = cli, list(args)
    while rest and hasattr(group, "get_command") and not rest[0].startswith("-"):
        name = rest.pop(0)
        group = group.get_command(None, name)
        assert group is not None, f"{command}: mlflow has no command {name}"
    group.make_context(group.name, rest)


def check_eval(args: list[str], command: Command) -> None:
    inner = re.fullmatch(r"\$\((.*)\)", args[0])
    assert inner, command
    check(shlex.split(inner.group(1)), command)


CHECKS: dict[str, Callable[[list[str], Command], None]] = {
    "nstx": check_nstx,
    "nstx-features": check_features,
    "nstx-bench": check_bench,
    "nstx-plugins": lambda args, command: None,
    "python": check_python,
    "python3": check_python,
    "pip": check_pip,
    "mlflow": check_mlflow,
    "eval": check_eval,
}


def check(words: list[str], command: Command) -> None:
    for part in chained(words):
        program = part[0].removeprefix(".venv/bin/")
        if program.startswith("nstx"):
            assert program in SCRIPTS, f"{command}: {program} is not one of nstx's commands"
            assert Path(sys.executable).with_name(program).exists(), f"{program} is not installed"
        if program not in SHELL:
            assert program in CHECKS, f"{command}: nothing knows how to check {program!r}"
            CHECKS[program](part[1:], command)


@pytest.fixture
def plugin_examples(registered):
    """docs/plugins.md's files, loaded as the page's my_plugins directory would be."""
    for path in sorted(PLUGIN_EXAMPLES.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"docs_plugin_example_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        registered(module)


@pytest.mark.parametrize("command", ALL, ids=str)
def test_command_runs_as_written(command, request, monkeypatch):
    if command.page == "docs/plugins.md":
        request.getfixturevalue("plugin_examples")
    monkeypatch.chdir(ROOT)  # a fresh clone's root, where the README's install leaves you
    check(command.words, command)


def test_every_page_with_commands_is_seen():
    pages = {command.page for command in ALL}
    assert {"README.md", "docs/index.md", "docs/cli.md", "docs/experiments/pairs.md"} <= pages
    assert len(ALL) > 60
