"""The guards that act as a change happens: the git pre-commit hook and the Claude Code PreToolUse hook.

`guard commit` (run by the hook that `autoresearch hooks install` puts in the common git dir, so
every worktree has it) refuses a commit that changes a FROZEN file without META_MODE, commits a
GLOBAL file from a worktree or a branch other than main, or rewrites old journal entries. A staged
file identical to main's committed copy is always allowed: merging main and restoring a file are fine.

`guard agent` reads Claude Code's PreToolUse JSON on stdin (tool_name, tool_input.file_path or
.notebook_path, cwd) and blocks with exit code 2 and one line on stderr any Edit/Write/MultiEdit/
NotebookEdit of a FROZEN file without META_MODE, of a GLOBAL or APPEND-ONLY file (results.tsv is
appended only by eval.py, journals only by `just journal`), or of git's own files (hooks, config).
For Bash it asks `shellguard.problem`, which blocks the ways to switch a guard off that a command
shows: setting META_MODE, --no-verify, core.hooksPath, .git/hooks, writing the human journal.
A tripwire, not a sandbox: `check` finds the rest.

Usage:
    autoresearch guard commit                   (from .git/hooks/pre-commit)
    autoresearch guard agent < hook-input.json  (from .claude/settings.json)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from autoresearch import shellguard
from autoresearch.config import Config, ConfigError
from autoresearch.errors import UserError
from autoresearch.metamode import meta_mode
from autoresearch.paths import HUMAN_JOURNAL, META_JOURNAL, RESULTS, NotAProject, Project
from autoresearch.repo import git as run_git
from autoresearch.repo import read_blobs, rev_exists
from autoresearch.rules import frozen_problem, global_problem
from autoresearch.signing import key_dir
from autoresearch.taxonomy import Taxonomy

EDIT_TOOLS = ("Edit", "Write", "MultiEdit", "NotebookEdit")
BLOCK = 2  # Claude Code: exit code 2 blocks the tool call and shows stderr to the agent


def commit_problems(project: Project) -> list[str]:
    """Why the staged commit must be refused; [] to let it through."""
    from autoresearch.audit import repairs_journal
    from autoresearch.journal import verify

    checkout = project.checkout
    if not rev_exists(checkout, "HEAD"):
        return []  # the first commit of the template: nothing to protect yet
    config = Config.committed(project)
    tax = config.taxonomy
    main = tax.main_branch
    changed = [
        p for p in run_git(checkout, "diff", "--cached", "--name-only", "--no-renames", "-z", "HEAD").split("\0") if p
    ]
    if not changed:
        return []
    branch = run_git(checkout, "symbolic-ref", "--short", "-q", "HEAD", ok=(0, 1)).strip()
    has_main = rev_exists(checkout, main)
    specs = (
        [f":{p}" for p in changed]
        + [f"HEAD:{p}" for p in changed]
        + ([f"{main}:{p}" for p in changed] if has_main else [])
    )
    blobs = read_blobs(checkout, specs)
    mode = meta_mode(project)
    where = (
        f"worktree {checkout.relative_to(project.root)}"
        if project.in_worktree
        else f"branch {branch or '(detached HEAD)'}"
    )
    problems = []
    for rel in changed:
        staged = blobs[f":{rel}"]
        if has_main and staged is not None and staged == blobs[f"{main}:{rel}"]:
            continue
        if tax.is_frozen(rel) and not mode.on:
            problems.append(
                frozen_problem(rel, f"undo the change with `git checkout {main} -- {rel}` and commit the rest")
            )
        if tax.is_global(rel) and (project.in_worktree or branch != main):
            problems.append(global_problem(rel, f"from {where}", f"drop it here with `git checkout HEAD -- {rel}`"))
        if tax.is_append_only(rel):
            old = blobs[f"HEAD:{rel}"]
            if staged is None and old is not None:
                problems.append(
                    f"{rel} is APPEND-ONLY and the commit deletes it; restore it with `git checkout HEAD -- {rel}`"
                )
            elif old is not None and staged is not None:
                found = verify(old.decode("utf-8", "replace"), staged.decode("utf-8", "replace"), rel)
                if found and not repairs_journal(
                    project, config, rel, staged
                ):  # putting back what main's history edited
                    problems += found
    return problems


def commit(project: Project) -> int:
    problems = commit_problems(project)
    if not problems:
        return 0
    print("autoresearch: commit refused:", file=sys.stderr)
    for line in problems:
        print(f"  {line}", file=sys.stderr)
    print(
        "Fix the above, `git add` again and commit; `autoresearch check` lists every problem in the project.",
        file=sys.stderr,
    )
    return 1


def agent_problem(hook_input: dict) -> str | None:
    """Why this tool call must be blocked, as one line for the agent; None to let it run."""
    tool = hook_input.get("tool_name", "")
    if tool == "Bash":
        command = str((hook_input.get("tool_input") or {}).get("command", ""))
        if "autoresearch/keys" in command or str(key_dir()) in command or "AUTORESEARCH_KEYS" in command:
            return "the record's signing keys are the eval process's: the agent never reads, copies or points at them"
        found = shellguard.problem(command)
        if found == shellguard.SETS_META_MODE and _meta_mode_at(Path(hook_input.get("cwd") or Path.cwd())):
            found = shellguard.problem(command, meta_mode_on=True)  # already on: saying so again changes nothing
        return found
    if tool == "Read":
        raw = str((hook_input.get("tool_input") or {}).get("file_path", ""))
        path = (Path(hook_input.get("cwd") or Path.cwd()) / raw).resolve()
        if raw and (path == key_dir().resolve() or key_dir().resolve() in path.parents):
            return f"{path} is the record's signing key folder: the agent never reads it"
        return None
    if tool not in EDIT_TOOLS:
        return None
    args = hook_input.get("tool_input") or {}
    raw = str(args.get("file_path") or args.get("notebook_path") or "")
    if not raw:
        return f"{tool} without a file_path or notebook_path in tool_input: cannot tell which file it edits, so it is blocked"
    cwd = Path(hook_input.get("cwd") or Path.cwd())
    path = (cwd / raw).resolve()  # absolute raw paths stay as they are; symlinks resolve to their target
    if path == key_dir().resolve() or key_dir().resolve() in path.parents:
        return f"{path} is the record's signing key folder: the agent never reads or writes it"
    existing = next(p for p in [path, *path.parents] if p.exists())
    try:
        project = Project.find(existing if existing.is_dir() else existing.parent)
    except NotAProject:
        return None  # outside any git checkout: not ours to guard
    for git_dir in (_git_dir(project.checkout), project.root / ".git"):
        if path == git_dir or git_dir in path.parents:
            return f"{path} is inside git's own files (hooks, config): the agent may not edit them; use git commands instead"
    try:
        tax: Taxonomy = Config.committed(project).taxonomy
    except ConfigError as e:
        text = project.pyproject.read_text(encoding="utf-8", errors="replace") if project.pyproject.exists() else ""
        if "tool.autoresearch" not in text:
            return None  # another repository, not an autoresearch project
        return f"{e}; no edit can be checked until it is readable"
    rel = path.relative_to(project.checkout).as_posix()
    if rel == HUMAN_JOURNAL:
        return "human_journal.md is the researcher's journal: the agent never writes it; write to RESEARCH_JOURNAL.md with `just journal ...`"
    if tax.is_append_only(rel):
        journal = {META_JOURNAL: " --journal meta"}.get(rel, "")
        return (
            f'{rel} is APPEND-ONLY: add a new entry with `just journal "title"{journal} --observation ... --inference ...`; '
            "old entries never change, so never edit the file itself"
        )
    if tax.is_global(rel):
        if project.in_worktree:
            return (
                f"{rel} is GLOBAL: the record lives in the root checkout, and this worktree's copy is stale and never committed; "
                f"edit {project.root / rel} instead"
            )
        if rel == RESULTS or rel.startswith(".autoresearch/"):
            return f"{rel} is written by the tools only (eval.py appends the rows, calibrate the noise threshold, each signed); never edit it by hand, even to fix a row"
    if tax.is_frozen(rel):
        mode = meta_mode(project)
        if not mode.on:
            return (
                f"{rel} is FROZEN (program.md, 'Which files you may touch') and META_MODE is off: leave it as it is "
                "and change train.py or model.py instead; only the researcher may allow it, with META_MODE=1 in human_journal.md"
            )
    return None


def _meta_mode_at(cwd: Path) -> bool:
    try:
        return meta_mode(Project.find(cwd)).on
    except NotAProject:
        return False


def _git_dir(checkout: Path) -> Path:
    dotgit = checkout / ".git"
    if dotgit.is_dir():
        return dotgit
    return (checkout / dotgit.read_text().strip().removeprefix("gitdir:").strip()).resolve()


def agent(stdin: str) -> int:
    """Exit code for Claude Code: 0 lets the tool call run, 2 blocks it (the reason goes to stderr)."""
    try:
        hook_input = json.loads(stdin)
        if not isinstance(hook_input, dict):
            raise ValueError("not a JSON object")
        problem = agent_problem(hook_input)
    except (ValueError, UserError, OSError) as e:
        problem = f"autoresearch guard could not read the hook input ({e}); the edit is blocked until it can"
    if problem is None:
        return 0
    print(f"autoresearch guard: {problem}", file=sys.stderr)
    return BLOCK
