"""Shared fixtures: a real temporary project (git repo on main) made from this repo's template files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEMPLATE_FILES = (
    "pyproject.toml", "eval.py", "train.py", "model.py", "justfile", "program.md", ".gitignore",
    "RESEARCH_JOURNAL.md", "meta_journal.md", "human_journal.md", "results.tsv",
    "1_ideas/_TEMPLATE.md", "9_reports/_TEMPLATE.md", "0_docs/problem.md", "5_worktrees/.gitkeep",
    "CLAUDE.md", ".claude/settings.json",
)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def make_project(dest: Path) -> Path:
    """Copy the template files into dest, git init on main and commit them."""
    dest.mkdir(parents=True, exist_ok=True)
    for rel in TEMPLATE_FILES:
        src = REPO / rel
        if src.exists():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "config", "user.name", "Test Researcher")
    git(dest, "config", "user.email", "test@example.com")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "template")
    return dest


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh project repo; the current directory is its root."""
    repo = make_project(tmp_path / "proj")
    monkeypatch.chdir(repo)
    monkeypatch.delenv("META_MODE", raising=False)
    monkeypatch.delenv("AUTORESEARCH_LABEL", raising=False)
    monkeypatch.delenv("CLAUDECODE", raising=False)  # the suite may run inside Claude Code, where the human journal is refused
    return repo


@pytest.fixture
def result_row():
    """A factory of well-formed results rows: result_row(val_bpb=1.8, idea="rotary") (crash rows: status="crash")."""

    def make(**overrides) -> dict:
        row = {
            "commit": "abc1234", "val_bpb": 2.0, "memory_gb": 0.5, "status": "ok", "description": "a try",
            "timestamp": "2025-01-01T00:00:00+00:00", "branch": "main", "idea": "", "seed": 0, "profile": "cpu",
            "floor_bpb": 1.2, "gap": None, "training_seconds": 60.0, "total_seconds": 70.0, "tokens": 1_000_000,
            "params": 2_000_000, "steps": 500, "reason": "", "verdict": "", "label": "", "kind": "experiment",
            "eval_hash": "eeeeeeeeeeee", "val_hash": "vvvvvvvvvvvv",
        }
        row.update(overrides)
        if row["status"] == "crash":
            row["val_bpb"] = overrides.get("val_bpb")
            row["reason"] = row["reason"] or "exception"
        if row["gap"] is None and row["val_bpb"] is not None and row["floor_bpb"] is not None:
            row["gap"] = row["val_bpb"] - row["floor_bpb"]
        return row

    return make


def add_tiny_profile(repo: Path) -> None:
    """Give repo's eval.py a row-writing profile `tiny` (seconds a run) and train.py its model size; commit both."""
    eval_py, train_py = repo / "eval.py", repo / "train.py"
    main = 'if __name__ == "__main__":'
    assert main in eval_py.read_text() and "\nMATRIX_LR" in train_py.read_text()
    tiny = 'PROFILES["tiny"] = Profile("tiny", "cpu", seq_len=64, train_tokens=5_120, time_seconds=2, cap_seconds=60, val_docs=8)\n\n'
    eval_py.write_text(eval_py.read_text().replace(main, tiny + main))
    sizes = 'MODEL_SIZES["tiny"] = dict(n_layer=1, n_head=2, n_embd=32)\nBATCH_SIZES["tiny"] = 4\n'
    train_py.write_text(train_py.read_text().replace("\nMATRIX_LR", "\n" + sizes + "MATRIX_LR", 1))
    git(repo, "commit", "-q", "-am", "tiny profile")
