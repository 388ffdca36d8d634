"""The README, the docs and ``--help`` say the same: one test command, every console script,
one name for each launcher, and examples that run."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from tests.docs_pages import ALL, ROOT, Command, blocks
from tests.support import NSTX
from tests.test_docs_commands import SCRIPTS, check

HELP = ROOT / "conf" / "hydra" / "help"
LAUNCHERS = sorted(["basic", *(path.stem for path in (ROOT / "conf" / "hydra" / "launcher").glob("*.yaml"))])
NUMBERS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def readme_block(marker: str) -> str:
    found = [body for _, name, body in blocks(ROOT / "README.md") if name == marker]
    assert len(found) == 1, f"README.md has {len(found)} blocks marked <!-- {marker} -->"
    return found[0].strip()


def help_examples() -> list[Command]:
    """The ``Examples:`` lines of the ``--help`` templates, as commands."""
    found = []
    for path in sorted(HELP.glob("*.yaml")):
        template = OmegaConf.to_container(OmegaConf.load(path))["template"]
        examples = template.split("Examples:\n", 1)[1].split("\n\n", 1)[0]
        for line in examples.splitlines():
            text = re.sub(r"\s+\(.*\)$", "", line.strip())  # "(jobs in parallel)" is a note
            found.append(Command(path.relative_to(ROOT).as_posix(), 0, text, "", examples, None))
    return found


def test_the_docs_give_the_readmes_install_and_test_commands():
    """.ci/run runs the README's test command; the getting-started page gives the same two."""
    index = [body.strip() for _, _, body in blocks(ROOT / "docs" / "index.md")]
    for marker in ("main-command", "test-command"):
        assert readme_block(marker) in index, f"docs/index.md does not give the README's {marker}"
    assert "<!-- test-command -->" in (ROOT / ".ci" / "run").read_text()


def test_the_cli_reference_names_every_console_script():
    intro = (ROOT / "docs" / "cli.md").read_text().split("\n## ", 1)[0]
    assert f"installs {NUMBERS[len(SCRIPTS)]} commands" in intro
    for script in sorted(SCRIPTS):
        assert f"`{script}`" in intro, f"docs/cli.md does not introduce {script}"


def test_help_lists_every_launcher():
    shown = subprocess.run([str(NSTX), "--help"], capture_output=True, text=True, timeout=120).stdout
    section = shown.split("== Launchers", 1)[1].split("\n==", 1)[0]
    listed = sorted(line.split()[0] for line in section.splitlines()[1:] if line.strip())
    assert listed == LAUNCHERS


def test_one_name_for_each_launcher():
    """The parallel launcher is ``processes`` on every page and in --help, never the plugin's
    own ``joblib`` (whose default takes every core)."""
    used = {
        name
        for command in [*ALL, *help_examples()]
        for name in re.findall(r"hydra/launcher=(\w+)", command.text)
    }
    assert "processes" in used
    assert used - {"ray"} <= set(LAUNCHERS), f"launchers the pages use but nstx does not name: {used}"
    readme = (ROOT / "README.md").read_text()
    assert "hydra/launcher=joblib" not in readme


@pytest.mark.parametrize("command", help_examples(), ids=lambda c: f"{c.page}: {c.text}")
def test_help_examples_run_as_written(command, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # --help's examples use bundled samples only: they run anywhere
    check(command.words, command)


def test_the_samples_the_cli_reference_lists_are_the_bundled_ones():
    from nstx import samples

    text = (ROOT / "docs" / "cli.md").read_text()
    listed = re.search(r"bare file name of a bundled sample \(([^)]*)\)", text, re.S)
    assert listed
    names = sorted(re.findall(r"`([^`]+)`", listed.group(1)))
    assert names == sorted(p.name for p in Path(samples.HERE).iterdir() if p.suffix in samples.IMAGE_SUFFIXES)


def test_the_readme_says_what_the_install_costs_and_how_to_make_it_smaller():
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"install takes about [\d.]+ GB of disk and about [\d.]+ minutes", readme)
    # The CPU-only wheels are an option; its pins are checked against pyproject.toml with the
    # other commands (tests/test_docs_commands.py).
    assert "--index-url https://download.pytorch.org/whl/cpu" in readme_block("cpu-install")
