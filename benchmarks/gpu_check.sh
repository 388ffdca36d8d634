#!/usr/bin/env bash
# nstx's GPU check in one call: install nstx without its dependencies, plus the few packages
# the GPU machine lacks (carried as wheels in .whl/), show the machine, then run every part
# of benchmarks/gpu_check.py. The output goes to OUT_DIR/gpu_check.log as well as stdout,
# the figures to OUT_DIR/gpu_check.json. See benchmarks/README.md.
#
#   benchmarks/gpu_check.sh OUT_DIR              on a CUDA machine: under 8 minutes on an H100
#   benchmarks/gpu_check.sh OUT_DIR --rehearse   the same steps on the CPU at tiny sizes
#
# PYTHON picks the interpreter (default: python3; when rehearsing, .venv/bin/python if present).
set -uo pipefail

usage="usage: $0 OUT_DIR [--rehearse]"
if [[ $# -lt 1 || $# -gt 2 || ($# -eq 2 && $2 != --rehearse) ]]; then
  echo "$usage" >&2
  exit 2
fi
rehearse=${2:-}
mkdir -p "$1" && out=$(cd "$1" && pwd) || exit 2
cd "$(dirname "$0")/.." || exit 2

if [[ -n $rehearse ]]; then
  total_s=900
  default_python=python3
  [[ -x .venv/bin/python ]] && default_python=.venv/bin/python
else
  total_s=450 # the whole call, install included, keeps well inside 8 minutes
  default_python=python3
fi
python=${PYTHON:-$default_python}
work=$(mktemp -d "${TMPDIR:-/tmp}/nstx-gpu-check.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT # runs, sweeps and the install: what matters is in OUT_DIR
site=$work/site

show_machine() {
  echo "== machine"
  date -u
  uname -a
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi
  else
    echo "nvidia-smi: not found"
  fi
  "$python" - <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version

import torch


def installed(name):
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


print("python", sys.version.split()[0], sys.executable)
print("pip", installed("pip"), "setuptools", installed("setuptools"))
print("torch", torch.__version__, "CUDA", torch.version.cuda)
print("device", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device")
EOF
}

# nstx and the carried wheels into $site, none of their dependencies: torch and the rest
# come from the machine (nstx pins a newer torch than the GPU machine has).
install_nstx() {
  echo "== install into $site"
  local wheels=(.whl/*.whl)
  if [[ ! -e ${wheels[0]} ]]; then
    echo "no wheels in .whl/: download them as benchmarks/README.md says"
    return 1
  fi
  printf '%s\n' "${wheels[@]}"
  # Built from a copy, so that the build's build/ and *.egg-info stay out of the checkout.
  local source=$work/source
  mkdir -p "$source"
  tar --exclude=./.git --exclude=./.venv --exclude=./.whl --exclude=./build --exclude='*.egg-info' \
    --exclude=./mlruns --exclude=./mlflow.db --exclude=./outputs --exclude=./multirun \
    --exclude=__pycache__ -cf - . | tar -xf - -C "$source" || return 1
  "$python" -m pip install -q --no-index --no-deps --no-build-isolation --no-compile --no-cache-dir \
    --target "$site" "${wheels[@]}" "$source"
}

main() {
  show_machine
  local started=$SECONDS status=0
  install_nstx || status=$?
  local installed_s=$((SECONDS - started))
  echo "install: exit status $status in $installed_s s"
  export PYTHONPATH=$site${PYTHONPATH:+:$PYTHONPATH}
  if [[ -n $rehearse ]]; then
    # The GPU machine has no mlflow: a rehearsal that needed it would pass here and fail there.
    mkdir -p "$work/absent/mlflow"
    echo 'raise ImportError("mlflow is not on the GPU machine")' >"$work/absent/mlflow/__init__.py"
    PYTHONPATH=$PYTHONPATH:$work/absent
  fi
  "$python" benchmarks/gpu_check.py check "$out" ${rehearse:+"$rehearse"} --work "$work" \
    --time-limit $((total_s - SECONDS)) --install-status "$status" --install-seconds "$installed_s"
}

main 2>&1 | tee "$out/gpu_check.log"
exit "${PIPESTATUS[0]}"
