"""metamode.py: META_MODE from the environment or from the newest human_journal.md entry only."""

from __future__ import annotations

from pathlib import Path

from autoresearch.metamode import meta_mode
from autoresearch.paths import Project


def entry(day: int, body: str) -> str:
    return f"## 2025-01-0{day} 09:00 UTC · note {day}\n\n{body}\n\n"


def write_human(project: Path, *entries: str) -> None:
    path = project / "human_journal.md"
    path.write_text(path.read_text() + "\n" + "".join(entries))


def test_off_in_a_fresh_project_although_the_header_mentions_it(project: Path) -> None:
    assert "META_MODE=1" in (project / "human_journal.md").read_text()
    assert not meta_mode(Project.find()).on


def test_on_from_the_environment(project: Path, monkeypatch) -> None:
    monkeypatch.setenv("META_MODE", "1")
    mode = meta_mode(Project.find())
    assert mode.on and "environment" in mode.why
    monkeypatch.setenv("META_MODE", "0")
    assert not meta_mode(Project.find()).on


def test_on_while_the_newest_entry_says_so(project: Path) -> None:
    write_human(project, entry(2, "Please revise program.md.\n\nMETA_MODE=1"), entry(1, "hello"))
    mode = meta_mode(Project.find())
    assert mode.on and "note 2" in mode.why


def test_off_again_once_a_newer_entry_does_not_say_it(project: Path) -> None:
    write_human(project, entry(3, "Back to research."), entry(2, "META_MODE=1"))
    assert not meta_mode(Project.find()).on


def test_only_the_exact_flag_counts(project: Path) -> None:
    write_human(project, entry(2, "META_MODE=10 is not a thing; NO_META_MODE=1 neither"))
    assert not meta_mode(Project.find()).on


def test_a_worktree_reads_the_root_journal(project: Path) -> None:
    import subprocess

    subprocess.run(["git", "worktree", "add", "-q", "5_worktrees/a", "-b", "exp/a"], cwd=project, check=True)
    write_human(project, entry(2, "META_MODE=1"))
    assert meta_mode(Project.find(project / "5_worktrees" / "a")).on
