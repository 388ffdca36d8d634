"""Security basics: safe weight loading, plugins only from where the user said, no open ports."""

import contextlib
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest
import torch

import nstx
from nstx.encoder import weights
from nstx.errors import InputError
from nstx.hookspecs import hookimpl
from tests.support import FAST

ROOT = pathlib.Path(__file__).resolve().parents[1]


class TouchOnLoad:
    """Unpickling this would create a file: what a malicious checkpoint could do."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (pathlib.Path.touch, (self.path,))


def test_weights_file_cannot_run_code_when_loaded(tmp_path):
    marker = tmp_path / "pwned"
    checkpoint = tmp_path / "evil.pth"
    torch.save({"features.0.weight": TouchOnLoad(marker)}, checkpoint)
    with pytest.raises(InputError, match=r"cannot be loaded safely \(weights_only=True\)"):
        weights.read_state_dict(checkpoint)
    assert not marker.exists()


PLANTED = textwrap.dedent(
    """
    import pathlib

    from nstx.hookspecs import hookimpl

    pathlib.Path(__file__).with_suffix(".imported").touch()


    @hookimpl
    def nstx_register_correlation(register):
        register("planted", lambda: None)
    """
)


def nstx_help(cwd, *args):
    command = [str(pathlib.Path(sys.executable).with_name("nstx")), *args, "--help"]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=True).stdout


def test_plugins_load_only_from_a_named_directory(tmp_path):
    for name in ("plugins", "nstx_plugins"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "planted.py").write_text(PLANTED)
    (tmp_path / "planted.py").write_text(PLANTED)

    assert "planted" not in nstx_help(tmp_path)
    assert not list(tmp_path.rglob("*.imported"))

    assert "planted" in nstx_help(tmp_path, "plugins_dir=plugins")
    assert [path.parent.name for path in tmp_path.rglob("*.imported")] == ["plugins"]


def mlflow_commands(text: str) -> list[str]:
    """``mlflow ui`` / ``mlflow server`` command lines in code blocks and code spans of Markdown."""
    text = text.replace("\\\n", " ")
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M)
    lines = [line for block in fenced for line in block.splitlines()] + re.findall(r"`([^`\n]+)`", text)
    pattern = re.compile(r"^(?:\$ )?(?:python -m )?mlflow (?:ui|server)\b")
    return [line.strip() for line in lines if pattern.match(line.strip())]


def test_docs_bind_mlflow_to_localhost():
    from mlflow.cli import cli

    [host] = [option for option in cli.commands["server"].params if option.name == "host"]
    assert host.default == "127.0.0.1"  # a command without --host binds to localhost too

    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    commands = [command for page in pages for command in mlflow_commands(page.read_text())]
    assert any("--host 127.0.0.1" in command for command in commands), commands
    for command in commands:
        assert set(re.findall(r"(?:--host|-h)[ =](\S+)", command)) <= {"127.0.0.1"}, command


def listening_ports() -> set[int]:
    """TCP ports this process listens on (Linux: its socket fds matched against /proc/net/tcp*)."""
    sockets = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:["):
                sockets.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and inode in sockets:  # 0A: LISTEN
                    ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


class PortWatch:
    def __init__(self):
        self.seen = []

    @hookimpl
    def nstx_step(self):
        self.seen.append(listening_ports())


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs Linux /proc")
def test_a_tracked_run_opens_no_listening_port(mlflow_store, registered, content_path, style_path):
    watch = registered(PortWatch())
    nstx.stylize(content_path, style_path, **FAST, tracking={"enabled": True})
    assert len(mlflow_store.runs()) == 1
    assert watch.seen == [set()] * FAST["iterations"]
    assert listening_ports() == set()
