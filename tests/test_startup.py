"""``nstx --help`` stays light: no torch, torchvision or mlflow import."""

import json
import subprocess
import sys

HEAVY = ("torch", "torchvision", "mlflow")

SCRIPT = f"""
import atexit, json, sys
atexit.register(lambda: print(json.dumps([m for m in {HEAVY!r} if m in sys.modules])))
sys.argv = ["nstx", "--help"]
from nstx.cli.main import main
main()
"""


def test_help_imports_no_heavy_module():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "lbfgs" in done.stdout  # the help lists the plugins
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
