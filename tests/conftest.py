"""Shared fixtures: real temporary projects (git repos on main) built from the template's clean state.

A test project gets the template's files with EMPTY records (results.tsv's header, each journal's
header; no ideas, reports, worktrees or calibration), as `autoresearch init` makes them, never the
record this checkout has accumulated. Toolkit tests run the small problem and trainer of
tests/fixtures (seconds a run), never this checkout's train.py or model.py, so an agent's changes
to those cannot break them. Every test gets its own signing-key folder and a shared data cache.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from autoresearch.paths import JOURNALS

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TEMPLATE_FILES = (
    "pyproject.toml",
    "eval.py",
    "train.py",
    "model.py",
    "justfile",
    "program.md",
    ".gitignore",
    "RESEARCH_JOURNAL.md",
    "meta_journal.md",
    "human_journal.md",
    "results.tsv",
    "1_ideas/_TEMPLATE.md",
    "9_reports/_TEMPLATE.md",
    "0_docs/problem.md",
    "5_worktrees/.gitkeep",
    "CLAUDE.md",
    ".claude/settings.json",
)


def pytest_configure(config: pytest.Config) -> None:
    """Test projects live in RAM where the machine has /dev/shm and no TMPDIR is set.

    Every test makes git repositories and fsyncs its records: on this VM's throttled disk the suite
    waited on writes for a third of its time (fast suite 199-351 s on disk, 256 s in RAM; both suites
    975 s against 767 s), which made its duration depend on what the disk did before."""
    shm = Path("/dev/shm")
    if "TMPDIR" not in os.environ and shm.is_dir() and os.access(shm, os.W_OK):
        os.environ["TMPDIR"] = str(shm)
        tempfile.tempdir = None


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def clean_records(dest: Path, metric: str = "val_bpb") -> None:
    """results.tsv back to its header, each journal back to its header: the template's clean state."""
    from autoresearch.journal import parse
    from autoresearch.results import header

    (dest / "results.tsv").write_text(header(metric))
    for name in JOURNALS:
        head, _ = parse((REPO / name).read_text())
        (dest / name).write_text(head.rstrip("\n") + "\n")


def make_project(dest: Path, tiny: bool = True) -> Path:
    """A project in `dest` from the template's files with clean records, committed on main.

    tiny: eval.py and train.py are the test fixtures' (a bigram trained for seconds, profile `tiny`)."""
    dest.mkdir(parents=True, exist_ok=True)
    for rel in TEMPLATE_FILES:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, dest / rel)
    clean_records(dest)
    if tiny:
        for name in ("eval.py", "train.py"):
            shutil.copy2(FIXTURES / name, dest / name)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "config", "user.name", "Test Researcher")
    git(dest, "config", "user.email", "test@example.com")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "template")
    return dest


@pytest.fixture(scope="session")
def data_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One synthetic-data cache for the session: generating 4 MB of the language takes seconds."""
    return tmp_path_factory.mktemp("data-cache")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, data_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTORESEARCH_KEYS", str(tmp_path / "keys"))
    monkeypatch.setenv("AUTORESEARCH_CACHE", str(data_cache))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("AUTORESEARCH_THREADS", "1")
    for name in ("META_MODE", "AUTORESEARCH_LABEL", "CLAUDECODE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh tiny project repo; the current directory is its root."""
    repo = make_project(tmp_path / "proj")
    monkeypatch.chdir(repo)
    return repo


def run_eval(checkout: Path, *args: str, check: bool = True) -> list[dict[str, Any]]:
    """`python eval.py ARGS` in `checkout` (a real process); the trials' JSON summaries."""
    summary = checkout / ".eval-summary.json"
    done = subprocess.run(
        [sys.executable, "eval.py", *args, "--summary", str(summary)],
        cwd=checkout,
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    figures = json.loads(summary.read_text()) if summary.exists() else []
    summary.unlink(missing_ok=True)
    if check and done.returncode != 0:
        raise AssertionError(f"eval.py {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return figures


@pytest.fixture
def result_row():
    """A factory of well-formed results rows: result_row(val_bpb=1.8, idea="rotary") (crash rows: status="crash")."""

    def make(**overrides: Any) -> dict[str, Any]:
        row: dict[str, Any] = {
            "commit": "abc1234",
            "val_bpb": 2.0,
            "memory_gb": 0.5,
            "status": "ok",
            "description": "a try",
            "timestamp": "2025-01-01T00:00:00+00:00",
            "branch": "main",
            "idea": "",
            "seed": 0,
            "profile": "cpu",
            "budget": "units",
            "used": 1_000_000,
            "unit": "tokens",
            "optimum": 1.2,
            "gap": None,
            "training_seconds": 60.0,
            "total_seconds": 70.0,
            "params": 2_000_000,
            "steps": 500,
            "threads": 2,
            "reason": "",
            "verdict": "",
            "code": "c0de00000000",
            "parent": "c0de00000000",
            "label": "",
            "kind": "experiment",
            "sandbox": "landlock-abi7",
            "run": "",
            "eval_hash": "eeeeeeeeeeee",
            "val_hash": "vvvvvvvvvvvv",
            "data": "synthetic",
        }
        row.update(overrides)
        if row["status"] == "crash":
            row["val_bpb"] = overrides.get("val_bpb")
            row["reason"] = row["reason"] or "exception"
        if row["gap"] is None and row["val_bpb"] is not None and row["optimum"] is not None:
            row["gap"] = row["val_bpb"] - row["optimum"]
        return row

    return make


def append_rows(repo: Path, rows: list[dict[str, Any]], metric: str = "val_bpb") -> None:
    """Append rows the way the eval process does (signed, locked): for tests of the readers."""
    from autoresearch import results
    from autoresearch.paths import Project

    project = Project.find(repo)
    for row in rows:
        results.append(project, metric, row)
