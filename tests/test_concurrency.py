"""Safe writes to the record: concurrent signed appends from the root and real worktrees, killed appenders,
killed and interrupted evals, concurrent journal entries, atomic edits.

Real processes throughout: appenders are `python -c` subprocesses calling results.append, evals run the
project's fixture eval.py (profile tiny) with a trainer that says it started and then trains slowly,
since what is under test is the eval process, not the model.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import git
from queue_jobs import until

from autoresearch import journal, results, signing
from autoresearch.config import Config
from autoresearch.paths import Project

APPENDER = """
import json, sys
from autoresearch import results
from autoresearch.paths import Project
row, tag, n = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
project = Project.find()
i = 0
while n < 0 or i < n:
    results.append(project, "val_bpb", row | {"description": f"{tag} {i}", "seed": i})
    i += 1
"""

SLOW_TRAIN = '''\
"""A trainer that says it started, then takes one small batch every 0.2 s (about 25 s for the tiny budget)."""
import time

import torch

from autoresearch.evaluate import Budget, TrainData


def train(data: TrainData, budget: Budget, seed: int) -> torch.nn.Module:
    print("training started", flush=True)
    model = torch.nn.Embedding(budget.spec["vocab_size"], budget.spec["vocab_size"])
    while data.next_batch(1) is not None:
        time.sleep(0.2)
    return model
'''


def env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "META_MODE"}


def worktree(repo: Path, slug: str) -> Path:
    git(repo, "worktree", "add", "-q", f"5_worktrees/{slug}", "-b", f"exp/{slug}", "main")
    return repo / "5_worktrees" / slug


def load(repo: Path) -> results.Record:
    project = Project.find(repo)
    return results.load(project, Config.load(project))


def test_8_processes_x_200_appends_from_root_and_two_worktrees_give_1600_signed_rows(project: Path, result_row) -> None:
    trees = [project, worktree(project, "alpha"), worktree(project, "beta")]
    row = json.dumps(result_row())
    procs = [
        subprocess.Popen([sys.executable, "-c", APPENDER, row, f"p{i}", "200"], cwd=trees[i % 3], env=env())
        for i in range(8)
    ]
    assert [p.wait(timeout=300) for p in procs] == [0] * 8
    df = load(project).df
    assert df.height == 1600
    assert sorted(df["description"].to_list()) == sorted(f"p{i} {j}" for i in range(8) for j in range(200))
    lines = (project / "results.tsv").read_text().splitlines()[1:]
    assert {signing.verify(*line.rsplit("\t", 1)) for line in lines} == {"ok"}
    for tree in trees[1:]:
        assert (tree / "results.tsv").read_text() == results.header("val_bpb")  # worktrees write to the root copy only


def test_appenders_killed_at_random_never_leave_a_partial_row(project: Path, result_row) -> None:
    row = json.dumps(result_row())
    rng = random.Random(0)
    for round_ in range(3):
        size = (project / "results.tsv").stat().st_size
        procs = [
            subprocess.Popen([sys.executable, "-c", APPENDER, row, f"r{round_}p{i}", "-1"], cwd=project, env=env())
            for i in range(4)
        ]
        deadline = time.time() + 120
        while (project / "results.tsv").stat().st_size < size + 20_000:  # all of them appending by now, most likely
            assert time.time() < deadline and all(p.poll() is None for p in procs)
            time.sleep(0.05)
        for p in procs:
            time.sleep(rng.uniform(0, 0.2))
            p.send_signal(signal.SIGKILL)
            p.wait()
    rec = load(project)  # every line has every column and ends in a newline, or this raises
    assert rec.height > 0 and (project / "results.tsv").read_bytes().endswith(b"\n")
    lines = (project / "results.tsv").read_text().splitlines()[1:]
    assert {signing.verify(*line.rsplit("\t", 1)) for line in lines} == {"ok"}


# ------------------------------------------------------------------------------------------ evals stopped midway


def eval_project(project: Path) -> Path:
    """The project with the slow trainer committed on main, and a worktree of it to run the eval in."""
    (project / "train.py").write_text(SLOW_TRAIN)
    git(project, "commit", "-qam", "a slow train.py")
    return worktree(project, "sleepy")


def start_eval(project: Path, wt: Path) -> tuple[subprocess.Popen, int]:
    """Start `python eval.py --profile tiny` in the worktree; once its trainer has started, (the eval, the trainer's pid)."""
    proc = subprocess.Popen(
        [sys.executable, "eval.py", "--profile", "tiny"],
        cwd=wt,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def trainer() -> int | None:
        assert proc.poll() is None, proc.communicate()
        for log in (project / "7_runs").glob("*_sleepy_s0/log.txt"):
            text = log.read_text()
            if "training started" in text:
                return int(re.search(r"\[eval\] training process (\d+)", text)[1])
        return None

    return proc, until(trainer, 120, "the eval to reach training")


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie awaiting its reaper counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def assert_worktree_intact(wt: Path) -> None:
    assert git(wt, "status", "--porcelain") == ""
    assert (wt / "train.py").read_text() == SLOW_TRAIN


@pytest.mark.slow  # real evals (5-11 s): `just test-all` and CI run it
def test_kill_9_during_an_eval_leaves_no_row_and_the_worktree_intact(project: Path) -> None:
    wt = eval_project(project)
    before = (project / "results.tsv").read_bytes()
    proc, child = start_eval(project, wt)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    until(lambda: not alive(child), 30, "the orphaned trainer to exit at its next batch")
    assert (project / "results.tsv").read_bytes() == before
    assert load(project).height == 0
    assert_worktree_intact(wt)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_sigint_or_sigterm_during_an_eval_writes_one_interrupted_crash_row(project: Path, sig) -> None:
    wt = eval_project(project)
    proc, child = start_eval(project, wt)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "reason:           interrupted" in stdout
    (row,) = load(project).rows()
    assert (row["status"], row["reason"], row["branch"], row["idea"], row["val_bpb"]) == (
        "crash",
        "interrupted",
        "exp/sleepy",
        "sleepy",
        None,
    )
    assert signing.verify(*(project / "results.tsv").read_text().splitlines()[1].rsplit("\t", 1)) == "ok"
    assert not alive(child)  # the eval ended its trainer before it exited
    assert_worktree_intact(wt)


# ------------------------------------------------------------------------------------------ journals and ideas


JOURNALER = """
import sys
from autoresearch.journal import add_entry
from autoresearch.paths import Project
for i in range(10):
    add_entry(Project.find(), "research", f"{sys.argv[1]} entry {i}", observation=f"observation {i}")
"""


def test_concurrent_journal_entries_all_land_and_keep_the_append_only_rule(project: Path) -> None:
    path = project / "RESEARCH_JOURNAL.md"
    old = path.read_text()
    trees = [project, worktree(project, "alpha")]
    procs = [
        subprocess.Popen([sys.executable, "-c", JOURNALER, f"p{i}"], cwd=trees[i % 2], env=env()) for i in range(4)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * 4
    _, entries = journal.parse(path.read_text())
    assert len(entries) == 40 and journal.verify(old, path.read_text()) == []
    for i in range(4):  # each writer's entries are newest first
        mine = [e.heading.split(" · ")[1] for e in entries if f" · p{i} entry" in e.heading]
        assert mine == [f"p{i} entry {j}" for j in reversed(range(10))]


def test_a_journal_write_that_fails_midway_leaves_the_old_file_and_no_temp_file(project: Path, monkeypatch) -> None:
    path = project / "RESEARCH_JOURNAL.md"
    old = path.read_text()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        journal.add_entry(Project.find(), "research", "never lands", observation="x")
    assert path.read_text() == old
    assert not [p.name for p in project.iterdir() if p.name.endswith(".tmp")]


def test_an_idea_edit_that_fails_midway_leaves_the_old_file(project: Path, monkeypatch) -> None:
    from autoresearch import ideas

    path = ideas.new_idea(Project.find(), "rotary", "Rotary").path
    old = path.read_text()
    monkeypatch.setattr(os, "replace", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        ideas.set_field(Project.find(), "rotary", "rating", 7)
    assert path.read_text() == old
    assert not [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
