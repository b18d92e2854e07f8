"""Install the git hooks: pre-commit and pre-merge-commit run `autoresearch guard commit`; prepare-commit-msg
runs `autoresearch hooks meta-trailer`, which signs a `Meta-Mode:` trailer into a commit that changes FROZEN
files while META_MODE is on (the record `check` audits: a FROZEN change without it was not authorised).

They go into the common git dir's hooks/ folder, which every worktree shares. The hook calls this
venv's python (its absolute path, recorded now), or `autoresearch` on PATH when that is gone.
Installing twice changes nothing; a hook that was already there and is not ours is moved to
`<hook>.user` and runs after ours. A folder that is not a git repository (a tarball) gets a note
and no hooks. With core.hooksPath set, git ignores .git/hooks, so this refuses and says what to do.
Usage:

    autoresearch hooks install            (setup.sh runs it)
    autoresearch hooks status             (what is in place, the Claude Code hook included)
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import sys
from pathlib import Path

from autoresearch.config import Config, ConfigError
from autoresearch.errors import UserError
from autoresearch.fileio import write_atomic
from autoresearch.paths import NotAProject, Project

HOOKS = ("pre-commit", "pre-merge-commit", "prepare-commit-msg")
MARKER = "# autoresearch guard hook"
COMMANDS = {
    "pre-commit": (
        "guard commit",
        "refuses commits that break the file rules of program.md (FROZEN,\n# GLOBAL, APPEND-ONLY)",
    ),
    "pre-merge-commit": (
        "guard commit",
        "refuses commits that break the file rules of program.md (FROZEN,\n# GLOBAL, APPEND-ONLY)",
    ),
    "prepare-commit-msg": (
        'hooks meta-trailer "$@"',
        "signs a Meta-Mode trailer into a commit that changes FROZEN\n# files while META_MODE is on (`autoresearch check` audits it)",
    ),
}


def hook_script(name: str, python: str) -> str:
    py = shlex.quote(python)
    command, does = COMMANDS[name]
    return f"""#!/bin/sh
{MARKER}: {does}. Written by `autoresearch hooks install`; run that again to update it.
# A {name} hook that was here before is kept as {name}.user and runs after this one.
if [ -x {py} ]; then
  {py} -m autoresearch {command} || exit $?
elif command -v autoresearch >/dev/null 2>&1; then
  autoresearch {command} || exit $?
else
  echo "autoresearch {name} hook: neither "{py}" nor autoresearch on PATH; run bash setup.sh in the project root" >&2
  exit 1
fi
user="$(dirname "$0")/{name}.user"
if [ -x "$user" ]; then
  exec "$user" "$@"
fi
"""


def _git(checkout: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=checkout, capture_output=True, text=True)


def install(start: Path | None = None, python: str | None = None) -> int:
    """Install or update the hooks; print one line per hook. 0 when done (or nothing to do), 1 when refused."""
    try:
        project = Project.find(start)
    except NotAProject:
        print(
            f"hooks: {(start or Path.cwd()).resolve()} is not a git repository, so no git hooks were installed; after `git init`, run `autoresearch hooks install`"
        )
        return 0
    try:
        Config.load(project)
    except ConfigError:
        print(
            f"hooks: {project.root} is a git repository but not an autoresearch project (no [tool.autoresearch] in its pyproject.toml), so no hooks were installed"
        )
        return 0
    hooks_path = _git(project.checkout, "config", "--show-origin", "--get", "core.hooksPath")
    if hooks_path.returncode == 0:
        origin, _, value = hooks_path.stdout.strip().partition("\t")
        raise UserError(
            f"core.hooksPath is set to {value} ({origin}), so git ignores .git/hooks and the guard hooks were not installed; "
            f"unset it (`git config --unset core.hooksPath` where it is set) and run `autoresearch hooks install` again, "
            f"or call `{shlex.quote(python or sys.executable)} -m autoresearch guard commit` from your own pre-commit hook"
        )
    hooks_dir = _hooks_dir(project)
    hooks_dir.mkdir(exist_ok=True)
    for name in HOOKS:
        print(f"hooks: {_install_one(hooks_dir / name, hook_script(name, python or sys.executable))}")
    return 0


def status(start: Path | None = None) -> int:
    """Print which guard hooks are in place; 0 when all are."""
    project = Project.find(start)
    ok = True
    hooks_path = _git(project.checkout, "config", "--get", "core.hooksPath")
    if hooks_path.returncode == 0:
        print(
            f"core.hooksPath is {hooks_path.stdout.strip()}: git runs none of the hooks below (see `autoresearch hooks install`)"
        )
        ok = False
    hooks_dir = _hooks_dir(project)
    for name in HOOKS:
        path = hooks_dir / name
        text = path.read_text(errors="replace") if path.exists() else ""
        if MARKER in text and os.access(path, os.X_OK):
            chained = f"; then runs your {name}.user" if (hooks_dir / f"{name}.user").exists() else ""
            print(f"{name}: installed ({path}){chained}")
        else:
            ok = False
            print(
                f"{name}: {'not the autoresearch hook' if text else 'missing'} ({path}); run `autoresearch hooks install`"
            )
    settings = project.checkout / ".claude" / "settings.json"
    if settings.exists() and "guard agent" in settings.read_text(encoding="utf-8"):
        print(f"Claude Code hook: registered in {settings}")
    else:
        ok = False
        print(
            f"Claude Code hook: not registered ({settings} has no `autoresearch guard agent`); restore it with `git checkout .claude/settings.json`"
        )
    return 0 if ok else 1


def missing(project: Project) -> list[str]:
    """What keeps the guard hooks from running: a line per problem, [] when all are in place."""
    hooks_path = _git(project.checkout, "config", "--get", "core.hooksPath")
    if hooks_path.returncode == 0:
        return [f"core.hooksPath is set to {hooks_path.stdout.strip()}, so git runs none of the guard hooks"]
    hooks_dir = _hooks_dir(project)
    out = []
    for name in HOOKS:
        path = hooks_dir / name
        if not (path.exists() and MARKER in path.read_text(errors="replace") and os.access(path, os.X_OK)):
            out.append(f"the git {name} guard hook is {'not ours' if path.exists() else 'missing'} ({path})")
    return out


def _hooks_dir(project: Project) -> Path:
    common = _git(project.checkout, "rev-parse", "--git-common-dir")
    if common.returncode != 0:
        raise UserError(f"git rev-parse --git-common-dir failed in {project.checkout}: {common.stderr.strip()}")
    return (project.checkout / common.stdout.strip()).resolve() / "hooks"


def _install_one(path: Path, text: str) -> str:
    user = path.with_name(path.name + ".user")
    if path.exists() or path.is_symlink():
        current = path.read_text(errors="replace") if path.exists() else ""
        if MARKER in current:
            if current == text:
                return f"{path} already installed"
            _write_executable(path, text)
            return f"{path} updated"
        if user.exists() or user.is_symlink():
            raise UserError(
                f"{path} is not ours and {user} exists too, so neither was touched; merge them into {user} by hand, "
                f"delete {path}, and run `autoresearch hooks install` again"
            )
        os.rename(path, user)
        _write_executable(path, text)
        return f"{path} installed; your previous hook is now {user.name} and runs after ours"
    _write_executable(path, text)
    return f"{path} installed"


def _write_executable(path: Path, text: str) -> None:
    write_atomic(path, text)
    path.chmod(0o755)


def meta_trailer(message_file: str, source: str = "", start: Path | None = None) -> int:
    """prepare-commit-msg: with META_MODE on, a commit whose FROZEN files differ from every parent gets a
    `Meta-Mode: <signature> <why>` trailer signed over the tree being committed (so typing one by hand, or
    copying one from another commit, does not verify). Older Meta-Mode lines in the message are replaced."""
    from autoresearch import audit, repo
    from autoresearch.metamode import meta_mode

    project = Project.find(start)
    mode = meta_mode(project)
    if not mode.on or not _changes_frozen(project, source):
        return 0
    checkout = project.checkout
    tree = repo.git(
        checkout, "write-tree"
    )  # the index being committed (git sets GIT_INDEX_FILE for `commit -a` and paths)
    path = checkout / message_file
    kept = [
        line
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
        if not line.startswith(f"{audit.TRAILER}:")
    ]
    path.write_text("".join(kept), encoding="utf-8")
    repo.run(
        checkout,
        "interpret-trailers",
        "--in-place",
        "--trailer",
        audit.trailer_line(project, tree, mode.why),
        str(path),
    )
    return 0


def _changes_frozen(project: Project, source: str) -> bool:
    """Whether the staged commit changes FROZEN files relative to every parent (by main's taxonomy or the staged one)."""
    from autoresearch import repo

    checkout = project.checkout
    if source == "commit":
        return True  # --amend, -c, -C: the parents are not known here; a spare trailer costs nothing
    parents = ["HEAD"] if repo.rev_exists(checkout, "HEAD") else []
    merge_head = checkout / repo.git(checkout, "rev-parse", "--git-path", "MERGE_HEAD")
    if merge_head.exists():
        parents += merge_head.read_text().split()
    taxonomies = [Config.committed(project).taxonomy]
    staged = repo.read_blobs(checkout, [":pyproject.toml"])[":pyproject.toml"]
    if staged:
        with contextlib.suppress(
            ConfigError
        ):  # unreadable: main's taxonomy decides; the pre-commit hook refused it already
            taxonomies.append(Config.from_text(staged.decode("utf-8", "replace")).taxonomy)
    if not parents:
        return True
    return all(
        any(
            t.is_frozen(rel)
            for rel in repo.lines(checkout, "diff-index", "--cached", "--name-only", "--no-renames", "-z", parent)
            for t in taxonomies
        )
        for parent in parents
    )
