#!/usr/bin/env bash
# The GPU benchmark in one script, about 8 minutes on one H100/H200-class GPU:
#   1. `python eval.py --profile cuda --budget time` once, in a throwaway project: the whole boundary
#      (the confined training process, batches through shared memory, outputs scored by the eval
#      process), its signed row in that project's results.tsv and its run folder;
#   2. bench/gpu_check.py: the eval's figures (MFU >= 45% of the dense bf16 peak, overhead share
#      <= 5%, peak memory, tokens/s) with its row and run folder checked; then a model trained by
#      train.py on a reduced budget, scored by the eval's own steps with bf16 outputs (as the
#      training process sends them) and in float32: they must agree within 1e-2 relative.
# Usage: bash bench/gpu.sh                      (from anywhere)
#        BENCH_OUT=/some/dir bash bench/gpu.sh   (where the output goes; default bench/out/gpu, git-ignored):
#          gpu.log (all of it), eval_cuda.log, eval_cuda.json (the eval's --summary), results.tsv,
#          run_cuda.tar.gz (the run folder), gpu.json (the figures): six files
#        EVAL_PROFILE=smoke CHECK_TOKENS=4096 bash bench/gpu.sh   (a dry run of the script on a CPU)
#        EVAL_PROFILE=cpu EVAL_ARGS= EVAL_UNITS=4096 CHECK_TOKENS=4096 bash bench/gpu.sh   (a dry run that writes a row)
# Needs: git, a CUDA GPU, and a python that imports torch (a CUDA build) and the project's other
#        dependencies: $PYTHON, else the project's .venv, else python3. eval.py runs isolated
#        (python -I ignores PYTHONPATH), so the toolkit must be importable without it: when that
#        python does not import this checkout's autoresearch, the script makes a throwaway venv in a
#        temporary folder whose .pth file puts $BENCH_SITE (dependencies carried along, made elsewhere
#        with pip install --target DIR), this checkout's src/ and that python's site-packages on the
#        path. It installs nothing into that python and fetches nothing (no network needed). The
#        confined training process may read that python's site-packages only where the sandbox
#        allows it anyway (/usr, /opt: e.g. /opt/torch/.venv), plus the packages it imports itself
#        (autoresearch, torch, numpy, einops, jaxtyping, loguru, rich); elsewhere the eval crashes with
#        `sandbox: PermissionError` on a file there: then install the package into that python.
# Env:   EVAL_ARGS (default "--budget time": 300 s of training, bounded), EVAL_TIMEOUT (450 s), EVAL_UNITS
#        (replaces the profile's budget: the eval runs through bench/timed_eval.py, eval.py's own main),
#        CHECK_TOKENS (8388608), CHECK_TIMEOUT (180 s), AUTORESEARCH_PEAK_FLOPS for a GPU the toolkit
#        does not know (the MFU needs the peak). On a machine lent for 10 minutes a command, lower
#        them: EVAL_TIMEOUT=400 CHECK_TOKENS=2097152 CHECK_TIMEOUT=120.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
OUTDIR="$(mkdir -p "${BENCH_OUT:-$REPO/bench/out/gpu}" && cd "${BENCH_OUT:-$REPO/bench/out/gpu}" && pwd)"
EVAL_PROFILE="${EVAL_PROFILE:-cuda}"
EVAL_ARGS="${EVAL_ARGS---budget time}"  # set but empty: no arguments
exec > >(tee -a "$OUTDIR/gpu.log") 2>&1
echo "== bench/gpu.sh $(date -u +%FT%TZ) on $(hostname); output in $OUTDIR"

if [ -n "${PYTHON:-}" ]; then PY="$PYTHON"
elif [ -x "$REPO/.venv/bin/python" ]; then PY="$REPO/.venv/bin/python"
else PY="$(command -v python3 || command -v python || true)"; fi
[ -n "$PY" ] || { echo "gpu.sh: no python found; set PYTHON=/path/to/python"; exit 1; }
command -v git >/dev/null || { echo "gpu.sh: git not found; eval.py records the commit, so it needs git"; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export AUTORESEARCH_KEYS="$WORK/keys"  # the throwaway project's signing key, never the user's

if ! "$PY" -I -c 'import autoresearch, pathlib, sys; sys.exit(pathlib.Path(autoresearch.__file__).resolve().parents[1] != pathlib.Path(sys.argv[1]).resolve())' "$REPO/src" 2>/dev/null; then
  echo "== $PY does not import $REPO/src/autoresearch under python -I: a throwaway venv puts it (and BENCH_SITE) on the path"
  "$PY" -m venv --without-pip "$WORK/venv"
  SITE="$("$WORK/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  { [ -n "${BENCH_SITE:-}" ] && echo "$(cd "$BENCH_SITE" && pwd)"; echo "$REPO/src"
    "$PY" -c 'import site; print("\n".join(site.getsitepackages()))'; } > "$SITE/autoresearch-bench.pth"
  PY="$WORK/venv/bin/python"
fi

"$PY" -I - "$EVAL_PROFILE" "$REPO" <<'EOF'
import importlib.metadata, pathlib, re, sys, tomllib
deps = tomllib.loads((pathlib.Path(sys.argv[2]) / "pyproject.toml").read_text())["project"]["dependencies"]
missing = []
for dep in deps:
    name = re.match(r"[A-Za-z0-9_.-]+", dep)[0]
    try:
        importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        missing.append(name)
if missing:
    sys.exit(f"gpu.sh: {sys.executable} (python -I) lacks {' '.join(missing)}; use the project's .venv (bash setup.sh), "
             "set PYTHON=..., or carry the packages along in BENCH_SITE=DIR (pip install --target DIR)")
import autoresearch, torch
if sys.argv[1] == "cuda" and not torch.cuda.is_available():
    sys.exit(f"gpu.sh: torch {torch.__version__} sees no CUDA GPU")
gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "none"
print(f"python {sys.version.split()[0]} ({sys.executable}), torch {torch.__version__}, CUDA {torch.version.cuda}, GPU {gpu}; "
      f"autoresearch from {pathlib.Path(autoresearch.__file__).parent}")
EOF
if command -v nvidia-smi >/dev/null; then nvidia-smi; fi

# A throwaway project, so the eval's row never lands in this checkout's results.tsv.
PROJ="$WORK/proj"
"$PY" -I -c "import sys; sys.path.insert(0, sys.argv[1]); from common import new_project; from pathlib import Path; new_project(Path(sys.argv[2]))" "$REPO/bench" "$PROJ"

EVAL_SCRIPT=eval.py
if [ -n "${EVAL_UNITS:-}" ]; then EVAL_SCRIPT=bench/timed_eval.py; fi  # eval.py's main with the profile's budget replaced
echo "== 1/2: python $EVAL_SCRIPT --profile $EVAL_PROFILE $EVAL_ARGS${EVAL_UNITS:+ (budget $EVAL_UNITS units)} (timeout ${EVAL_TIMEOUT:-450} s)"
t0=$SECONDS
rm -f "$OUTDIR/eval_$EVAL_PROFILE.json"
# word splitting of EVAL_ARGS is wanted: it holds several arguments
# shellcheck disable=SC2086
(cd "$PROJ" && AUTORESEARCH_BENCH_UNITS="${EVAL_UNITS:-}" timeout "${EVAL_TIMEOUT:-450}" "$PY" "$EVAL_SCRIPT" --profile "$EVAL_PROFILE" $EVAL_ARGS \
  --summary "$OUTDIR/eval_$EVAL_PROFILE.json") \
  > "$OUTDIR/eval_$EVAL_PROFILE.log" 2>&1 \
  && echo "eval: ok in $((SECONDS - t0)) s" || echo "eval: exited $? after $((SECONDS - t0)) s (124: timeout); see eval_$EVAL_PROFILE.log"
tail -n 25 "$OUTDIR/eval_$EVAL_PROFILE.log"
cp "$PROJ/results.tsv" "$OUTDIR/results.tsv"
if [ -d "$PROJ/7_runs" ]; then tar -czf "$OUTDIR/run_$EVAL_PROFILE.tar.gz" -C "$PROJ" 7_runs; fi

echo "== 2/2: bench/gpu_check.py --profile $EVAL_PROFILE --tokens ${CHECK_TOKENS:-8388608} (timeout ${CHECK_TIMEOUT:-180} s)"
t0=$SECONDS
timeout "${CHECK_TIMEOUT:-180}" "$PY" -I "$REPO/bench/gpu_check.py" --profile "$EVAL_PROFILE" --tokens "${CHECK_TOKENS:-8388608}" \
  --eval-summary "$OUTDIR/eval_$EVAL_PROFILE.json" --project "$PROJ" --out "$OUTDIR" \
  && echo "check: done in $((SECONDS - t0)) s" || { code=$?; echo "check: exited $code after $((SECONDS - t0)) s (124: timeout)"; exit "$code"; }
echo "== figures: $OUTDIR/$([ "$EVAL_PROFILE" = cuda ] && echo gpu || echo "gpu_check_$EVAL_PROFILE").json"
