#!/usr/bin/env bash
# The GPU benchmarks in one script, about 7 minutes on one H100/H200-class GPU:
#   1. `python eval.py --profile cuda --budget time` once, in a throwaway copy of the project:
#      MFU against the GPU's dense bf16 peak (target >= 45%), peak memory, overhead share (<= 5%);
#   2. bench/gpu_check.py: a model trained by train.py on a reduced budget, scored by eval.py's
#      val_bpb with bf16 autocast and in float32; they must agree within 1e-2 relative.
# Usage: bash bench/gpu.sh                      (from anywhere)
#        BENCH_OUT=/some/dir bash bench/gpu.sh   (where gpu.log, eval_cuda.log, results.tsv, gpu.json go;
#                                                 default bench/out/gpu, git-ignored)
#        EVAL_PROFILE=smoke CHECK_TOKENS=4096 bash bench/gpu.sh   (a dry run of the script on a CPU)
# Needs: git, a CUDA GPU, and a python that imports torch (a CUDA build) and the project's other
#        dependencies (numpy tyro einops jaxtyping loguru polars rich filelock): $PYTHON, else the
#        project's .venv, else python3. It installs nothing and fetches nothing (no network needed);
#        the package itself comes from src/ via PYTHONPATH. BENCH_SITE=DIR puts DIR first on
#        PYTHONPATH, for dependencies carried along (made elsewhere with pip install --target DIR).
# Env:   EVAL_ARGS (default "--budget time": 300 s of training, bounded), EVAL_TIMEOUT (450 s),
#        CHECK_TOKENS (8388608), CHECK_TIMEOUT (180 s), AUTORESEARCH_PEAK_FLOPS for a GPU eval.py
#        does not know (its MFU needs the peak).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
OUTDIR="$(mkdir -p "${BENCH_OUT:-$REPO/bench/out/gpu}" && cd "${BENCH_OUT:-$REPO/bench/out/gpu}" && pwd)"
EVAL_PROFILE="${EVAL_PROFILE:-cuda}"
EVAL_ARGS="${EVAL_ARGS:---budget time}"
exec > >(tee -a "$OUTDIR/gpu.log") 2>&1
echo "== bench/gpu.sh $(date -u +%FT%TZ) on $(hostname); output in $OUTDIR"

if [ -n "${PYTHON:-}" ]; then PY="$PYTHON"
elif [ -x "$REPO/.venv/bin/python" ]; then PY="$REPO/.venv/bin/python"
else PY="$(command -v python3 || command -v python || true)"; fi
[ -n "$PY" ] || { echo "gpu.sh: no python found; set PYTHON=/path/to/python"; exit 1; }
command -v git >/dev/null || { echo "gpu.sh: git not found; eval.py records the commit, so it needs git"; exit 1; }
export PYTHONPATH="${BENCH_SITE:+$BENCH_SITE:}$REPO/src${PYTHONPATH:+:$PYTHONPATH}"

"$PY" - "$EVAL_PROFILE" <<'EOF'
import importlib.util, sys
needed = ("torch", "numpy", "tyro", "einops", "jaxtyping", "loguru", "polars", "rich", "filelock")
missing = [m for m in needed if importlib.util.find_spec(m) is None]
if missing:
    sys.exit(f"gpu.sh: {sys.executable} cannot import {' '.join(missing)}; use the project's .venv "
             "(bash setup.sh), set PYTHON=..., or carry the packages along in BENCH_SITE=DIR")
import torch
if sys.argv[1] == "cuda" and not torch.cuda.is_available():
    sys.exit(f"gpu.sh: torch {torch.__version__} sees no CUDA GPU")
gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "none"
print(f"python {sys.version.split()[0]} ({sys.executable}), torch {torch.__version__}, CUDA {torch.version.cuda}, GPU {gpu}")
EOF
if command -v nvidia-smi >/dev/null; then nvidia-smi; fi

# A throwaway copy, so the eval's row never lands in this checkout's results.tsv.
PROJ="$(mktemp -d)/proj"
"$PY" -c "import sys; sys.path.insert(0, sys.argv[1]); from common import new_project; from pathlib import Path; new_project(Path(sys.argv[2]))" "$REPO/bench" "$PROJ"
trap 'rm -rf "$(dirname "$PROJ")"' EXIT

echo "== 1/2: python eval.py --profile $EVAL_PROFILE $EVAL_ARGS (timeout ${EVAL_TIMEOUT:-450} s)"
t0=$SECONDS
# word splitting of EVAL_ARGS is wanted: it holds several arguments
# shellcheck disable=SC2086
(cd "$PROJ" && timeout "${EVAL_TIMEOUT:-450}" "$PY" eval.py --profile "$EVAL_PROFILE" $EVAL_ARGS) > "$OUTDIR/eval_$EVAL_PROFILE.log" 2>&1 \
  && echo "eval: ok in $((SECONDS - t0)) s" || echo "eval: exited $? after $((SECONDS - t0)) s (124: timeout); see eval_$EVAL_PROFILE.log"
tail -n 25 "$OUTDIR/eval_$EVAL_PROFILE.log"
cp "$PROJ/results.tsv" "$OUTDIR/results.tsv"

echo "== 2/2: bench/gpu_check.py --profile $EVAL_PROFILE --tokens ${CHECK_TOKENS:-8388608} (timeout ${CHECK_TIMEOUT:-180} s)"
t0=$SECONDS
timeout "${CHECK_TIMEOUT:-180}" "$PY" "$REPO/bench/gpu_check.py" --profile "$EVAL_PROFILE" --tokens "${CHECK_TOKENS:-8388608}" \
  --eval-log "$OUTDIR/eval_$EVAL_PROFILE.log" --out "$OUTDIR" \
  && echo "check: done in $((SECONDS - t0)) s" || { code=$?; echo "check: exited $code after $((SECONDS - t0)) s (124: timeout)"; exit "$code"; }
echo "== figures: $OUTDIR/$([ "$EVAL_PROFILE" = cuda ] && echo gpu || echo "gpu_check_$EVAL_PROFILE").json"
