#!/usr/bin/env bash
# Set up this project on a fresh machine: .venv with the locked environment, the autoresearch package
# (editable) with pytest and just, and the git hooks. Every version comes from constraints.txt, the lock
# (`just lock` regenerates it); torch goes first, as the build of the locked release
# that pip finds for this machine (the CPU build here; where `nvidia-smi` sees a GPU, it must be a CUDA one).
# Usage: bash setup.sh              (then: source .venv/bin/activate; just eval)
# Env:   PYTHON=python3.12          interpreter for the venv
#        TORCH_SPEC="torch==2.13.0+cu128"  a torch requirement to install instead of the locked release (with
#                                   PIP_EXTRA_INDEX_URL pointing pip at the index that has that build)
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
pip() { .venv/bin/python -m pip --disable-pip-version-check -q "$@"; }
torch_spec="${TORCH_SPEC:-$(grep -m1 '^torch==' constraints.txt | cut -d' ' -f1)}"
# The constraints without torch: a TORCH_SPEC or a local build (2.13.0+cpu) must not be swapped back.
grep -v '^torch==' constraints.txt >.venv/constraints.txt
pip install -c .venv/constraints.txt "$torch_spec" hatchling  # hatchling: the build backend, locked too
pip install -c .venv/constraints.txt --no-build-isolation -e '.[dev]'
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 \
  && ! .venv/bin/python -c "import sys, torch; sys.exit(torch.version.cuda is None)"; then
  echo "setup.sh: nvidia-smi sees a GPU but pip installed a CPU build of torch; install a CUDA build of the same" \
    "release: TORCH_SPEC='${torch_spec}+cu128' PIP_EXTRA_INDEX_URL=<the index that has it> bash setup.sh" >&2
  exit 1
fi
.venv/bin/autoresearch hooks install  # the git guard hooks, for every worktree (a note, no hooks, outside git)
echo "set-up done: .venv ($(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'), versions from constraints.txt)"
echo "put the venv on PATH in each new terminal, so that just and autoresearch work: source .venv/bin/activate"
