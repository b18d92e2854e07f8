"""The benchmarks keep running: each bench/ script parses its arguments and runs end to end in its --quick mode.

Nothing here is timed (the targets are checked by `just bench`, not by tests); the figures of a
tiny run mean nothing, only that the script ran, wrote its JSON and touched no real record. The
fast ones run in the default suite (about a minute on 2 quiet cores, most of it the gpu.sh dry
run: a smoke eval and a tiny training); those that run whole evals (boundary, threads, smoke_time)
are marked slow.
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
from run_all import BENCHMARKS

WHOLE_EVAL = ("boundary", "threads", "smoke_time")
"""Benchmarks whose --quick still runs real evals (tens of seconds each on 2 cores)."""


def bench(args: list[str], **env: str) -> subprocess.CompletedProcess:
    path = os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH", "")) if p)
    full_env = os.environ | {"PYTHONPATH": path} | env
    return subprocess.run(args, check=False, cwd=REPO, env=full_env, capture_output=True, text=True, timeout=600)


def record_files() -> dict[str, bytes]:
    """The checkout's record, which no benchmark may touch."""
    names = ("results.tsv", "RESEARCH_JOURNAL.md", "meta_journal.md", "human_journal.md")
    return {name: (REPO / name).read_bytes() for name in names if (REPO / name).exists()}


@pytest.mark.parametrize("name", [*BENCHMARKS, "run_all", "gpu_check"])
def test_script_parses_its_arguments(name):
    out = bench([sys.executable, str(BENCH / f"{name}.py"), "--help"])
    assert out.returncode == 0, out.stderr
    assert "--out" in out.stdout


def test_every_benchmark_script_is_run_by_run_all():
    helpers = {"common", "run_all", "gpu_check", "timed_eval"}
    assert {p.stem for p in BENCH.glob("*.py")} - helpers == set(BENCHMARKS)


def run_quick(name: str, out_dir: Path) -> list[dict]:
    before = record_files()
    out = bench([sys.executable, str(BENCH / f"{name}.py"), "--quick", "--out", str(out_dir)])
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    figures = json.loads((out_dir / f"{name}.json").read_text())["figures"]
    assert figures and all({"name", "value", "unit", "target", "ok"} <= f.keys() for f in figures)
    assert record_files() == before  # the real record is never touched
    return figures


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in BENCHMARKS if n not in WHOLE_EVAL])
def test_benchmark_runs_in_its_quick_mode_and_writes_its_figures(name, tmp_path):
    figures = run_quick(name, tmp_path)
    assert not [f for f in figures if f["ok"] is False and "error" in str(f["value"]).lower()]


@pytest.mark.slow
@pytest.mark.parametrize("name", WHOLE_EVAL)
def test_eval_benchmark_runs_in_its_quick_mode_and_writes_its_figures(name, tmp_path):
    figures = {f["name"]: f for f in run_quick(name, tmp_path)}
    if name == "boundary":  # both sides spent the same budget; the eval's steps were timed
        assert figures["same budget spent on both sides"]["ok"] is True
        assert figures["  training (training_seconds)"]["value"] > 0
    if name == "threads":  # the same seed gives the same number, whatever the thread count
        assert next(f for n, f in figures.items() if n.endswith("of every run, to the last bit"))["ok"] is True


@pytest.mark.slow
def test_run_all_prints_a_summary_of_the_figures_with_targets(tmp_path):
    out = bench(
        [sys.executable, str(BENCH / "run_all.py"), "--only", "results_scale", "--quick", "--out", str(tmp_path)]
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "Summary" in out.stdout and "targets met" in out.stdout
    assert "append: big / small" in out.stdout


@pytest.mark.slow
def test_gpu_script_dry_run_on_the_cpu(tmp_path):
    """bench/gpu.sh end to end with the smoke profile and a tiny check: the shell plumbing, the eval's summary, its run folder, the JSON."""
    out = bench(
        ["bash", str(BENCH / "gpu.sh")],
        PYTHON=sys.executable,
        EVAL_PROFILE="smoke",
        CHECK_TOKENS="2048",
        BENCH_OUT=str(tmp_path),
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    record = json.loads((tmp_path / "gpu_check_smoke.json").read_text())
    names = {f["name"]: f for f in record["figures"]}
    assert names["eval: training_seconds"]["value"] > 0  # the eval's summary was found and read
    assert names["eval: run folder"]["ok"] is True
    assert names["check: |bf16 - fp32| / fp32"]["ok"] is True
    assert {"gpu.log", "eval_smoke.log", "eval_smoke.json", "results.tsv", "run_smoke.tar.gz"} <= {
        p.name for p in tmp_path.iterdir()
    }


@pytest.mark.slow
def test_gpu_script_dry_run_writes_a_signed_row_and_checks_it(tmp_path):
    """A row-writing profile with a shrunk budget (EVAL_UNITS, through bench/timed_eval.py): the row lands in the throwaway project, signed."""
    out = bench(
        ["bash", str(BENCH / "gpu.sh")],
        PYTHON=sys.executable,
        EVAL_PROFILE="cpu",
        EVAL_ARGS="",
        EVAL_UNITS="2048",
        CHECK_TOKENS="2048",
        BENCH_OUT=str(tmp_path),
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    names = {f["name"]: f for f in json.loads((tmp_path / "gpu_check_cpu.json").read_text())["figures"]}
    assert names["eval: its row in results.tsv (signature)"]["value"] == "ok"
    assert names["eval: used"]["value"].startswith("2,048 tokens")
    assert len((tmp_path / "results.tsv").read_text().splitlines()) == 2  # the header and the eval's row
