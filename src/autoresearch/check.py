"""`autoresearch check`: the whole project against the file rules and the record's integrity, after the fact.

Violations (exit 1, one line each, naming the file or the commit and the rule, with the fix):
- a FROZEN file that differs from main's committed copy while META_MODE is off, in the root and in
  every worktree (a worktree whose copy only lags behind main gets a warning: merge main, advised only
  while main's FROZEN history is authorised);
- a commit reachable from main that changed FROZEN files without a valid `Meta-Mode:` trailer (the
  prepare-commit-msg hook signs one when META_MODE is on), merges and fast-forwards included;
- results.tsv not append-only: a commit whose version does not keep its parent's as a prefix, or a
  working copy that does not keep HEAD's; a row without a valid signature (not written by eval.py);
  a row whose commit exists nowhere; a run folder whose row is missing; a file that does not parse;
- a journal whose committed entries were changed, removed or reordered (working copy or history);
- a GLOBAL file changed in a worktree, or by the commits of a branch that main does not have.
A violation tied to a past commit cannot be undone: the researcher settles it with a line
`acknowledge: <commit> <why>` in a human_journal.md entry, after which it is a note.
Warnings (exit 0): rows signed on another machine, rows whose eval_hash matches no authorised version
of the FROZEN files, a validation split that changed within a profile, `{FILL_IN` placeholders left in
program.md or 0_docs/problem.md, and git guard hooks that are missing. Usage:

    autoresearch check                          (or: just check)
    autoresearch check --restore-rows           (append the rows of run folders that results.tsv lacks)
    autoresearch check --repair RESEARCH_JOURNAL.md   (put back journal entries that main's history edited)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from autoresearch import audit, repo
from autoresearch.audit import Break
from autoresearch.config import Config
from autoresearch.metamode import meta_mode
from autoresearch.paths import RESULTS
from autoresearch.rules import WHERE

if TYPE_CHECKING:
    from autoresearch.paths import Project
    from autoresearch.taxonomy import Taxonomy

PLACEHOLDER = "{FILL_IN"
PLACEHOLDER_FILES = ("program.md", "0_docs/problem.md")
RESTORE = "drop the uncommitted rows with `git checkout results.tsv`, then `autoresearch check --restore-rows` puts back the genuine ones from their run folders"


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
    config = Config.committed(project)
    tax, main = config.taxonomy, config.main_branch
    found = Findings()
    if not repo.rev_exists(root, main):
        found.violations.append(
            f"{root}: the main branch {main!r} has no commit; commit the template on it first ([tool.autoresearch] main_branch)"
        )
        return found
    mode = meta_mode(project)
    if mode.on:
        found.notes.append(
            f"META_MODE is on ({mode.why}): FROZEN files may change; turn it off with a new human_journal.md entry"
        )
    try:
        hist = audit.History.load(project, config)
    except audit.AuditError as e:
        found.violations.append(str(e))
        return found
    cache = audit.Cache.load(project)
    if cache.note:
        found.warnings.append(cache.note)
    acks, ack_warnings = audit.acknowledgements(project)
    frozen = audit.frozen_history(hist, config, cache)
    unsettled = [b for b in frozen.breaks if b.commit not in acks]
    checkouts = [
        Checkout(wt.path, wt.branch, _label(wt.path.resolve(), root.resolve()))
        for wt in repo.worktrees(root)
        if wt.path.exists()
    ]
    for co in checkouts:
        _check_frozen(co, tax, main, mode.on, not unsettled, found)
    breaks = list(frozen.breaks)
    breaks += _check_journals(project, hist, cache, found)
    _check_global(root, checkouts, tax, main, found)
    versions = frozen.versions + [b.commit for b in frozen.breaks if b.commit in acks]
    breaks += _check_results(project, config, hist, cache, versions, mode.on, found)
    _settle(breaks, acks, found)
    found.warnings += ack_warnings
    _check_placeholders(root, found)
    _check_hooks(project, found)
    cache.save()
    return found


def _settle(breaks: list[Break], acks: dict[str, audit.Acknowledgement], found: Findings) -> None:
    """A violation tied to a past commit stays one until the researcher acknowledges that commit."""
    for b in dict.fromkeys(breaks):
        ack = acks.get(b.commit)
        if ack is None:
            found.violations.append(f"{b.text}; {b.fix}{audit.acknowledge_advice(b.commit)}")
        else:
            found.notes.append(f"acknowledged in human_journal.md ('{ack.entry}': {ack.why}): {b.text}")


def _label(path: Path, root: Path) -> str:
    if path == root:
        return "root"
    return path.relative_to(root).as_posix() if root in path.parents else str(path)


def _prefix(co: Checkout, rel: str) -> str:
    return rel if co.label == "root" else f"{co.label}/{rel}"


def _git_c(co: Checkout) -> str:
    return "git" if co.label == "root" else f"git -C {co.label}"


def _check_frozen(co: Checkout, tax: Taxonomy, main: str, meta_on: bool, main_trusted: bool, found: Findings) -> None:
    from autoresearch.taxonomy import git_pathspecs

    specs = git_pathspecs(tax.frozen)
    changed = repo.lines(co.path, "diff", "--no-ext-diff", "--no-textconv", "--name-only", "-z", main, "--", *specs)
    untracked = repo.lines(co.path, "ls-files", "-z", "--others", "--exclude-standard", "--", *specs)
    frozen = sorted({p for p in changed + untracked if tax.is_frozen(p)})
    if not frozen or meta_on:
        return
    lagging: set[str] = set()
    if co.label != "root":
        base = repo.merge_base(co.path, main, "HEAD")
        if base and base != repo.git(co.path, "rev-parse", main):
            blobs = repo.read_blobs(co.path, [f"{base}:{p}" for p in frozen])
            lagging = {p for p in frozen if blobs[f"{base}:{p}"] == _disk(co.path / p)}
    on_main = repo.read_blobs(co.path, [f"{main}:{p}" for p in frozen])
    for rel in frozen:
        if rel in lagging:
            advice = (
                f"merge main into it (`{_git_c(co)} merge {main}`)"
                if main_trusted
                else f"but {main} has FROZEN changes made without META_MODE (above): do not merge it until the researcher has settled them"
            )
            found.warnings.append(
                f"{_prefix(co, rel)}: main changed this FROZEN file since {co.branch or 'this worktree'} branched off; runs there use the old harness: {advice}"
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


def _check_journals(project: Project, hist: audit.History, cache: audit.Cache, found: Findings) -> list[Break]:
    from autoresearch.journal import JOURNALS, verify

    tax = Config.committed(project).taxonomy
    breaks = []
    for name in JOURNALS.values():
        history = audit.journal_history(hist, name, cache)
        found.notes += history.repaired
        meta = " with META_MODE on (it is FROZEN)" if tax.is_frozen(name) else ""
        fix = f"put it back with `autoresearch check --repair {name}` and commit that{meta}; or, to keep it as it is: "
        breaks += [Break(b.commit, b.text, fix) for b in history.breaks]
        committed = repo.read_blobs(hist.root, [f"{hist.main}:{name}"])[f"{hist.main}:{name}"]
        if committed is None:
            continue
        path = project.root / name
        if not path.exists():
            found.violations.append(
                f"{name}: APPEND-ONLY: deleted; restore it with `git checkout {hist.branch} -- {name}`"
            )
            continue
        disk = path.read_text(encoding="utf-8", errors="replace")
        problems = verify(committed.decode("utf-8", "replace"), disk, name)
        if problems and history.breaks and history.base is not None and not verify(history.base, disk, name):
            problems = []  # the working copy is the repair of main's history: commit it
        for problem in problems:
            found.violations.append(problem.replace(f"{name}: ", f"{name}: APPEND-ONLY: ", 1))
    return breaks


def _check_global(root: Path, checkouts: list[Checkout], tax: Taxonomy, main: str, found: Findings) -> None:
    for co in checkouts:
        if co.label == "root":
            continue
        for rel in repo.lines(co.path, "diff", "--no-ext-diff", "--name-only", "-z", "HEAD"):
            if tax.is_global(rel):
                found.violations.append(
                    f"{_prefix(co, rel)}: GLOBAL ({WHERE}): changed in a worktree, but the record lives in the root copy; "
                    f"undo it with `{_git_c(co)} checkout HEAD -- {rel}`"
                )
    worktree_of = {co.branch: co for co in checkouts if co.branch}
    branches = _touching_global(root, checkouts, tax, main)
    for branch in sorted(branches):
        for rel in repo.lines(root, "diff", "--no-ext-diff", "--name-only", "-z", f"{main}...{branch}"):
            if tax.is_global(rel):
                tree = worktree_of.get(branch)
                where = (
                    f"in {tree.label}: `git checkout $(git merge-base {main} HEAD) -- {rel}`"
                    if tree and tree.label != "root"
                    else (
                        f"on the branch: `git checkout {branch} && git checkout $(git merge-base {main} HEAD) -- {rel}`"
                    )
                )
                found.violations.append(
                    f"{rel}: GLOBAL ({WHERE}): changed by the commits of {branch}, which is committed only from {main}; "
                    f"undo it {where}, then commit"
                )


def _touching_global(root: Path, checkouts: list[Checkout], tax: Taxonomy, main: str) -> set[str]:
    """The exp/ and worktree branches that main has not merged whose own commits touch GLOBAL files (three git
    commands however many branches there are; the caller diffs only these)."""
    from autoresearch.taxonomy import git_pathspecs

    ours = {co.branch for co in checkouts if co.branch and co.label != "root"}
    unmerged = repo.git(root, "for-each-ref", "--no-merged", main, "--format=%(refname:short)", "refs/heads/").split()
    branches = [b for b in unmerged if (b.startswith("exp/") or b in ours) and b != main]
    if not branches:
        return set()
    commits = repo.git(root, "log", "--format=%H", *branches, "--not", main, "--", *git_pathspecs(tax.global_)).split()
    if not commits:
        return set()
    containing = repo.git(
        root, "for-each-ref", "--format=%(refname:short)", *[f"--contains={c}" for c in commits], "refs/heads/"
    ).split()
    return set(branches) & set(containing)


def _check_results(
    project: Project,
    config: Config,
    hist: audit.History,
    cache: audit.Cache,
    versions: list[str],
    meta_on: bool,
    found: Findings,
) -> list[Break]:
    from autoresearch.results import ResultsError, read

    root, path = project.root, project.results
    content = path.read_bytes() if path.exists() else None
    head = repo.batch_check(root, [f"HEAD:{RESULTS}"])[f"HEAD:{RESULTS}"]
    keeps_head = head is None or (
        content is not None and audit.prefixes_of(content, {head.id: head.size}, repo.object_format(root))[head.id]
    )
    if content is None and head is not None:
        found.violations.append(
            "results.tsv: deleted, but it is committed and append-only; restore it with `git checkout results.tsv`"
        )
    elif not keeps_head:
        assert head is not None and content is not None
        old = repo.read_blobs(root, [head.id])[head.id] or b""
        found.violations.append(
            f"results.tsv: the working copy {audit.first_difference(old, content).replace('the version before it', 'HEAD')}: "
            f"it is append-only (GLOBAL: written only by eval.py); restore the committed rows with `git checkout results.tsv`, "
            "then `autoresearch check --restore-rows` puts back the rows made since from their run folders"
        )
    history = audit.results_history(hist, cache, content if keeps_head else None)
    breaks = list(history.breaks)
    if not content:
        return breaks
    try:
        record = read(path, config.metric)
    except ResultsError as e:
        found.violations.append(f"{str(e).replace(str(path), path.name)} (GLOBAL: written only by eval.py)")
        return breaks
    verified = head.size if head is not None and keeps_head and f"sigs-ok {head.id}" in cache else 0
    rows = audit.audit_rows(project, content, record.df, verified)
    unsigned = [p.offset for p in rows.problems if p.kind != "no-commit"] + [o for _, o in rows.unknown_key]
    if head is not None and keeps_head and all(o >= head.size for o in unsigned):
        cache.add(f"sigs-ok {head.id}")
    breaks += _row_problems(hist, rows.problems, found)
    if rows.unknown_key:
        from autoresearch.signing import key_dir

        found.warnings.append(
            f"results.tsv: {_lines([n for n, _ in rows.unknown_key])} {_are(rows.unknown_key)} signed with a key this machine does not have: "
            f"made on another machine (copy its key file into {key_dir()} to verify them), or forged with an invented key id "
            "(if every eval ran on this machine, they are forged)"
        )
    unknown = set(rows.eval_hashes)
    if unknown:
        unknown -= audit.eval_hashes(hist, config, versions, cache)
    if unknown and meta_on:
        from autoresearch.fingerprints import frozen_hash

        unknown.discard(frozen_hash(root, config))
    for h in sorted(unknown):
        found.warnings.append(
            f"results.tsv: {_lines(rows.eval_hashes[h])} {'has' if len(rows.eval_hashes[h]) == 1 else 'have'} eval_hash {h}, which matches no authorised version of the FROZEN files "
            f"on {config.main_branch} (one committed in META_MODE, or older than audit_since): made by a modified harness, so do not trust them; "
            "rerun those commits from a clean checkout"
        )
    missing = audit.missing_run_rows(project, rows.runs)
    if missing:
        shown = ", ".join(rel for rel, _ in missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        found.violations.append(
            f"results.tsv: {len(missing)} run folder{'s' * (len(missing) > 1)} ({shown}) hold{'s' * (len(missing) == 1)} a row that results.tsv lacks: "
            "put the rows back with `autoresearch check --restore-rows`"
        )
    _check_splits(record.df, found)
    return breaks


ROW_PROBLEMS = {
    "forged": "the signature does not match the row: eval.py did not write it as it stands (typed in by hand, appended by a shell command or by the training code)",
    "unsigned": "no signature: eval.py did not write it (typed in by hand, appended by a shell command or by the training code)",
}


def _row_problems(hist: audit.History, problems: list[audit.RowProblem], found: Findings) -> list[Break]:
    if not problems:
        return []
    owners = audit.committed_by(hist, [p.offset for p in problems])
    groups: dict[tuple[str, str, str | None], list[int]] = {}
    for p, owner in zip(problems, owners):
        groups.setdefault((p.kind, p.detail, owner), []).append(p.line)
    breaks = []
    for (kind, detail, owner), lines in groups.items():
        what = ROW_PROBLEMS.get(kind) or (
            f"its commit {detail} exists nowhere in this repository: the row was not made here, or its commit was lost (a branch deleted, then garbage-collected)"
            if detail
            else "no commit: eval.py always records one"
        )
        if owner is None:
            found.violations.append(f"results.tsv {_lines(lines)}: {what}; not committed yet: {RESTORE}")
        else:
            breaks.append(Break(owner, f"results.tsv {_lines(lines)}: {what}; committed by {hist.name(owner)}"))
    return breaks


def _check_splits(df, found: Findings) -> None:
    import polars as pl

    df = df.with_columns((pl.col("row") + 1).alias("line"))
    for (profile,), group in df.filter(pl.col("val_hash").is_not_null()).group_by("profile"):
        by_hash = group.group_by("val_hash").agg(pl.col("line").min().alias("first")).sort("first")
        if by_hash.height > 1:
            split = ", ".join(f"{h} from line {n}" for h, n in by_hash.iter_rows())
            found.warnings.append(
                f"results.tsv: profile {profile} has {by_hash.height} validation splits ({split}): "
                "the metric across them is not comparable; compare only rows with the same val_hash"
            )


def _lines(lines: list[int]) -> str:
    shown = ", ".join(map(str, lines[:8])) + (f" and {len(lines) - 8} more" if len(lines) > 8 else "")
    return f"line {shown}" if len(lines) == 1 else f"{len(lines)} rows (lines {shown})"


def _are(items: list) -> str:
    return "is" if len(items) == 1 else "are"


def _check_hooks(project: Project, found: Findings) -> None:
    from autoresearch.hooks import missing

    for problem in missing(project):
        found.warnings.append(f"{problem}: commits are not checked; run `autoresearch hooks install`")


def _check_placeholders(root: Path, found: Findings) -> None:
    for rel in PLACEHOLDER_FILES:
        path = root / rel
        if not path.exists():
            continue
        lines = [
            n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if PLACEHOLDER in line
        ]
        if lines:
            found.warnings.append(
                f"{rel}: {PLACEHOLDER}...}} placeholder{'s' * (len(lines) > 1)} left on line{'s' * (len(lines) > 1)} "
                f"{', '.join(map(str, lines))}: describe your problem there before the first real experiment (META_MODE)"
            )
