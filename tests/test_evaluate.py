"""The evaluation core: eval.py's steps, the training process behind its boundary, the row and the run folder.

Real processes throughout: `python eval.py` in a tiny test project (tests/fixtures: a bigram trained for
seconds), its confined child, the JSON summary and the signed row. A variant of train.py is written
into the project for the cases where the agent's code misbehaves.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import git, run_eval

from autoresearch import results
from autoresearch.config import Config
from autoresearch.data import load_corpus, text_files
from autoresearch.errors import UserError
from autoresearch.evaluate import sandbox
from autoresearch.paths import Project

LANDLOCK = sandbox.probe().abi is not None


def rows(repo: Path) -> list[dict]:
    project = Project.find(repo)
    return results.load(project, Config.load(project)).df.to_dicts()


def with_train(repo: Path, body: str, commit: bool = True) -> None:
    """Replace the project's train.py with a variant (the fixture's bigram plus `body`)."""
    (repo / "train.py").write_text(
        (Path(__file__).parent / "fixtures" / "train.py").read_text() + "\n" + textwrap.dedent(body)
    )
    if commit:
        git(repo, "commit", "-qam", "a variant of train.py")


def test_uniform_logits_score_exactly_eight_bits_per_byte() -> None:
    from autoresearch.problems.lm import _logits_bits

    docs = np.random.default_rng(0).integers(0, 256, size=(3, 17), dtype=np.uint8)
    total, per_doc = _logits_bits(np.zeros((3, 16, 256), dtype=np.float32), docs)
    assert total == pytest.approx(8.0 * 3 * 16, abs=1e-9)
    assert per_doc == pytest.approx([8.0 * 16] * 3)


def test_smoke_prints_the_summary_writes_a_run_folder_and_no_row(project: Path) -> None:
    out = subprocess.run([sys.executable, "eval.py", "--profile", "smoke"], cwd=project, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "val_bpb:" in out.stdout and "not written (this profile writes none)" in out.stdout
    assert rows(project) == []
    [folder] = (project / "7_runs").iterdir()
    assert {p.name for p in folder.iterdir()} >= {"log.txt", "budget.json", "environment.json", "summary.json"}


def test_an_eval_prints_at_most_twenty_lines_and_appends_one_signed_row_pointing_at_its_run_folder(
    project: Path,
) -> None:
    out = subprocess.run([sys.executable, "eval.py"], cwd=project, capture_output=True, text=True)
    lines = (out.stdout + out.stderr).splitlines()
    assert out.returncode == 0 and len(lines) <= 20, lines
    [row] = rows(project)
    folder = project / row["run"]
    assert row["status"] == "ok" and row["val_bpb"] == pytest.approx(
        json.loads((folder / "summary.json").read_text())["val_bpb"]
    )
    assert row["profile"] == "tiny" and row["budget"] == "units" and row["used"] == 4096 and row["unit"] == "tokens"
    assert row["optimum"] < row["val_bpb"] and row["gap"] == pytest.approx(row["val_bpb"] - row["optimum"], abs=1e-5)
    assert row["code"] == row["parent"] and row["verdict"] == "baseline"  # main's own code
    assert row["sandbox"] == ("landlock-abi" + str(sandbox.probe().abi) if LANDLOCK else "none")
    assert row["threads"] == 1 and row["sig"].count(":") == 1
    log = (folder / "log.txt").read_text()
    assert "training process" in log and "status ok" in log
    assert (folder / "row.tsv").read_text().strip() == (project / "results.tsv").read_text().splitlines()[-1]
    assert json.loads((folder / "budget.json").read_text())["budget"]["max_units"] == 4096


@pytest.mark.slow
def test_the_same_seed_gives_the_same_number_whatever_the_thread_count(project: Path) -> None:
    one = run_eval(project, "--threads", "1")[0]["value_exact"]
    two = run_eval(project, "--threads", "2")[0]["value_exact"]
    other = run_eval(project, "--seed", "1")[0]["value_exact"]
    assert one == two != other


@pytest.mark.slow  # real evals (5-11 s): `just test-all` and CI run it
def test_seeds_runs_one_row_per_seed(project: Path) -> None:
    run_eval(project, "--seed", "3", "--seeds", "2")
    assert [r["seed"] for r in rows(project)] == [3, 4]


@pytest.mark.slow  # real evals (5-11 s): `just test-all` and CI run it
def test_a_time_budget_is_recorded_as_such(project: Path) -> None:
    [figures] = run_eval(project, "--budget", "time")
    assert figures["budget"] == "time" and figures["status"] == "ok" and figures["used"] > 0


@pytest.mark.slow  # real evals (5-11 s): `just test-all` and CI run it
def test_a_worktree_row_lands_in_the_root_with_its_diff_and_its_parent(project: Path) -> None:
    from autoresearch.cli import main

    assert main(["idea", "new", "lr", "--title", "a higher LR"]) == 0
    git(project, "add", "-A")
    git(project, "commit", "-qm", "idea")
    assert main(["worktree", "new", "lr"]) == 0
    tree = project / "5_worktrees" / "lr"
    (tree / "train.py").write_text((tree / "train.py").read_text().replace("LR = 0.05", "LR = 0.5"))
    [_figures] = run_eval(tree)  # uncommitted: the row says -dirty and the diff has it
    [row] = rows(project)
    assert row["idea"] == "lr" and row["commit"].endswith("-dirty") and row["code"] != row["parent"]
    assert row["verdict"] == "uncalibrated"
    assert "+LR = 0.5" in (project / row["run"] / "diff.patch").read_text()
    assert not (tree / "results.tsv").read_text().count("\n") > 1  # the worktree's copy stays the header


@pytest.mark.parametrize(
    ("body", "reason", "says"),
    [
        (
            "def train(data, budget, seed):\n    raise ValueError('bad idea')\n",
            "exception",
            "ValueError: bad idea (train.py line",
        ),
        (
            "def train(data, budget, seed):\n    raise FloatingPointError('loss is nan at step 3')\n",
            "nan",
            "loss is nan at step 3",
        ),
        (
            "class Nan(torch.nn.Module):\n    def forward(self, x):\n        return torch.full((*x.shape, 256), float('nan'))\n"
            "def train(data, budget, seed):\n    return Nan()\n",
            "nan",
            "not finite",
        ),
        (
            "class Flat(torch.nn.Module):\n    def forward(self, x):\n        return torch.zeros(x.shape[0], 256)\n"
            "def train(data, budget, seed):\n    return Flat()\n",
            "output",
            "expects shape",
        ),
        ("def train(data, budget, seed):\n    return 42\n", "exception", "not a model"),
        ("import os\ndef train(data, budget, seed):\n    os._exit(3)\n", "exception", "exited with code 3"),
        ("import sys\ndef train(data, budget, seed):\n    sys.exit(0)\n", "exception", "exit(0)"),
    ],
    ids=["raises", "diverges", "nan-outputs", "wrong-shape", "not-a-model", "exits-early", "calls-exit"],
)
def test_a_misbehaving_train_py_is_one_crash_row_with_its_reason_and_the_checkout_untouched(
    project: Path, body: str, reason: str, says: str
) -> None:
    with_train(project, body)
    before = git(project, "status", "--porcelain", "--", ".", ":!results.tsv")
    [figures] = run_eval(project, check=False)
    [row] = rows(project)
    assert row["status"] == "crash" and row["reason"] == reason and row["val_bpb"] is None
    assert says in figures["error"]
    assert git(project, "status", "--porcelain", "--", ".", ":!results.tsv") == before


@pytest.mark.slow  # real evals (5-11 s): `just test-all` and CI run it
def test_a_hanging_train_py_is_a_timeout_that_says_how_busy_the_machine_was(project: Path) -> None:
    with_train(project, "import time\ndef train(data, budget, seed):\n    time.sleep(60)\n")
    [figures] = run_eval(project, "--profile", "short", check=False)
    assert figures["reason"] == "timeout"
    assert "passed the 4 s wall-clock cap" in figures["error"] and "load average" in figures["error"]
    assert "thread(s)" in figures["error"]


@pytest.mark.skipif(not LANDLOCK, reason="this kernel has no Landlock: the training process is not confined")
def test_a_train_py_that_writes_outside_its_scratch_folder_is_a_sandbox_crash(project: Path) -> None:
    with_train(
        project, "def train(data, budget, seed):\n    open(__file__.replace('train.py', 'notes.txt'), 'w').write('x')\n"
    )
    [figures] = run_eval(project, check=False)
    assert figures["reason"] == "sandbox" and "scratch folder" in figures["error"]
    assert not (project / "notes.txt").exists()


def test_a_results_file_that_does_not_parse_stops_the_eval_before_training(project: Path) -> None:
    with open(project / "results.tsv", "a") as f:
        f.write("not\ta\trow\n")
    out = subprocess.run([sys.executable, "eval.py"], cwd=project, capture_output=True, text=True)
    assert out.returncode != 0
    assert "results.tsv line 2" in out.stderr and "nothing was run" in out.stderr
    assert not (project / "7_runs").exists()


@pytest.mark.slow  # real evals (5-11 s): `just test-all` and CI run it
def test_a_row_that_cannot_be_appended_still_prints_the_summary(project: Path, tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("AUTORESEARCH_KEYS", str(blocker / "keys"))  # the key cannot be made: the append fails
    out = subprocess.run([sys.executable, "eval.py"], cwd=project, capture_output=True, text=True)
    assert out.returncode == 1
    assert "val_bpb:" in out.stdout and "the row was NOT written" in out.stdout
    assert rows(project) == []


def test_eval_py_and_the_config_must_agree_on_the_metric(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('metric = "val_bpb"', 'metric = "accuracy"'))
    out = subprocess.run([sys.executable, "eval.py"], cwd=project, capture_output=True, text=True)
    assert out.returncode != 0 and "make them agree" in out.stderr


# ------------------------------------------------------------------------------------- text corpora


def test_a_text_path_is_relative_to_the_root_and_the_note_names_files_and_bytes(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    for name in ("a.txt", "b.md"):
        (tmp_path / "corpus" / name).write_bytes(b"x" * 3000)
    corpus = load_corpus("text:corpus", seed=0, train_bytes=1000, val_docs=4, doc_len=65, root=tmp_path)
    assert corpus.note.startswith("text:corpus: 2 files, 6,002 bytes")
    assert corpus.val.shape == (4, 65) and len(corpus.files) == 2


def test_an_empty_text_path_is_an_error_not_the_project_folder(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="has no path"):
        text_files("", tmp_path)


def test_a_folder_of_other_files_says_what_it_skipped_and_how_to_name_them(tmp_path: Path) -> None:
    for name in ("a.py", "b.py", "c.txt"):
        (tmp_path / name).write_text("x" * 10)
    files, skipped = text_files(str(tmp_path), tmp_path)
    assert [f.name for f in files] == ["c.txt"] and "2 other files (.py)" in skipped
    (tmp_path / "c.txt").unlink()
    with pytest.raises(UserError, match=r"no \.txt or \.md files .* glob"):
        text_files(str(tmp_path), tmp_path)
    files, _ = text_files("**/*.py", tmp_path)
    assert len(files) == 2


def test_a_corpus_smaller_than_the_budget_is_a_stated_warning(tmp_path: Path) -> None:
    (tmp_path / "small.txt").write_bytes(b"y" * 2000)
    corpus = load_corpus("text:small.txt", seed=0, train_bytes=10_000, val_docs=4, doc_len=65, root=tmp_path)
    assert "each is seen about" in corpus.note


def test_an_unknown_data_source_is_a_clear_error() -> None:
    with pytest.raises(UserError, match="expected 'synthetic', 'text:PATH'"):
        load_corpus("s3://bucket", seed=0, train_bytes=0, val_docs=1, doc_len=2)
