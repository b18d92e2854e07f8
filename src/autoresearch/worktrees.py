"""One git worktree per idea: 5_worktrees/{slug} on branch exp/{slug}, made from the main branch.

Always acts on the ROOT repository, so it works the same from the root or from inside a worktree.
Removing a worktree keeps its branch unless asked, so a discarded experiment's diff is never lost.
Usage:

    autoresearch worktree new rotary-base        # then: cd 5_worktrees/rotary-base
    autoresearch worktree list
    autoresearch worktree remove rotary-base [--delete-branch] [--force]
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from autoresearch.errors import UserError

if TYPE_CHECKING:
    import git

    from autoresearch.paths import Project


@dataclass(frozen=True)
class WorktreeInfo:
    slug: str
    branch: str
    path: Path
    dirty: bool
    """uncommitted changes, untracked files included"""
    ahead: int
    """commits on the branch that the main branch does not have"""
    last_result: str | None
    """the newest results.tsv row of the idea, like `1.8821 ok (cpu)` or `crash: timeout (cpu)`"""
    missing: bool = False
    """git knows the worktree but its folder is gone (`git worktree prune` forgets it)"""


def branch_of(slug: str) -> str:
    return f"exp/{slug}"


def _repo(project: Project) -> git.Repo:
    import git

    return git.Repo(project.root)


def _main_branch(project: Project) -> str:
    from autoresearch.taxonomy import Taxonomy

    return Taxonomy.load(project.pyproject).main_branch


def _git_error(e: Exception) -> str:
    stderr = getattr(e, "stderr", "") or str(e)
    lines = [line.strip() for line in str(stderr).strip().strip("'").splitlines() if line.strip()]
    return lines[-1] if lines else str(e)


def new_worktree(project: Project, slug: str) -> Path:
    """`git worktree add 5_worktrees/{slug} -b exp/{slug} <main>`, mark the idea implementing, print what next."""
    import git

    from autoresearch import ideas

    ideas.find_idea(project, slug)
    repo = _repo(project)
    main, branch = _main_branch(project), branch_of(slug)
    folder = project.worktrees / slug
    rel = folder.relative_to(project.root)
    if main not in repo.heads:
        raise UserError(f"the main branch {main!r} does not exist in {project.root}; commit on it first, or set [tool.autoresearch] main_branch")
    if branch in repo.heads:
        raise UserError(
            f"branch {branch} exists already; remove it with `just wt-rm {slug} --delete-branch` "
            f"(its worktree too, if any) or pick another slug"
        )
    if folder.exists():
        raise UserError(f"{rel} exists already; remove it with `just wt-rm {slug}` (or delete the folder), or pick another slug")
    try:
        repo.git.worktree("add", str(folder), "-b", branch, main)
    except git.GitCommandError as e:
        raise UserError(f"git worktree add {rel} failed: {_git_error(e)}") from None
    ideas.set_field(project, slug, "status", "implementing")
    print(f"worktree {rel} on branch {branch} (from {main}); idea {slug} is now implementing. Next:")
    for step in (
        f"cd {rel}",
        "edit train.py / model.py",
        "just smoke                       # seconds, writes no row",
        f'git commit -am "exp({slug}): ..." && just eval   # appends a row to the root results.tsv',
        f"just report {slug}",
        f'just journal "{slug}: ..." --slug {slug} --observation "..." --inference "..."',
    ):
        print(f"  {step}")
    return folder


def _worktree_records(repo: git.Repo) -> list[dict[str, str]]:
    """`git worktree list --porcelain` as one dict per worktree (keys: worktree, HEAD, branch, ...)."""
    records, current = [], {}
    for line in repo.git.worktree("list", "--porcelain").splitlines():
        if not line.strip():
            if current:
                records.append(current)
            current = {}
            continue
        key, _, value = line.partition(" ")
        current[key] = value
    if current:
        records.append(current)
    return records


def _last_results(project: Project) -> dict[str, str]:
    from autoresearch.ideas import results_frame

    import polars as pl

    newest = results_frame(project).filter(pl.col("idea").is_not_null() & (pl.col("idea") != "")).unique("idea", keep="last")
    last = {}
    for row in newest.iter_rows(named=True):
        if row["status"] == "ok":
            last[row["idea"]] = f"{row['val_bpb']:.4f} ok ({row['profile']})"
        else:
            last[row["idea"]] = f"{row['status']}: {row['reason'] or '?'} ({row['profile']})"
    return last


def list_worktrees(project: Project) -> list[WorktreeInfo]:
    """The worktrees under 5_worktrees/ that git knows, by slug."""
    repo = _repo(project)
    main = _main_branch(project)
    base = project.worktrees.resolve()
    last = _last_results(project)
    infos = []
    for record in _worktree_records(repo):
        path = Path(record["worktree"])
        if path.resolve().parent != base:
            continue
        slug = path.name
        branch = record["branch"].removeprefix("refs/heads/") if "branch" in record else "(detached)"
        missing = not path.exists()
        dirty = False if missing else bool(repo.git.execute(["git", "-C", str(path), "status", "--porcelain"]).strip())
        ahead = int(repo.git.rev_list("--count", f"{main}..{record['HEAD']}")) if main in repo.heads else 0
        infos.append(WorktreeInfo(slug, branch, path, dirty, ahead, last.get(slug), missing))
    return sorted(infos, key=lambda w: w.slug)


def print_worktrees(project: Project) -> None:
    from rich.table import Table

    from autoresearch.leaderboard import console

    trees = list_worktrees(project)
    if not trees:
        print(f"no worktrees in {project.worktrees.name}/; open one with `just wt SLUG`")
        return
    table = Table(title=f"worktrees in {project.worktrees.name}/", title_justify="left", show_edge=False, pad_edge=False)
    for name in ("slug", "branch", "state", "ahead", "last result"):
        table.add_column(name, justify="right" if name == "ahead" else "left")
    for t in trees:
        state = "[red]missing (git worktree prune)[/red]" if t.missing else "[yellow]dirty[/yellow]" if t.dirty else "clean"
        table.add_row(t.slug, t.branch, state, str(t.ahead), t.last_result or "")
    console().print(table)


def remove_worktree(project: Project, slug: str, delete_branch: bool = False, force: bool = False) -> None:
    """Remove 5_worktrees/{slug}; keep exp/{slug} unless `delete_branch` (a force delete: unmerged is normal)."""
    import git

    from autoresearch.ideas import check_slug

    check_slug(slug)
    repo = _repo(project)
    branch = branch_of(slug)
    tree = next((t for t in list_worktrees(project) if t.slug == slug), None)
    rel = os.path.relpath(project.worktrees / slug, project.root)
    if tree is None:
        hint = f"; to delete the branch alone: git branch -D {branch}" if branch in repo.heads else ""
        raise UserError(f"no worktree {rel} (`just wts` lists them){hint}")
    if tree.dirty and not force:
        raise UserError(
            f"{rel} has uncommitted changes; commit them on {tree.branch} (`git -C {rel} commit -am ...`), "
            f"or pass --force to discard them"
        )
    if project.checkout.resolve() == tree.path.resolve():
        raise UserError(f"you are inside {rel}; cd to the root checkout ({project.root}) and run this again")
    try:
        if tree.missing:
            repo.git.worktree("prune")
        else:
            repo.git.worktree("remove", *(["--force"] if force else []), str(tree.path))
    except git.GitCommandError as e:
        raise UserError(f"git worktree remove {rel} failed: {_git_error(e)}") from None
    print(f"removed {rel}")
    if delete_branch and branch in repo.heads:
        sha = repo.heads[branch].commit.hexsha[:12]
        repo.git.branch("-D", branch)
        print(f"deleted branch {branch} (was {sha}); to bring it back: git branch {branch} {sha}")
    elif branch in repo.heads:
        print(f"kept branch {branch} (its diff: git diff {_main_branch(project)}...{branch})")
