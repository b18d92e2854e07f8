"""Where things live: the checkout you are in, the ROOT (main) checkout, and the record files.

A worktree under 5_worktrees/ is a checkout of its own, but the research record (results.tsv,
RESEARCH_JOURNAL.md, ...) lives only in the root checkout, found through git's common dir.
Pure path logic, no subprocess and no GitPython, so every command can afford it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autoresearch.errors import UserError

RESULTS = "results.tsv"
RESEARCH_JOURNAL = "RESEARCH_JOURNAL.md"
META_JOURNAL = "meta_journal.md"
HUMAN_JOURNAL = "human_journal.md"
JOURNALS = (RESEARCH_JOURNAL, META_JOURNAL, HUMAN_JOURNAL)
IDEAS = "1_ideas"
WORKTREES = "5_worktrees"
REPORTS = "9_reports"
RUNS = "7_runs"
TEMPLATE = "_TEMPLATE.md"
CALIBRATION = ".autoresearch/calibration.json"


class NotAProject(UserError):
    pass


def _checkout_of(start: Path) -> Path:
    for d in [start, *start.parents]:
        if (d / ".git").exists():
            return d
    raise NotAProject(f"{start} is not inside a git checkout; run this from your project (or `git init` it first)")


def _common_dir(checkout: Path) -> Path:
    dotgit = checkout / ".git"
    if dotgit.is_dir():
        return dotgit
    text = dotgit.read_text().strip()
    if not text.startswith("gitdir:"):
        raise NotAProject(f"{dotgit} is not a git dir or a gitdir: file")
    gitdir = (checkout / text.removeprefix("gitdir:").strip()).resolve()
    commondir = gitdir / "commondir"
    return (gitdir / commondir.read_text().strip()).resolve() if commondir.exists() else gitdir


@dataclass(frozen=True)
class Project:
    checkout: Path
    """The checkout you are in: the root, or a worktree."""
    root: Path
    """The root (main) checkout: where the global record lives."""

    @classmethod
    def find(cls, start: Path | None = None) -> Project:
        checkout = _checkout_of((start or Path.cwd()).resolve())
        return cls(checkout=checkout, root=_common_dir(checkout).parent)

    @property
    def git_dir(self) -> Path:
        """The repository's common git folder (the root checkout's .git): state kept out of every checkout."""
        return _common_dir(self.root)

    @property
    def in_worktree(self) -> bool:
        return self.checkout != self.root

    @property
    def results(self) -> Path:
        return self.root / RESULTS

    @property
    def research_journal(self) -> Path:
        return self.root / RESEARCH_JOURNAL

    @property
    def human_journal(self) -> Path:
        return self.root / HUMAN_JOURNAL

    @property
    def ideas(self) -> Path:
        return self.root / IDEAS

    @property
    def worktrees(self) -> Path:
        return self.root / WORKTREES

    @property
    def reports(self) -> Path:
        return self.root / REPORTS

    @property
    def runs(self) -> Path:
        return self.root / RUNS

    @property
    def calibration(self) -> Path:
        return self.root / CALIBRATION

    @property
    def pyproject(self) -> Path:
        return self.root / "pyproject.toml"
