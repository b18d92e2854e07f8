"""The audit of main's history and of the record: what `autoresearch check` proves after the fact.

- results.tsv is append-only: in every commit reachable from main, results.tsv keeps each parent's
  version as a byte prefix (`results_history`); every row carries the eval process's signature and
  names a commit that exists (`row_findings`); every run folder's row is in the file (`missing_run_rows`).
- FROZEN history: every commit reachable from main that changes a FROZEN file (a merge counts when
  its FROZEN files differ from every parent) carries a `Meta-Mode:` trailer that the prepare-commit-msg
  hook signs when META_MODE is on (`frozen_history`). The first commit, and the history up to
  `[tool.autoresearch] audit_since`, are exempt.
- Journals: an old entry edited in main's history is outstanding until a later commit puts it back
  (`journal_history`; `repaired_journal` writes the fix, `repairs_journal` lets the git hook accept it).
- Acknowledgements: a line `acknowledge: <commit> <why>` in a human_journal.md entry is the researcher
  accepting a past violation that cannot be undone (`acknowledgements`).

Facts once verified (a pair of results versions, a commit's trailer, a version's eval hash, the
signatures of a committed results version) are kept in the git common dir, signed with the project
key (`Cache`), so a repeated check reads only what is new. Domain code: it returns findings, check
prints them. Usage:

    hist = History.load(project, config)            # AuditError when main has no commit
    cache = Cache.load(project)
    results_history(hist, cache, disk_bytes).breaks; frozen_history(hist, config, cache).breaks
    cache.save()
"""

from __future__ import annotations

import bisect
import hashlib
import os
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from autoresearch import repo
from autoresearch.errors import UserError
from autoresearch.paths import RESULTS

if TYPE_CHECKING:
    import polars as pl

    from autoresearch.config import Config
    from autoresearch.paths import Project

TRAILER = "Meta-Mode"
SIGNATURE = re.compile(r"[0-9a-f]{8}:[0-9a-f]{32}")
"""signing.sign_with's shape: a malformed one is forged, not 'from another machine'"""
ACKNOWLEDGE = re.compile(r"\backnowledge:\s*([0-9a-f]{7,64})\b[\s:,.-]*(.*)$", re.MULTILINE)


class AuditError(UserError):
    pass


def short(commit: str) -> str:
    return commit[:8]


def acknowledge_advice(commit: str) -> str:
    """How the researcher accepts a past violation tied to `commit` (the history itself cannot change)."""
    c = short(commit)
    return (
        f"a commit cannot be undone: if you, the researcher, accept it, acknowledge it with "
        f'`just journal "acknowledge {c}" --journal human --observation "acknowledge: {c} <why>"`'
    )


@dataclass(frozen=True)
class Break:
    """A violation tied to one commit: only an acknowledgement naming that commit settles it."""

    commit: str
    text: str
    fix: str = ""
    """a repair that is possible besides the acknowledgement, ending with '; or '"""


# ------------------------------------------------------------------------------------------ history


@dataclass
class History:
    root: Path
    branch: str
    """main's name"""
    main: str
    """main's tip, a full id"""
    since: str | None
    """audit_since as a full id: it and its ancestors are not audited (None: it names no commit here)"""
    first: str
    """the project's first commit (the root of main's first-parent line): exempt"""
    commits: list[tuple[str, tuple[str, ...]]]
    """the audited commits and their parents, children before parents"""
    rank: dict[str, int] = field(default_factory=dict)
    """commit -> age, 0 the oldest audited"""
    subjects: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, project: Project, config: Config) -> History:
        root, name = project.root, config.main_branch
        tip = repo.resolve(root, name, short=False)
        if tip is None:
            raise AuditError(f"the main branch {name!r} has no commit")
        # A copy of the template (autoresearch init, a test project) keeps the template's audit_since, a commit its
        # new history lacks: then nothing is exempt, the strict reading, so a stale value can only add violations.
        since = repo.resolve(root, config.audit_since, short=False) if config.audit_since else None
        first = repo.git(root, "rev-list", "--first-parent", "--max-parents=0", tip).split()[0]
        commits = repo.rev_list_parents(root, "--topo-order", tip, *([f"^{since}"] if since else []))
        rank = {c: i for i, (c, _) in enumerate(reversed(commits))}
        return cls(root, name, tip, since, first, commits, rank)

    def subject(self, commit: str) -> str:
        if commit not in self.subjects:
            self.subjects.update(
                {c: m.split("\n", 1)[0] for c, (_, m) in repo.commit_messages(self.root, [commit]).items()}
            )
        return self.subjects.get(commit, "")

    def name(self, commit: str) -> str:
        """How messages name a commit: its short id and subject."""
        return f"commit {short(commit)} ({self.subject(commit)!r})"

    def oldest_first(self, breaks: Iterable[Break]) -> list[Break]:
        return sorted(breaks, key=lambda b: self.rank.get(b.commit, -1))


# -------------------------------------------------------------------------------------------- cache


class Cache:
    """Facts already verified, one per line, in <git common dir>/autoresearch/audit-cache, signed with the
    project key: an edited or foreign cache is ignored (and rebuilt), never trusted."""

    HEADER = "autoresearch audit cache v1"

    def __init__(self, project: Project, facts: set[str], note: str = ""):
        self.project = project
        self.facts = facts
        self.loaded = set(facts)
        self.note = note

    @staticmethod
    def path(project: Project) -> Path:
        return project.git_dir / "autoresearch" / "audit-cache"

    @classmethod
    def load(cls, project: Project) -> Cache:
        from autoresearch.signing import verify

        path = cls.path(project)
        if not path.exists():
            return cls(project, set())
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        sig = lines[-1].removeprefix("sig ") if lines else ""
        verdict = verify("\n".join(lines[:-1]), sig) if lines and lines[0] == cls.HEADER else "forged"
        if verdict == "ok":
            return cls(project, set(lines[1:-1]))
        note = "" if verdict == "unknown-key" else f"{path} was not written by check (edited?): ignored and rebuilt"
        return cls(project, set(), note)

    def __contains__(self, fact: str) -> bool:
        return fact in self.facts

    def add(self, fact: str) -> None:
        self.facts.add(fact)

    def table(self, kind: str) -> dict[tuple[str, ...], str]:
        """The facts `<kind> <key>... <value>` with `keys` words of key, as {key: value} (the value may hold spaces)."""
        keys = {"results": 2, "journal": 2, "eval-hash": 2}[kind]
        out = {}
        for fact in self.facts:
            if fact.startswith(f"{kind} "):
                words = fact.split(" ", keys + 1)
                out[tuple(words[1 : keys + 1])] = words[keys + 1]
        return out

    def save(self) -> None:
        from autoresearch.fileio import write_atomic
        from autoresearch.signing import sign

        if self.facts == self.loaded:
            return
        body = "\n".join([self.HEADER, *sorted(self.facts)])
        path = self.path(self.project)
        path.parent.mkdir(exist_ok=True)
        write_atomic(path, f"{body}\nsig {sign(self.project, body)}\n")


# ------------------------------------------------------------------------------------- results.tsv


@dataclass
class ResultsHistory:
    breaks: list[Break]
    versions: dict[str, repo.Object | None]
    """commit -> its results.tsv blob, for the audited commits and their parents"""


def _blob_id(data: bytes | memoryview, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    h.update(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


def prefixes_of(content: bytes, blobs: dict[str, int], algorithm: str) -> dict[str, bool]:
    """Which blobs (id -> size) are byte prefixes of `content`: the git id of content's first `size` bytes is theirs.

    No blob is read; hashing runs in threads (hashlib releases the GIL on large data)."""
    view = memoryview(content)
    ids = [b for b, size in blobs.items() if size <= len(content)]
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        same = list(pool.map(lambda b: _blob_id(view[: blobs[b]], algorithm) == b, ids))
    return dict.fromkeys(blobs, False) | dict(zip(ids, same))


def first_difference(old: bytes, new: bytes) -> str:
    """Where `new` stops keeping `old` as its prefix, in words naming old's line."""
    n = min(len(old), len(new))
    k = next((i for i in range(0, n, 65536) if old[i : min(i + 65536, n)] != new[i : min(i + 65536, n)]), None)
    if k is None:
        first_line = old[:n].count(b"\n") + 1
        last_line = old.count(b"\n")
        return f"removed the rows at the end (lines {first_line}-{last_line} of the version before it)"
    k += next(i for i in range(65536) if old[k + i : k + i + 1] != new[k + i : k + i + 1])
    line = old[:k].count(b"\n") + 1
    return (
        "changed the header"
        if line == 1
        else f"removed or changed committed rows (line {line} of the version before it is not kept as it was)"
    )


def results_history(hist: History, cache: Cache, content: bytes | None) -> ResultsHistory:
    """Every change to results.tsv in the audited commits keeps the parent's version as a prefix.

    `content` (the working copy, or main's version) is the first anchor: a version that is a prefix of it
    is checked by hashing, not read. A pair verified once is cached."""
    root = hist.root
    commits = {c for c, _ in hist.commits} | {p for _, ps in hist.commits for p in ps}
    found = repo.batch_check(root, [f"{c}:{RESULTS}" for c in commits])
    versions = {c: found[f"{c}:{RESULTS}"] for c in commits}
    edges: dict[tuple[str, str], list[str]] = {}
    breaks: list[Break] = []
    for c, parents in hist.commits:
        new = versions[c]
        for p in parents:
            old = versions[p]
            if old is None or (new is not None and new.id == old.id):
                continue
            if new is None:
                breaks.append(Break(c, f"{RESULTS}: {hist.name(c)} deleted it"))
                continue
            edges.setdefault((old.id, new.id), []).append(c)
    sizes = {v.id: v.size for v in versions.values() if v is not None}
    known = cache.table("results")
    verdicts = {pair: known[pair] for pair in edges if pair in known}
    unresolved = {pair for pair in edges if pair not in verdicts}
    algorithm = repo.object_format(root) if unresolved else "sha1"
    anchor = content
    while unresolved:
        if anchor is None:
            biggest = max((new for _, new in unresolved), key=lambda b: sizes[b])
            anchor = repo.read_blobs(root, [biggest])[biggest] or b""
        wanted = {b: sizes[b] for pair in unresolved for b in pair}
        is_prefix = prefixes_of(anchor, wanted, algorithm)
        for before, after in list(unresolved):
            if is_prefix[after]:
                if is_prefix[before] and sizes[before] <= sizes[after]:
                    verdicts[(before, after)] = "ok"
                else:
                    blobs = repo.read_blobs(root, [before, after])
                    verdicts[(before, after)] = first_difference(blobs[before] or b"", blobs[after] or b"")
                cache.add(f"results {before} {after} {verdicts[(before, after)]}")
                unresolved.discard((before, after))
        anchor = None
    for pair, cs in edges.items():
        if verdicts[pair] != "ok":
            breaks += [Break(c, f"{RESULTS}: {hist.name(c)} {verdicts[pair]}") for c in cs]
    return ResultsHistory(hist.oldest_first(breaks), versions)


def committed_by(hist: History, offsets: list[int]) -> list[str | None]:
    """For byte offsets into the working copy: the commit on main's first-parent line whose results.tsv first
    held that byte (None: not committed on main). Assumes the versions along that line are prefixes of each other."""
    line = repo.git(hist.root, "rev-list", "--first-parent", "--reverse", hist.main).split()
    found = repo.batch_check(hist.root, [f"{c}:{RESULTS}" for c in line])
    sizes: list[int] = []
    owners: list[str] = []
    for c in line:
        v = found[f"{c}:{RESULTS}"]
        if v is not None and (not sizes or v.size > sizes[-1]):
            sizes.append(v.size)
            owners.append(c)
    out: list[str | None] = []
    for offset in offsets:
        i = bisect.bisect_right(sizes, offset)
        out.append(owners[i] if i < len(owners) else None)
    return out


# ------------------------------------------------------------------------------------ rows and runs


@dataclass
class RowProblem:
    line: int
    offset: int
    """the line's first byte in the file"""
    kind: str
    """forged, unsigned or no-commit"""
    detail: str = ""


@dataclass
class RowAudit:
    problems: list[RowProblem]
    unknown_key: list[tuple[int, int]]
    """(line, offset) of rows signed with a key this machine does not have"""
    eval_hashes: dict[str, list[int]]
    """eval_hash -> the lines of its rows"""
    runs: set[str]


def audit_rows(project: Project, content: bytes, df: pl.DataFrame, verified_prefix: int) -> RowAudit:
    """Signatures of the rows after byte `verified_prefix` (an earlier check verified those before it), and the
    commit, eval hash and run folder of every row, from `df` (results.read of the same bytes)."""
    import polars as pl

    from autoresearch.signing import verifier

    verify = verifier()
    problems, unknown = [], []
    offset = max(verified_prefix, content.index(b"\n") + 1)
    n = content.count(b"\n", 0, offset) + 1
    for raw in content[offset:].split(b"\n"):
        if not raw:
            break
        body, _, sig = raw.decode("utf-8", "replace").rpartition("\t")
        verdict = ("forged" if not SIGNATURE.fullmatch(sig) else verify(body, sig)) if sig else "unsigned"
        if verdict == "unknown-key":
            unknown.append((n, offset))
        elif verdict != "ok":
            problems.append(RowProblem(n, offset, verdict))
        n += 1
        offset += len(raw) + 1
    rows = df.select(pl.col("row"), pl.col("commit").fill_null("").str.replace(r"-dirty$", "").alias("commit"))
    missing = repo.missing_commits(project.root, [c for c in rows["commit"].unique().to_list() if c]) | {""}
    bad = rows.filter(pl.col("commit").is_in(list(missing)))
    lines = [r + 1 for r in bad["row"].to_list()]
    problems += [
        RowProblem(line, o, "no-commit", c)
        for line, o, c in zip(lines, line_offsets(content, lines), bad["commit"].to_list())
    ]
    hashes = (
        df.filter(pl.col("eval_hash").fill_null("") != "").group_by("eval_hash").agg((pl.col("row") + 1).alias("lines"))
    )
    return RowAudit(
        sorted(problems, key=lambda p: p.line),
        unknown,
        dict(zip(hashes["eval_hash"].to_list(), hashes["lines"].to_list())),
        set(df["run"].drop_nulls().to_list()),
    )


def line_offsets(content: bytes, lines: list[int]) -> list[int]:
    """The byte offset where each (1-based, ascending) line starts."""
    out, line, offset = [], 1, 0
    for want in lines:
        while line < want:
            offset = content.index(b"\n", offset) + 1
            line += 1
        out.append(offset)
    return out


def missing_run_rows(project: Project, runs: set[str]) -> list[tuple[str, str]]:
    """(run folder, its row.tsv line) for run folders whose row is not in results.tsv (smoke runs write none)."""
    folder = project.runs
    if not folder.is_dir():
        return []
    out = []
    for name in sorted(os.listdir(folder)):
        rel = f"{folder.name}/{name}"
        row = folder / name / "row.tsv"
        if rel not in runs and row.is_file():
            out.append((rel, row.read_text(encoding="utf-8", errors="replace")))
    return out


def restore_rows(project: Project, config: Config) -> list[str]:
    """Append the rows of run folders missing from results.tsv, oldest first, under the results lock: one line each of what was done."""
    from autoresearch import results
    from autoresearch.signing import verify

    record = results.load(project, config)
    runs = set(record.df["run"].drop_nulls().to_list())
    said, lines = [], []
    for rel, line in missing_run_rows(project, runs):
        body, _, sig = line.rstrip("\n").rpartition("\t")
        verdict = verify(body, sig)
        if line.count("\n") != 1 or not line.endswith("\n") or verdict != "ok":
            said.append(
                f"{rel}/row.tsv: not restored: its line is not one row signed by eval.py on this machine ({verdict})"
            )
            continue
        lines.append(line)
        said.append(f"{rel}: row restored")
    if lines:
        path = project.results
        with results.lock(path):
            data = path.read_bytes() if path.exists() else b""
            if data and not data.endswith(b"\n"):
                raise AuditError(
                    f"{path}: the last line is torn (no newline); fix it first (`git checkout {path.name}`), then restore the rows"
                )
            with path.open("ab") as f:
                f.write((results.header(config.metric.name) if not data else "").encode() + "".join(lines).encode())
                f.flush()
                os.fsync(f.fileno())
    return said


# ----------------------------------------------------------------------------------- FROZEN history


def trailer_text(tree: str) -> str:
    """What a Meta-Mode trailer signs: the commit's whole tree, so it fits that content and no other."""
    return f"autoresearch meta-mode tree {tree}"


def trailer_line(project: Project, tree: str, why: str) -> str:
    from autoresearch.signing import sign

    return f"{TRAILER}: {sign(project, trailer_text(tree))} {' '.join(why.split())}"


def trailer_verdict(message: str, tree: str) -> str:
    """ok, unknown-key (signed on another machine), forged, or missing: the best of the commit's Meta-Mode trailers."""
    from autoresearch.signing import verify

    best = "missing"
    for line in message.splitlines():
        if line.startswith(f"{TRAILER}:"):
            sig = (line.removeprefix(f"{TRAILER}:").split() or [""])[0]
            verdict = verify(trailer_text(tree), sig) if SIGNATURE.fullmatch(sig) else "forged"
            if verdict == "ok":
                return "ok"
            best = "unknown-key" if verdict == "unknown-key" or best == "unknown-key" else "forged"
    return best


@dataclass
class FrozenHistory:
    breaks: list[Break]
    versions: list[str]
    """commits whose FROZEN files are an authorised version (including history older than audit_since)"""


def frozen_history(hist: History, config: Config, cache: Cache) -> FrozenHistory:
    from autoresearch.signing import key_dir
    from autoresearch.taxonomy import git_pathspecs

    root = hist.root
    specs = git_pathspecs(config.taxonomy.frozen)
    bounds = [hist.main, *([f"^{hist.since}"] if hist.since else [])]
    plain = [
        c
        for c in repo.git(root, "log", "--full-history", "--no-merges", "--format=%H", *bounds, "--", *specs).split()
        if c != hist.first
    ]
    merges = [(c, ps) for c, ps in hist.commits if len(ps) > 1]
    pairs = [(c, p) for c, ps in merges for p in ps]
    answers = iter(repo.changed_paths(root, pairs, specs))
    touched = []
    for c, ps in merges:
        per_parent = [next(answers) for _ in ps]  # one answer per parent, consumed even where all() would stop early
        if all(per_parent):
            touched.append(c)
    candidates = plain + touched
    todo = [c for c in candidates if f"trailer {c} ok" not in cache]
    messages = repo.commit_messages(root, todo)
    hist.subjects.update({c: m.split("\n", 1)[0] for c, (_, m) in messages.items()})
    breaks, authorised = [], [c for c in candidates if c not in messages]
    flagged = []
    for c in todo:
        tree, message = messages[c]
        verdict = trailer_verdict(message, tree)
        if verdict == "ok":
            cache.add(f"trailer {c} ok")
            authorised.append(c)
        else:
            flagged.append((c, verdict))
    parents = dict(hist.commits)
    files = repo.changed_paths(root, [(c, (parents.get(c) or (None,))[0]) for c, _ in flagged], specs)
    for (c, verdict), names in zip(flagged, files):
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        what = (
            "a merge whose FROZEN files differ from every parent"
            if len(parents.get(c, ())) > 1
            else "changed FROZEN files"
        )
        why = {
            "missing": "and has no Meta-Mode trailer (the prepare-commit-msg hook writes one when META_MODE is on): made without META_MODE, or with the hooks skipped",
            "forged": "and its Meta-Mode trailer was not written by the hook (typed by hand or copied from another commit)",
            "unknown-key": (
                "and its Meta-Mode trailer is signed with a key this machine does not have: made on another machine (copy that machine's "
                f"key file into {key_dir()} to verify it), or typed by hand with an invented key id"
            ),
        }[verdict]
        breaks.append(Break(c, f"{hist.name(c)}: {what} ({shown}) {why}; rows made with it are not trusted"))
    old = (
        []
        if hist.since is None
        else repo.git(root, "log", "--full-history", "--format=%H", hist.since, "--", *specs).split()
    )
    versions = list(dict.fromkeys([hist.first, *([hist.since] if hist.since else []), *old, *authorised]))
    return FrozenHistory(hist.oldest_first(breaks), versions)


def eval_hashes(hist: History, config: Config, commits: Iterable[str], cache: Cache) -> set[str]:
    """The eval_hash of each commit's FROZEN files, hashed with main's settings and with the commit's own
    (an eval process hashes with the pyproject.toml it runs with)."""
    from autoresearch.config import Config as ConfigType
    from autoresearch.config import ConfigError
    from autoresearch.fingerprints import frozen_hash_at

    def tag(c: Config) -> str:
        return hashlib.sha256(repr((c.taxonomy.frozen, c.taxonomy.append_only)).encode()).hexdigest()[:8]

    commits = list(commits)
    known = cache.table("eval-hash")
    own = repo.read_blobs(hist.root, [f"{c}:pyproject.toml" for c in commits])
    hashes = set()
    for c in commits:
        settings = [config]
        try:
            text = (own[f"{c}:pyproject.toml"] or b"").decode("utf-8", "replace")
            settings.append(ConfigType.from_text(text, f"{c}:pyproject.toml"))
        except ConfigError:
            pass
        for s in {tag(s): s for s in settings}.items():
            t, cfg = s
            if (c, t) not in known:
                known[(c, t)] = frozen_hash_at(hist.root, c, cfg)
                cache.add(f"eval-hash {c} {t} {known[(c, t)]}")
            hashes.add(known[(c, t)])
    return hashes


# ----------------------------------------------------------------------------------------- journals


@dataclass
class JournalHistory:
    name: str
    base: str | None
    """the newest committed version that keeps every older entry (what a repair restores)"""
    breaks: list[Break]
    """edits not put back yet"""
    repaired: list[str]
    """edits a later commit put back: notes"""


def journal_history(hist: History, name: str, cache: Cache | None = None) -> JournalHistory:
    """Walk journal `name` along main's first-parent line: a version that drops, changes or reorders an entry of
    the last good one is a break, outstanding until a later version keeps every entry of that good one again."""
    from autoresearch.journal import verify

    root = hist.root
    line = repo.git(
        root,
        "log",
        "--first-parent",
        "--reverse",
        "--format=%H",
        hist.main,
        *([f"^{hist.since}"] if hist.since else []),
        "--",
        name,
    ).split()
    specs = [f"{c}:{name}" for c in ([hist.since] if hist.since else []) + line]
    found = repo.batch_check(root, specs)
    ids = {spec.partition(":")[0]: (obj.id if obj else None) for spec, obj in found.items()}
    known = cache.table("journal") if cache else {}
    texts: dict[str, str] = {}

    def text(blob: str) -> str:
        if blob not in texts:
            texts[blob] = (repo.read_blobs(root, [blob])[blob] or b"").decode("utf-8", "replace")
        return texts[blob]

    base = ids[hist.since] if hist.since else None
    outstanding: dict[str, str] = {}
    repaired = []
    for c in line:
        new = ids[c]
        if base is None:
            base = new
            continue
        if new is None:
            problems = [f"{name}: deleted"]
        elif new == base or known.get((base, new)) == "ok":
            problems = []
        else:
            problems = [p.split(";")[0] for p in verify(text(base), text(new), name)]
            if not problems and cache is not None:
                cache.add(f"journal {base} {new} ok")
        for key in list(outstanding):
            if key not in problems:
                repaired.append(f"{key} by commit {short(outstanding.pop(key))} and put back by commit {short(c)}")
        for key in problems:
            outstanding.setdefault(key, c)
        if not problems:
            base = new
    breaks = [
        Break(c, f"{key} by {hist.name(c)} on {hist.branch} (APPEND-ONLY; the commit skipped the hook)")
        for key, c in outstanding.items()
    ]
    return JournalHistory(name, text(base) if base else None, hist.oldest_first(breaks), repaired)


def repaired_text(base: str, current: str) -> str:
    """`current` with every entry of `base` back, unchanged and in order, below the entries added since
    (an edited copy of an old entry, one with the same heading, is dropped: git history keeps it)."""
    from autoresearch.journal import parse

    header, entries = parse(current)
    _, old = parse(base)
    texts, headings = {e.text for e in old}, {e.heading for e in old}
    added = [e.text for e in entries if e.text not in texts and e.heading not in headings]
    body = "\n\n".join(added + [e.text for e in old])
    return (
        header
        + ("" if header.endswith("\n\n") or not header else "\n" if header.endswith("\n") else "\n\n")
        + body
        + "\n"
    )


def repair_journal(project: Project, config: Config, name: str) -> str:
    """Write the repaired working copy of journal `name`; one line saying what to do next."""
    from autoresearch.journal import JOURNALS

    if name not in JOURNALS.values():
        raise AuditError(f"--repair {name}: not a journal; one of {', '.join(JOURNALS.values())}")
    history = journal_history(History.load(project, config), name)
    if not history.breaks or history.base is None:
        raise AuditError(f"{name}: main's history has no edited entry to put back; nothing to repair")
    path = project.root / name
    current = path.read_text(encoding="utf-8") if path.exists() else history.base
    from autoresearch.fileio import write_atomic

    write_atomic(path, repaired_text(history.base, current))
    meta = " with META_MODE on (it is FROZEN)" if config.taxonomy.is_frozen(name) else ""
    return f'{name}: the edited entries are back as they were; commit it{meta}: `git commit -m "repair {name}" {name}`'


def repairs_journal(project: Project, config: Config, name: str, staged: bytes) -> bool:
    """Whether committing `staged` as journal `name` puts back entries that main's history edited (the git hook lets it through)."""
    from autoresearch.journal import verify

    try:
        history = journal_history(History.load(project, config), name)
    except AuditError:
        return False
    return (
        bool(history.breaks)
        and history.base is not None
        and not verify(history.base, staged.decode("utf-8", "replace"), name)
    )


# ---------------------------------------------------------------------------------- acknowledgements


@dataclass(frozen=True)
class Acknowledgement:
    commit: str
    why: str
    entry: str
    """the heading of the human_journal.md entry"""


def acknowledgements(project: Project) -> tuple[dict[str, Acknowledgement], list[str]]:
    """The researcher's `acknowledge: <commit> <why>` lines in human_journal.md, by full commit id, and warnings."""
    from autoresearch.journal import parse

    path = project.human_journal
    if not path.exists():
        return {}, []
    _, entries = parse(path.read_text(encoding="utf-8", errors="replace"))
    found = [(m.group(1), m.group(2).strip(), e.heading) for e in entries for m in ACKNOWLEDGE.finditer(e.text)]
    ids = repo.batch_check(project.root, [f"{c}^{{commit}}" for c, _, _ in found])
    acks: dict[str, Acknowledgement] = {}
    warnings: list[str] = []
    for c, why, heading in found:
        obj = ids[f"{c}^{{commit}}"]
        if obj is None:
            warnings.append(f"{path.name} entry '{heading}': acknowledge: {c} names no commit of this repository")
        elif not why:
            warnings.append(
                f"{path.name} entry '{heading}': acknowledge: {c} gives no reason; write why after the commit"
            )
        else:
            acks.setdefault(obj.id, Acknowledgement(obj.id, why, heading))
    return acks, warnings
