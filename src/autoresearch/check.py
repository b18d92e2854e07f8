"""`autoresearch check`: the whole project against the file rules and the record's integrity, after the fact.

Violations (exit 1, one line each, naming the file and the rule, with the fix):
- a FROZEN file that differs from main's committed copy while META_MODE is off, in the root and in
  every worktree (a worktree whose copy only lags behind main gets a warning: merge main);
- a journal whose committed entries were changed, removed or reordered, in the working copy or in
  any commit of main's history (a commit that skipped the hook);
- a GLOBAL file changed in a worktree, or by the commits of a branch that main does not have;
- a results.tsv whose header or rows do not parse.
Warnings (exit 0): results rows whose eval_hash matches no committed version of the frozen files
(made by a modified harness; rows made before a META_MODE change still match their commit), a
validation split that changed within a profile, `{FILL_IN` placeholders left in program.md or
0_docs/problem.md, and git guard hooks that are missing. Usage:

    autoresearch check          (or: just check)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from autoresearch.metamode import meta_mode
from autoresearch.rules import WHERE, load_taxonomy, read_blobs, rev_exists, run_git, taxonomy_from_text

if TYPE_CHECKING:
    from autoresearch.paths import Project
    from autoresearch.taxonomy import Taxonomy

PLACEHOLDER = "{FILL_IN"
PLACEHOLDER_FILES = ("program.md", "0_docs/problem.md")


@dataclass
class Findings:
    violations: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Checkout:
    path: Path
    branch: str
    """'' when detached"""
    label: str
    """how messages name it: 'root' or '5_worktrees/slug'"""


def run_checks(project: Project) -> Findings:
    root = project.root
    tax = load_taxonomy(project)
    main = tax.main_branch
    found = Findings()
    if not rev_exists(root, main):
        found.violations.append(f"{root}: the main branch {main!r} has no commit; commit the template on it first ([tool.autoresearch] main_branch)")
        return found
    mode = meta_mode(project)
    if mode.on:
        found.notes.append(f"META_MODE is on ({mode.why}): FROZEN files may change; turn it off with a new human_journal.md entry")
    checkouts = _checkouts(root)
    for co in checkouts:
        _check_frozen(co, tax, main, mode.on, found)
    _check_journals(root, main, found)
    _check_global(root, checkouts, tax, main, found)
    _check_results(project, tax, main, mode.on, found)
    _check_placeholders(root, found)
    _check_hooks(project, found)
    return found


def print_check(project: Project) -> int:
    found = run_checks(project)
    for line in found.notes:
        print(f"note: {line}")
    for line in found.violations:
        print(line)
    for line in found.warnings:
        print(f"warning: {line}")
    if found.violations:
        print(f"check: {len(found.violations)} violation{'s' * (len(found.violations) != 1)}")
        return 1
    print("check: ok" + (f" ({len(found.warnings)} warning{'s' * (len(found.warnings) != 1)})" if found.warnings else ""))
    return 0


def _checkouts(root: Path) -> list[Checkout]:
    """The root and every worktree git knows whose folder exists."""
    out, path, branch = [], None, ""
    for line in run_git(root, "worktree", "list", "--porcelain").splitlines() + [""]:
        if line.startswith("worktree "):
            path = Path(line.removeprefix("worktree "))
        elif line.startswith("branch "):
            branch = line.removeprefix("branch refs/heads/")
        elif not line and path is not None:
            if path.exists():
                out.append(Checkout(path, branch, _label(path.resolve(), root.resolve())))
            path, branch = None, ""
    return out


def _label(path: Path, root: Path) -> str:
    if path == root:
        return "root"
    return path.relative_to(root).as_posix() if root in path.parents else str(path)


def _prefix(co: Checkout, rel: str) -> str:
    return rel if co.label == "root" else f"{co.label}/{rel}"


def _git_c(co: Checkout) -> str:
    return "git" if co.label == "root" else f"git -C {co.label}"


def _check_frozen(co: Checkout, tax: Taxonomy, main: str, meta_on: bool, found: Findings) -> None:
    changed = run_git(co.path, "diff", "--no-ext-diff", "--no-textconv", "--name-only", "-z", main).split("\0")
    untracked = run_git(co.path, "ls-files", "-z", "--others", "--exclude-standard").split("\0")
    frozen = sorted({p for p in changed + untracked if p and tax.is_frozen(p)})
    if not frozen or meta_on:
        return
    lagging: set[str] = set()
    if co.label != "root":
        base = run_git(co.path, "merge-base", main, "HEAD", ok=(0, 1)).strip()
        if base and base != run_git(co.path, "rev-parse", main).strip():
            blobs = read_blobs(co.path, [f"{base}:{p}" for p in frozen])
            lagging = {p for p in frozen if blobs[f"{base}:{p}"] == _disk(co.path / p)}
    on_main = read_blobs(co.path, [f"{main}:{p}" for p in frozen])
    for rel in frozen:
        if rel in lagging:
            found.warnings.append(
                f"{_prefix(co, rel)}: main changed this FROZEN file since {co.branch or 'this worktree'} branched off; "
                f"runs there use the old harness: merge main into it (`{_git_c(co)} merge {main}`)"
            )
        elif on_main[f"{main}:{rel}"] is None:
            found.violations.append(
                f"{_prefix(co, rel)}: FROZEN ({WHERE}): a new file that {main} does not have, and META_MODE is off; "
                f"remove it (and `{_git_c(co)} rm --cached {rel}` if it was committed)"
            )
        else:
            found.violations.append(
                f"{_prefix(co, rel)}: FROZEN ({WHERE}): differs from {main}'s committed copy and META_MODE is off; "
                f"undo it with `{_git_c(co)} checkout {main} -- {rel}`"
            )


def _disk(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def _check_journals(root: Path, main: str, found: Findings) -> None:
    from autoresearch.journal import JOURNALS, verify

    for name in JOURNALS.values():
        commits = run_git(root, "log", "--first-parent", "--format=%H", main, "--", name).split()
        blobs = read_blobs(root, [f"{c}:{name}" for c in commits])
        versions = [(c, blobs[f"{c}:{name}"]) for c in reversed(commits)]  # oldest first
        for (_, older), (c, newer) in zip(versions, versions[1:]):
            if older is None:
                continue
            for problem in verify(older.decode("utf-8", "replace"), (newer or b"").decode("utf-8", "replace"), name):
                found.violations.append(
                    f"{problem.split(';')[0]} by commit {c[:8]} on {main} (APPEND-ONLY; the commit skipped the hook): "
                    f"put the old entry back from `git show {c[:8]}~1:{name}` in a new commit"
                )
        committed = versions[-1][1] if versions else None
        path = root / name
        if committed is None:
            continue
        if not path.exists():
            found.violations.append(f"{name}: APPEND-ONLY: deleted; restore it with `git checkout {main} -- {name}`")
            continue
        for problem in verify(committed.decode("utf-8", "replace"), path.read_text(encoding="utf-8", errors="replace"), name):
            found.violations.append(problem.replace(f"{name}: ", f"{name}: APPEND-ONLY: ", 1))


def _check_global(root: Path, checkouts: list[Checkout], tax: Taxonomy, main: str, found: Findings) -> None:
    for co in checkouts:
        if co.label == "root":
            continue
        for rel in run_git(co.path, "diff", "--no-ext-diff", "--name-only", "-z", "HEAD").split("\0"):
            if rel and tax.is_global(rel):
                found.violations.append(
                    f"{_prefix(co, rel)}: GLOBAL ({WHERE}): changed in a worktree, but the record lives in the root copy; "
                    f"undo it with `{_git_c(co)} checkout HEAD -- {rel}`"
                )
    worktree_of = {co.branch: co for co in checkouts if co.branch}
    branches = set(run_git(root, "for-each-ref", "--format=%(refname:short)", "refs/heads/exp/").split())
    branches |= {co.branch for co in checkouts if co.branch and co.label != "root"}
    for branch in sorted(branches - {main}):
        for rel in run_git(root, "diff", "--no-ext-diff", "--name-only", "-z", f"{main}...{branch}").split("\0"):
            if rel and tax.is_global(rel):
                co = worktree_of.get(branch)
                where = f"in {co.label}: `git checkout $(git merge-base {main} HEAD) -- {rel}`" if co and co.label != "root" else (
                    f"on the branch: `git checkout {branch} && git checkout $(git merge-base {main} HEAD) -- {rel}`"
                )
                found.violations.append(
                    f"{rel}: GLOBAL ({WHERE}): changed by the commits of {branch}, which is committed only from {main}; "
                    f"undo it {where}, then commit"
                )


def _check_results(project: Project, tax: Taxonomy, main: str, meta_on: bool, found: Findings) -> None:
    import polars as pl

    from autoresearch.results import ResultsError, read_results

    try:
        df = read_results(project.results)
    except ResultsError as e:
        found.violations.append(f"{e} (GLOBAL: written only by eval.py)")
        return
    if df.height == 0:
        return
    df = df.with_row_index("line", offset=2)
    hashes = set(df.filter(pl.col("eval_hash").is_not_null() & (pl.col("eval_hash") != ""))["eval_hash"].unique().to_list())
    if hashes:
        known = known_frozen_hashes(project.root, tax, main, include_disk=meta_on)
        for h in sorted(hashes - known):
            lines = df.filter(pl.col("eval_hash") == h)["line"].to_list()
            found.warnings.append(
                f"results.tsv: {_lines(lines)} have eval_hash {h}, which matches no committed version of the FROZEN files on {main}: "
                "made by a modified harness, so do not trust them; rerun those commits from a clean checkout"
            )
    for (profile,), group in df.filter(pl.col("val_hash").is_not_null()).group_by("profile"):
        by_hash = group.group_by("val_hash").agg(pl.col("line").min().alias("first")).sort("first")
        if by_hash.height > 1:
            split = ", ".join(f"{h} from line {n}" for h, n in by_hash.iter_rows())
            found.warnings.append(
                f"results.tsv: profile {profile} has {by_hash.height} validation splits ({split}): "
                "val_bpb across them is not comparable; compare only rows with the same val_hash"
            )


def _lines(lines: list[int]) -> str:
    shown = ", ".join(map(str, lines[:8])) + (f" and {len(lines) - 8} more" if len(lines) > 8 else "")
    return f"line {shown}" if len(lines) == 1 else f"{len(lines)} rows (lines {shown})"


def known_frozen_hashes(root: Path, tax: Taxonomy, main: str, include_disk: bool = False) -> set[str]:
    """The eval_hash of every version of the frozen files committed on main (and of the root's files when asked).

    Each version is hashed as gitinfo.frozen_hash does, once with main's current taxonomy and once
    with the taxonomy of that commit, because a harness hashes with the pyproject.toml it runs with.
    """
    from autoresearch import gitinfo

    known = {gitinfo.frozen_hash(root, tax)} if include_disk else set()
    pathspecs = [f":(glob){p}" for p in tax.frozen] + ["pyproject.toml"]
    commits = run_git(root, "log", "--format=%H", main, "--", *pathspecs).split()
    trees = {c: _tree(root, c) for c in commits}
    pyprojects = read_blobs(root, [tree["pyproject.toml"] for tree in trees.values() if "pyproject.toml" in tree])
    wanted: dict[str, list[tuple[str, str]]] = {}
    for c, tree in trees.items():
        own = taxonomy_from_text((pyprojects.get(tree.get("pyproject.toml", "")) or b"").decode("utf-8", "replace"))
        for t in {tax, own} - {None}:
            files = sorted(p for p in tree if t.is_frozen(p) and not t.is_append_only(p))
            wanted[f"{c}:{id(t)}"] = [(p, tree[p]) for p in files]
    contents = read_blobs(root, [sha for files in wanted.values() for _, sha in files])
    for files in wanted.values():
        h = hashlib.sha256()
        for rel, sha in files:
            h.update(rel.encode() + b"\0" + (contents[sha] or b"") + b"\0")
        known.add(h.hexdigest()[:12])
    return known


def _tree(root: Path, commit: str) -> dict[str, str]:
    """path -> blob sha of every file in the commit."""
    out = {}
    for entry in run_git(root, "ls-tree", "-r", "-z", "--full-tree", commit).split("\0"):
        if entry:
            meta, _, path = entry.partition("\t")
            mode, kind, sha = meta.split()
            if kind == "blob":
                out[path] = sha
    return out


def _check_hooks(project: Project, found: Findings) -> None:
    from autoresearch.hooks import missing

    for problem in missing(project):
        found.warnings.append(f"{problem}: commits are not checked; run `autoresearch hooks install`")


def _check_placeholders(root: Path, found: Findings) -> None:
    for rel in PLACEHOLDER_FILES:
        path = root / rel
        if not path.exists():
            continue
        lines = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if PLACEHOLDER in line]
        if lines:
            found.warnings.append(
                f"{rel}: {PLACEHOLDER}...}} placeholder{'s' * (len(lines) > 1)} left on line{'s' * (len(lines) > 1)} "
                f"{', '.join(map(str, lines))}: describe your problem there before the first real experiment (META_MODE)"
            )
