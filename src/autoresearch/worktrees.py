"""One git worktree per idea: 5_worktrees/{slug} on branch exp/{slug}, made from main, the champion.

Always acts on the ROOT repository, so it works the same from the root or from inside a worktree.
A new worktree starts from main's current code, so every win kept on main (`just keep`) is in it:
wins stack. Removing a worktree keeps its branch unless asked, and moves any log files left in it to
7_runs/, so neither the code nor the output of an experiment is ever lost. Usage:

    autoresearch worktree new rotary-base        # then: cd 5_worktrees/rotary-base
    autoresearch worktree list
    autoresearch worktree remove rotary-base [--delete-branch] [--force]
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from autoresearch import repo
from autoresearch.errors import UserError

if TYPE_CHECKING:
    from autoresearch.config import Config
    from autoresearch.paths import Project
    from autoresearch.results import Record


@dataclass(frozen=True)
class WorktreeInfo:
    slug: str
    branch: str
    path: Path
    dirty: bool
    """uncommitted changes, untracked files included"""
    ahead: int
    """commits on the branch that main does not have"""
    behind_champion: bool
    """main's code moved on (a keep) since the branch forked: merge main into it"""
    last_result: str | None
    """the newest results.tsv row of the idea, like `1.8821 ok (cpu)` or `crash: timeout (cpu)`"""
    missing: bool = False
    """git knows the worktree but its folder is gone (`git worktree prune` forgets it)"""


@dataclass(frozen=True)
class NewWorktree:
    slug: str
    branch: str
    path: Path
    main: str
    parent: str
    """the commit of main it starts from"""


def branch_of(slug: str) -> str:
    return f"exp/{slug}"


def new_worktree(project: Project, config: Config, slug: str) -> NewWorktree:
    """`git worktree add 5_worktrees/{slug} -b exp/{slug} <main>` and mark the idea implementing."""
    from autoresearch import ideas

    ideas.find_idea(project, slug)
    root, main, branch = project.root, config.main_branch, branch_of(slug)
    folder = project.worktrees / slug
    rel = folder.relative_to(root)
    if not repo.rev_exists(root, f"refs/heads/{main}"):
        raise UserError(
            f"the main branch {main!r} does not exist in {root}; commit on it first, or set [tool.autoresearch] main_branch"
        )
    if repo.rev_exists(root, f"refs/heads/{branch}"):
        raise UserError(
            f"branch {branch} exists already; remove it with `just wt-rm {slug} --delete-branch` (its worktree too, if any) or pick another slug"
        )
    if folder.exists():
        raise UserError(
            f"{rel} exists already; remove it with `just wt-rm {slug}` (or delete the folder), or pick another slug"
        )
    repo.git(root, "worktree", "add", "-q", str(folder), "-b", branch, main)
    ideas.set_field(project, slug, "status", "implementing")
    return NewWorktree(slug, branch, folder, main, repo.resolve(root, main) or "")


def _last_results(record: Record) -> dict[str, str]:
    last = {}
    for row in record.newest_per_idea().iter_rows(named=True):
        if row["status"] == "ok":
            last[row["idea"]] = f"{row[record.value]:.4f} ok ({row['profile']})"
        else:
            last[row["idea"]] = f"{row['status']}: {row['reason'] or '?'} ({row['profile']})"
    return last


def list_worktrees(project: Project, config: Config, record: Record | None = None) -> list[WorktreeInfo]:
    """The worktrees under 5_worktrees/ that git knows, by slug, with the last result of each (from `record`)."""
    from autoresearch import fingerprints

    root, main = project.root, config.main_branch
    base = project.worktrees.resolve()
    last = _last_results(record) if record is not None else {}
    has_main = repo.rev_exists(root, f"refs/heads/{main}")
    champion = fingerprints.code_hash_at(root, main, config) if has_main else ""
    infos = []
    for wt in repo.worktrees(root):
        if wt.path.resolve().parent != base:
            continue
        missing = not wt.path.exists()
        ahead = int(repo.git(root, "rev-list", "--count", f"{main}..{wt.head}")) if has_main else 0
        fork = repo.merge_base(root, main, wt.head) if has_main else None
        behind = bool(fork) and fingerprints.code_hash_at(root, fork, config) != champion  # type: ignore[arg-type]
        infos.append(
            WorktreeInfo(
                wt.path.name,
                wt.branch or "(detached)",
                wt.path,
                False if missing else repo.dirty(wt.path),
                ahead,
                behind,
                last.get(wt.path.name),
                missing,
            )
        )
    return sorted(infos, key=lambda w: w.slug)


@dataclass(frozen=True)
class Removed:
    rel: str
    branch: str
    kept_branch: bool
    deleted_sha: str
    """the branch's last commit when it was deleted ('' when kept)"""
    logs: Path | None
    """where log files left in the worktree went"""


def remove_worktree(
    project: Project, config: Config, slug: str, delete_branch: bool = False, force: bool = False
) -> Removed:
    """Remove 5_worktrees/{slug}; keep exp/{slug} unless `delete_branch` (a force delete: unmerged is normal)."""
    from autoresearch.ideas import check_slug

    check_slug(slug)
    root, branch = project.root, branch_of(slug)
    has_branch = repo.rev_exists(root, f"refs/heads/{branch}")
    tree = next((t for t in list_worktrees(project, config) if t.slug == slug), None)
    rel = os.path.relpath(project.worktrees / slug, root)
    if tree is None:
        hint = f"; to delete the branch alone: git branch -D {branch}" if has_branch else ""
        raise UserError(f"no worktree {rel} (`just wts` lists them){hint}")
    if project.checkout.resolve() == tree.path.resolve():
        raise UserError(f"you are inside {rel}; cd to the root checkout ({root}) and run this again")
    if tree.dirty and not force:
        raise UserError(
            f"{rel} has uncommitted changes; commit them on {tree.branch} (`git -C {rel} commit -am ...`), or pass --force to discard them"
        )
    logs = None if tree.missing else _save_logs(project, tree.path, slug)
    if tree.missing:
        repo.git(root, "worktree", "prune")
    else:
        repo.git(root, "worktree", "remove", *(["--force"] if force else []), str(tree.path))
    sha = ""
    if delete_branch and has_branch:
        sha = repo.git(root, "rev-parse", "--short=12", branch)
        repo.git(root, "branch", "-D", branch)
    return Removed(rel, branch, has_branch and not delete_branch, sha, logs)


def _save_logs(project: Project, folder: Path, slug: str) -> Path | None:
    """Move untracked *.log files of the worktree into 7_runs/, so removing it loses no output."""
    untracked = repo.lines(folder, "ls-files", "-z", "--others")
    logs = [folder / rel for rel in untracked if rel.endswith(".log")]
    if not logs:
        return None
    target = project.runs / f"{datetime.now(UTC):%Y%m%d-%H%M%S}_{slug}_worktree-logs"
    target.mkdir(parents=True, exist_ok=True)
    for path in logs:
        shutil.move(str(path), target / path.relative_to(folder).as_posix().replace("/", "__"))
    return target
