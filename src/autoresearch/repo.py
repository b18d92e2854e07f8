"""The one layer over git: every git command the toolkit runs goes through `git()` here.

Plain `git` subprocesses rather than GitPython: GitPython runs the same git commands underneath, and
importing it costs more than a whole bookkeeping command may take (measured in bench/cli_startup.py).
A failure is one `GitError` (a UserError) with git's own last line. Usage:

    from autoresearch import repo
    repo.git(root, "rev-parse", "--short", "HEAD")
    repo.read_blobs(root, ["main:eval.py", ":eval.py"])      # spec -> bytes, None when absent
    for wt in repo.worktrees(root): wt.path, wt.branch, wt.head
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from autoresearch.errors import UserError


class GitError(UserError):
    pass


def run(
    cwd: Path, *args: str, ok: tuple[int, ...] = (0,), input: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, input=input)
    if out.returncode not in ok:
        said = [line.strip() for line in out.stderr.decode(errors="replace").splitlines() if line.strip()]
        raise GitError(f"git {' '.join(args[:3])} failed in {cwd}: {said[-1] if said else f'exit {out.returncode}'}")
    return out


def git(cwd: Path, *args: str, ok: tuple[int, ...] = (0,)) -> str:
    """git's stdout, stripped."""
    return run(cwd, *args, ok=ok).stdout.decode(errors="replace").strip()


def lines(cwd: Path, *args: str) -> list[str]:
    """NUL-separated output (`-z`) as a list, empties dropped."""
    return [p for p in run(cwd, *args).stdout.decode(errors="replace").split("\0") if p]


def rev_exists(cwd: Path, rev: str) -> bool:
    return run(cwd, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", ok=(0, 1)).returncode == 0


def resolve(cwd: Path, rev: str, short: bool = True) -> str | None:
    """The commit `rev` names (short hash by default), or None."""
    out = run(cwd, "rev-parse", "--verify", "--quiet", *(["--short"] if short else []), f"{rev}^{{commit}}", ok=(0, 1))
    return out.stdout.decode().strip() or None


def branch(cwd: Path) -> str:
    """The checked-out branch, or '' when HEAD is detached."""
    return git(cwd, "symbolic-ref", "--short", "-q", "HEAD", ok=(0, 1))


def subject(cwd: Path, rev: str = "HEAD") -> str:
    return git(cwd, "log", "-1", "--format=%s", rev)


def merge_base(cwd: Path, a: str, b: str) -> str | None:
    out = git(cwd, "merge-base", a, b, ok=(0, 1))
    return out or None


def checkout_files(cwd: Path, pathspecs: Iterable[str] = ()) -> list[str]:
    """Tracked files and new files git does not ignore, that exist on disk, sorted."""
    found = lines(cwd, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *pathspecs)
    return sorted({f for f in found if (cwd / f).is_file()})


def tree_files(cwd: Path, rev: str) -> dict[str, str]:
    """path -> blob sha of every file in `rev`."""
    out: dict[str, str] = {}
    for entry in lines(cwd, "ls-tree", "-r", "-z", "--full-tree", rev):
        meta, _, path = entry.partition("\t")
        _, kind, sha = meta.split()
        if kind == "blob":
            out[path] = sha
    return out


def read_blobs(cwd: Path, specs: Iterable[str]) -> dict[str, bytes | None]:
    """Contents of `rev:path` / `:path` (staged) / blob-sha specs in one `git cat-file --batch`; None when absent."""
    wanted = list(dict.fromkeys(specs))
    if not wanted:
        return {}
    data = run(cwd, "cat-file", "--batch", input="".join(s + "\n" for s in wanted).encode()).stdout
    pos, found = 0, dict[str, bytes | None]()
    for spec in wanted:
        end = data.index(b"\n", pos)
        head = data[pos:end].split()
        pos = end + 1
        if len(head) != 3 or head[-1] in (b"missing", b"ambiguous"):
            found[spec] = None
            continue
        size = int(head[2])
        found[spec] = data[pos : pos + size] if head[1] == b"blob" else None
        pos += size + 1
    return found


def objects_exist(cwd: Path, revs: Iterable[str]) -> dict[str, bool]:
    """Whether each rev names a commit, in one `git cat-file --batch-check`."""
    wanted = list(dict.fromkeys(revs))
    if not wanted:
        return {}
    out = run(cwd, "cat-file", "--batch-check", input="".join(f"{r}^{{commit}}\n" for r in wanted).encode()).stdout
    answers = out.decode(errors="replace").splitlines()
    return {rev: not line.endswith(("missing", "ambiguous")) for rev, line in zip(wanted, answers)}


@dataclass(frozen=True)
class Worktree:
    path: Path
    head: str
    branch: str
    """'' when detached"""


def worktrees(cwd: Path) -> list[Worktree]:
    """`git worktree list --porcelain`, the main checkout first."""
    found, record = [], {}
    for line in [*git(cwd, "worktree", "list", "--porcelain").splitlines(), ""]:
        if line.strip():
            key, _, value = line.partition(" ")
            record[key] = value
        elif record:
            found.append(
                Worktree(
                    Path(record["worktree"]),
                    record.get("HEAD", ""),
                    record.get("branch", "").removeprefix("refs/heads/"),
                )
            )
            record = {}
    return found


def dirty(cwd: Path) -> bool:
    """Uncommitted changes, untracked files included."""
    return bool(git(cwd, "status", "--porcelain"))


def object_format(cwd: Path) -> str:
    """The repository's hash algorithm: sha1, or sha256."""
    return git(cwd, "rev-parse", "--show-object-format")


@dataclass(frozen=True)
class Object:
    id: str
    type: str
    size: int


def batch_check(cwd: Path, specs: Iterable[str]) -> dict[str, Object | None]:
    """`rev:path`, `rev^{commit}` or object-id specs -> (id, type, size) in one `git cat-file --batch-check`; None when missing."""
    wanted = list(dict.fromkeys(specs))
    if not wanted:
        return {}
    out = run(cwd, "cat-file", "--batch-check", input="".join(s + "\n" for s in wanted).encode()).stdout
    found: dict[str, Object | None] = {}
    for spec, line in zip(wanted, out.decode(errors="replace").splitlines()):
        parts = line.split()
        found[spec] = (
            Object(parts[0], parts[1], int(parts[2]))
            if len(parts) == 3 and parts[1] not in ("missing", "ambiguous")
            else None
        )
    return found


def missing_commits(cwd: Path, revs: Iterable[str]) -> set[str]:
    """The revs (e.g. short hashes) that name no commit here; an ambiguous short hash names at least one, so it is not missing."""
    wanted = list(dict.fromkeys(revs))
    if not wanted:
        return set()
    out = run(cwd, "cat-file", "--batch-check", input="".join(f"{r}^{{commit}}\n" for r in wanted).encode()).stdout
    return {rev for rev, line in zip(wanted, out.decode(errors="replace").splitlines()) if line.endswith(" missing")}


def rev_list_parents(cwd: Path, *args: str) -> list[tuple[str, tuple[str, ...]]]:
    """(commit, parents) for `git rev-list --parents ARGS`, in rev-list's order."""
    out = []
    for line in git(cwd, "rev-list", "--parents", *args).splitlines():
        ids = line.split()
        out.append((ids[0], tuple(ids[1:])))
    return out


def changed_paths(cwd: Path, pairs: Sequence[tuple[str, str | None]], pathspecs: Iterable[str] = ()) -> list[list[str]]:
    """For each (commit, parent) the paths under pathspecs that differ between them (parent None: against nothing),
    in one `git diff-tree --stdin`."""
    if not pairs:
        return []
    stdin = "".join(f"{c} {p}\n" if p else f"{c}\n" for c, p in pairs).encode()
    out = run(
        cwd,
        "diff-tree",
        "--stdin",
        "--root",
        "-r",
        "--no-renames",
        "--name-only",
        "--always",
        "-z",
        "--",
        *pathspecs,
        input=stdin,
    )
    tokens = out.stdout.decode(errors="replace").split("\0")
    result: list[list[str]] = []
    heads = iter(c for c, _ in pairs)
    expected: str | None = next(heads)
    for token in tokens:
        if token == expected:
            result.append([])
            expected = next(heads, None)
        elif token and result:
            result[-1].append(token)
    return result


def commit_messages(cwd: Path, commits: Iterable[str]) -> dict[str, tuple[str, str]]:
    """commit -> (tree id, whole message), in one `git log --no-walk --stdin`."""
    wanted = list(dict.fromkeys(commits))
    if not wanted:
        return {}
    out = run(
        cwd,
        "log",
        "--no-walk=unsorted",
        "--stdin",
        "-z",
        "--format=%H%x00%T%x00%B",
        input="".join(c + "\n" for c in wanted).encode(),
    )
    fields = out.stdout.decode(errors="replace").split("\0")
    return {fields[i]: (fields[i + 1], fields[i + 2]) for i in range(0, len(fields) - 2, 3)}
