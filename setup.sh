#!/usr/bin/env bash
# Set up this project on a fresh machine: .venv with the right torch build (CUDA where a GPU is
# visible, else the CPU build), the autoresearch package with pytest and just, and the git hooks.
# Usage: bash setup.sh              (then: .venv/bin/just eval)
# Env:   PYTHON=python3.12          interpreter for the venv
#        TORCH_SPEC="torch==2.13.0" the torch requirement to install first (point pip at a CPU
#                                   wheel index with PIP_EXTRA_INDEX_URL where the default is CUDA)
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
pip() { .venv/bin/python -m pip --disable-pip-version-check -q "$@"; }
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    pip install "${TORCH_SPEC:-torch>=2.9}"
  else
    pip install "${TORCH_SPEC:-torch==2.13.0}"
  fi
fi
pip install -e '.[dev]'
.venv/bin/autoresearch hooks install  # the git guard hooks, for every worktree (a note, no hooks, outside git)
echo "set-up done: .venv ($(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'))"
