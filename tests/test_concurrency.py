"""Safe writes to the record: concurrent appends from the root and real worktrees, killed and interrupted evals, atomic edits.

Real processes throughout: appenders are `python -c` subprocesses, evals run the real eval.py (with a
stub train.py that sleeps, since what is under test is the harness, not the model).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autoresearch import journal, results
from autoresearch.paths import Project

SRC = Path(__file__).resolve().parents[1] / "src"

APPENDER = """
import json, sys
from autoresearch.paths import Project
from autoresearch.results import append_row
row, tag, n = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
path = Project.find().results
i = 0
while n < 0 or i < n:
    append_row(path, row | {"description": f"{tag} {i}", "seed": i})
    i += 1
"""

SLEEPING_TRAIN = '''
import pathlib
import time

import torch


def train(data, budget, seed):
    data.next_batch(1)
    pathlib.Path({started!r}).write_text("training")
    time.sleep(120)
    return torch.nn.Linear(1, 1)
'''

TINY_PROFILE = 'PROFILES["tiny"] = Profile("tiny", "cpu", seq_len=64, train_tokens=4096, time_seconds=5, cap_seconds=300, val_docs=4)\n'


def env(**extra: str) -> dict:
    return {k: v for k, v in os.environ.items() if k != "META_MODE"} | {"PYTHONPATH": str(SRC)} | extra


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def worktree(repo: Path, slug: str) -> Path:
    git(repo, "worktree", "add", "-q", f"5_worktrees/{slug}", "-b", f"exp/{slug}", "main")
    return repo / "5_worktrees" / slug


@pytest.fixture(scope="module")
def data_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data-cache")


def test_8_processes_x_200_appends_from_root_and_two_worktrees_give_1600_rows(project: Path, result_row) -> None:
    trees = [project, worktree(project, "alpha"), worktree(project, "beta")]
    row = json.dumps(result_row())
    t = time.perf_counter()
    procs = [
        subprocess.Popen([sys.executable, "-c", APPENDER, row, f"p{i}", "200"], cwd=trees[i % 3], env=env())
        for i in range(8)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * 8
    seconds = time.perf_counter() - t
    df = results.read_results(project / "results.tsv")
    assert df.height == 1600
    assert sorted(df["description"].to_list()) == sorted(f"p{i} {j}" for i in range(8) for j in range(200))
    for tree in trees[1:]:
        assert (tree / "results.tsv").read_text() == results.HEADER  # worktrees write to the root copy only
    assert seconds < 60
    print(f"1600 rows from 8 processes in {seconds:.1f} s")


def test_appenders_killed_at_random_never_leave_a_partial_row(project: Path, result_row) -> None:
    row = json.dumps(result_row())
    rng = random.Random(0)
    for round_ in range(3):
        size = (project / "results.tsv").stat().st_size
        procs = [subprocess.Popen([sys.executable, "-c", APPENDER, row, f"r{round_}p{i}", "-1"], cwd=project, env=env()) for i in range(4)]
        deadline = time.time() + 60
        while (project / "results.tsv").stat().st_size < size + 20_000:  # all of them appending by now, most likely
            assert time.time() < deadline and all(p.poll() is None for p in procs)
            time.sleep(0.05)
        for p in procs:
            time.sleep(rng.uniform(0, 0.2))
            p.send_signal(signal.SIGKILL)
            p.wait()
    df = results.read_results(project / "results.tsv")  # every line has every column, or this raises
    assert df.height > 0 and (project / "results.tsv").read_bytes().endswith(b"\n")


def eval_project(project: Path, started: Path) -> Path:
    """The real eval.py plus a tiny row-writing profile, and a train.py that says it started, then sleeps."""
    text = (project / "eval.py").read_text()
    marker = 'if __name__ == "__main__":'
    assert marker in text
    (project / "eval.py").write_text(text.replace(marker, TINY_PROFILE + "\n\n" + marker))
    (project / "train.py").write_text(SLEEPING_TRAIN.format(started=str(started)))
    git(project, "commit", "-qam", "tiny profile, sleeping train.py")
    return worktree(project, "sleepy")


def start_eval(wt: Path, started: Path, data_cache: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "eval.py", "--profile", "tiny"], cwd=wt, env=env(AUTORESEARCH_CACHE=str(data_cache)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.time() + 120
    while not started.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, "the eval never reached training"
        time.sleep(0.05)
    return proc


def assert_worktree_intact(wt: Path) -> None:
    assert git(wt, "status", "--porcelain") == ""
    assert "time.sleep(120)" in (wt / "train.py").read_text()


def test_kill_9_during_an_eval_leaves_no_row_and_the_worktree_intact(project: Path, tmp_path: Path, data_cache: Path) -> None:
    started = tmp_path / "started"
    wt = eval_project(project, started)
    before = (project / "results.tsv").read_bytes()
    proc = start_eval(wt, started, data_cache)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert (project / "results.tsv").read_bytes() == before
    results.read_results(project / "results.tsv")
    assert_worktree_intact(wt)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sigint_or_sigterm_during_an_eval_writes_one_interrupted_crash_row(project: Path, tmp_path: Path, data_cache: Path, sig) -> None:
    started = tmp_path / "started"
    wt = eval_project(project, started)
    proc = start_eval(wt, started, data_cache)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "reason:           interrupted" in stdout
    (row,) = results.read_results(project / "results.tsv").to_dicts()
    assert (row["status"], row["reason"], row["branch"], row["idea"], row["val_bpb"]) == ("crash", "interrupted", "exp/sleepy", "sleepy", None)
    assert_worktree_intact(wt)


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
    procs = [subprocess.Popen([sys.executable, "-c", JOURNALER, f"p{i}"], cwd=trees[i % 2], env=env()) for i in range(4)]
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
