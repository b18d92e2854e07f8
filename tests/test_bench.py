"""The benchmarks keep running: each bench/ script parses its arguments and runs end to end at a tiny size.

Nothing here is timed (the targets are checked by `just bench`, not by tests); the figures of a
tiny run mean nothing, only that the script ran, wrote its JSON and touched no real record.
About 20 s on 2 quiet cores, most of it the gpu.sh dry run (a smoke eval and a tiny training).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
sys.path.insert(0, str(BENCH))
from run_all import BENCHMARKS, QUICK  # noqa: E402


def bench(args: list[str], **env: str) -> subprocess.CompletedProcess:
    path = os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH", "")) if p)
    full_env = os.environ | {"PYTHONPATH": path} | env
    return subprocess.run(args, cwd=REPO, env=full_env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("name", [*BENCHMARKS, "run_all", "gpu_check"])
def test_script_parses_its_arguments(name):
    out = bench([sys.executable, str(BENCH / f"{name}.py"), "--help"])
    assert out.returncode == 0, out.stderr
    assert "--out" in out.stdout


# Each of these runs a whole smoke eval (seconds quiet, a minute on a loaded machine); the gpu.sh dry
# run below covers the same path (throwaway project, eval.py, its summary), so they only parse here.
WHOLE_EVAL = ("eval_overhead", "smoke_time")


@pytest.mark.parametrize("name", [n for n in BENCHMARKS if n not in WHOLE_EVAL])
def test_benchmark_runs_at_a_tiny_size_and_writes_its_figures(name, tmp_path):
    record = (REPO / "results.tsv").read_bytes()
    out = bench([sys.executable, str(BENCH / f"{name}.py"), *QUICK[name], "--out", str(tmp_path)])
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    figures = json.loads((tmp_path / f"{name}.json").read_text())["figures"]
    assert figures and all({"name", "value", "target", "ok"} <= f.keys() for f in figures)
    assert (REPO / "results.tsv").read_bytes() == record  # the real record is never touched


def test_run_all_prints_a_summary_of_the_figures_with_targets(tmp_path):
    out = bench([sys.executable, str(BENCH / "run_all.py"), "--only", "calibration", "--out", str(tmp_path)])
    assert out.returncode == 0, out.stderr
    assert "Summary" in out.stdout and "targets met" in out.stdout


def test_gpu_script_dry_run_on_the_cpu(tmp_path):
    """bench/gpu.sh end to end with the smoke profile and a tiny check: the shell plumbing, the log parsing, the JSON."""
    out = bench(
        ["bash", str(BENCH / "gpu.sh")],
        PYTHON=sys.executable, EVAL_PROFILE="smoke", CHECK_TOKENS="2048", BENCH_OUT=str(tmp_path),
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    record = json.loads((tmp_path / "gpu_check_smoke.json").read_text())
    names = {f["name"]: f for f in record["figures"]}
    assert names["eval: training_seconds"]["value"] > 0  # the eval's summary was found and parsed
    assert names["check: |bf16 - fp32| / fp32"]["ok"] is True
    assert {"gpu.log", "eval_smoke.log", "results.tsv"} <= {p.name for p in tmp_path.iterdir()}
