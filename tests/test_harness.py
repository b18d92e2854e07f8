"""The frozen eval path: metric, summary block, one row per run, crash rows, determinism.

Runs real `python eval.py` subprocesses in temporary copies of the project. A tiny row-writing
profile is passed through the harness (eval.py's own profiles are cpu-minutes long).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from autoresearch.results import COLUMNS, read_results

REPO = Path(__file__).resolve().parents[1]

TINY = 'Profile("tiny", "cpu", seq_len=64, train_tokens=5_120, time_seconds=2, cap_seconds={cap}, val_docs=8)'


def run_eval(repo: Path, *args: str, profile: str = "", cap: float = 60, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python eval.py ARGS` in repo; with profile="tiny", the tiny row-writing profile is added to eval.py's."""
    code = ["import sys, eval", "sys.argv = ['eval.py', *sys.argv[1:]]"]
    if profile == "tiny":
        code.append(f"eval.PROFILES['tiny'] = eval.Profile{TINY.removeprefix('Profile').format(cap=cap)}")
        code.append(  # the real train.py sizes its model per profile; stub train.py files don't
            "import train\nif hasattr(train, 'MODEL_SIZES'):\n"
            "    train.MODEL_SIZES['tiny'] = dict(n_layer=1, n_head=2, n_embd=32); train.BATCH_SIZES['tiny'] = 4"
        )
    code.append(
        "from autoresearch.harness import EvalArgs, run_eval; import tyro, time;"
        "raise SystemExit(run_eval(tyro.cli(EvalArgs), eval.PROFILES, eval.DATA, eval.DATA_SEED, eval.val_bpb, time.perf_counter()))"
    )
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}", **(env or {})}
    return subprocess.run([sys.executable, "-c", "\n".join(code), *args], cwd=repo, capture_output=True, text=True, env=env, timeout=300)


def summary(stdout: str) -> dict[str, str]:
    block = stdout.split("\n---\n")[-1]
    return dict(line.split(":", 1) for line in block.splitlines() if ":" in line) | {}


def test_uniform_logits_score_exactly_eight_bits_per_byte():
    sys.path.insert(0, str(REPO))
    import eval as frozen_eval

    class Uniform(torch.nn.Module):
        def forward(self, idx):
            return torch.zeros(*idx.shape, 256)

    val = torch.randint(0, 256, (5, 33))
    assert frozen_eval.val_bpb(Uniform(), val, "cpu") == 8.0


def test_smoke_eval_prints_the_summary_and_writes_no_row(project: Path):
    before = (project / "results.tsv").read_bytes()
    out = run_eval(project, "--profile", "smoke")
    assert out.returncode == 0, out.stderr[-2000:]
    s = {k: v.strip() for k, v in summary(out.stdout).items()}
    for key in ("val_bpb", "floor_bpb", "gap", "training_seconds", "total_seconds", "peak_memory_mb", "tokens_M",
                "params_M", "steps", "tokens_per_s", "seed", "profile"):
        assert key in s, f"summary lacks {key}: {out.stdout[-1500:]}"
    assert s["profile"] == "smoke"
    assert float(s["val_bpb"]) > float(s["floor_bpb"]) > 0
    assert math.isclose(float(s["gap"]), float(s["val_bpb"]) - float(s["floor_bpb"]), abs_tol=2e-6)
    assert (project / "results.tsv").read_bytes() == before


def test_eval_appends_exactly_one_well_formed_row(project: Path):
    out = run_eval(project, "--profile", "tiny", "--seed", "3", profile="tiny", env={"AUTORESEARCH_LABEL": "Q: tiny? H: yes"})
    assert out.returncode == 0, out.stderr[-2000:]
    df = read_results(project / "results.tsv")
    assert df.height == 1
    row = df.row(0, named=True)
    assert list(row) == list(COLUMNS)
    assert row["status"] == "ok" and row["reason"] in ("", None)
    assert row["seed"] == 3 and row["profile"] == "tiny" and row["kind"] == "experiment"
    assert row["label"] == "Q: tiny? H: yes"
    assert row["description"] == "template"
    assert row["verdict"] == "uncalibrated"
    assert row["val_bpb"] > row["floor_bpb"] > 0
    assert row["tokens"] == 5_120 and row["steps"] > 0 and row["params"] > 0
    assert len(row["eval_hash"]) == 12 and len(row["val_hash"]) == 12


def test_two_same_seed_runs_give_the_identical_metric(project: Path):
    first, second = (summary(run_eval(project, "--profile", "smoke", "--seed", "7").stdout) for _ in range(2))
    assert first["val_bpb"].strip() == second["val_bpb"].strip()


def test_seeds_flag_runs_and_records_every_seed(project: Path):
    out = run_eval(project, "--profile", "tiny", "--seed", "0", "--seeds", "2", profile="tiny")
    assert out.returncode == 0, out.stderr[-2000:]
    assert read_results(project / "results.tsv")["seed"].to_list() == [0, 1]


def write_train(repo: Path, body: str) -> None:
    (repo / "train.py").write_text(textwrap.dedent(body))


def test_nan_training_gives_a_crash_row_with_its_reason_and_a_nonzero_exit(project: Path):
    write_train(project, """
        def train(data, budget, seed):
            data.next_batch(1)
            raise FloatingPointError("training loss is nan at step 1")
    """)
    out = run_eval(project, "--profile", "tiny", profile="tiny")
    assert out.returncode != 0
    assert "reason:           nan" in out.stdout
    row = read_results(project / "results.tsv").row(0, named=True)
    assert (row["status"], row["reason"], row["val_bpb"]) == ("crash", "nan", None)
    assert row["commit"].endswith("-dirty")


def test_a_model_returning_nan_logits_is_a_nan_crash(project: Path):
    write_train(project, """
        import torch
        class NaN(torch.nn.Module):
            def forward(self, idx):
                return torch.full((*idx.shape, 256), float("nan"))
        def train(data, budget, seed):
            return NaN()
    """)
    out = run_eval(project, "--profile", "tiny", profile="tiny")
    assert out.returncode != 0
    assert read_results(project / "results.tsv")["reason"].to_list() == ["nan"]


def test_an_exception_in_train_is_a_crash_row_not_a_lost_run(project: Path):
    write_train(project, """
        def train(data, budget, seed):
            raise KeyError("n_embd")
    """)
    out = run_eval(project, "--profile", "tiny", profile="tiny")
    assert out.returncode == 1
    assert "KeyError" in out.stdout
    assert read_results(project / "results.tsv")["reason"].to_list() == ["exception"]


def test_text_corpus_source_splits_train_and_validation(tmp_path: Path):
    from autoresearch.data import load_corpus

    (tmp_path / "a.txt").write_text("hello world. " * 400)
    (tmp_path / "b.md").write_text("# notes\n" * 300)
    corpus = load_corpus(f"text:{tmp_path}", seed=0, train_bytes=0, val_docs=4, doc_len=65)
    assert corpus.val.shape == (4, 65) and corpus.floor_bpb is None
    assert len(corpus.train) + corpus.val.size == len((tmp_path / "a.txt").read_bytes()) + 2 + len((tmp_path / "b.md").read_bytes())


def test_unknown_data_source_is_a_clear_error():
    from autoresearch.data import load_corpus

    with pytest.raises(ValueError, match="expected 'synthetic', 'text:PATH'"):
        load_corpus("s3://bucket", seed=0, train_bytes=0, val_docs=1, doc_len=2)
