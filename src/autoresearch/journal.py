"""Append-only journals in the ROOT checkout: newest entries first, old entries never change.

A journal is a header (a `# ` title and a short paragraph), then entries, newest first. An entry
starts at a line `## YYYY-MM-DD HH:MM UTC · title` (plus ` · [slug]`) and runs to the next `## `
line; it holds `**Observation:**` (a measured fact) and `**Inference:**` (an interpretation) lines
and free text. `verify(old, new)` is the append-only rule, used here, by `autoresearch check` and
by the git hook. Usage:

    autoresearch journal add --title "rotary: -0.02 bpb" --slug rotary --observation "..." --inference "..."
    autoresearch journal verify                  # working copies against HEAD; exit 1 on a violation
    header, entries = parse(text);  problems = verify(old_text, new_text, "RESEARCH_JOURNAL.md")
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from autoresearch.errors import UserError
from autoresearch.fileio import read_file_arg, write_atomic
from autoresearch.paths import HUMAN_JOURNAL, META_JOURNAL, RESEARCH_JOURNAL

if TYPE_CHECKING:
    from autoresearch.paths import Project

JOURNALS = {"research": RESEARCH_JOURNAL, "meta": META_JOURNAL, "human": HUMAN_JOURNAL}
ENTRY_START = "## "


@dataclass(frozen=True)
class Entry:
    heading: str
    """The heading line without its `## `: `2025-01-01 12:00 UTC · title · [slug]`."""
    text: str
    """The whole entry from its `## ` line on, trailing whitespace removed (blank lines between entries are not part of it)."""

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:12]


def parse(text: str) -> tuple[str, list[Entry]]:
    """The header (everything before the first `## ` line, verbatim) and the entries, in file order."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.startswith(ENTRY_START)]
    if not starts:
        return text, []
    header = "".join(lines[: starts[0]])
    entries = []
    for start, end in zip(starts, [*starts[1:], len(lines)]):
        body = "".join(lines[start:end]).rstrip()
        entries.append(Entry(heading=lines[start][len(ENTRY_START) :].strip(), text=body))
    return header, entries


def verify(old_text: str, new_text: str, name: str = "the journal") -> list[str]:
    """The append-only rule: one line per violation, naming the entry and the fix; [] when new is fine.

    Every entry of `old_text` must appear in `new_text` unchanged (byte for byte, trailing whitespace
    aside) and in the same order; new entries may only be added above all of the old ones. The header
    may change.
    """
    _, old = parse(old_text)
    _, new = parse(new_text)
    restore = f"restore it with `git checkout {name}`, then add a new entry instead (`just journal ...`)"
    free: dict[str, list[int]] = {}
    for i, entry in enumerate(new):
        free.setdefault(entry.text, []).append(i)
    kept: list[tuple[Entry, int]] = []  # old entry -> its position in new
    lost: list[Entry] = []
    for entry in old:
        spots = free.get(entry.text)
        if spots:
            kept.append((entry, spots.pop(0)))
        else:
            lost.append(entry)
    placed = {i for _, i in kept}
    added = [(i, e) for i, e in enumerate(new) if i not in placed]
    added_headings = {e.heading for _, e in added}
    problems = []
    for entry in lost:
        how = "changed" if entry.heading in added_headings else "removed"
        problems.append(f"{name}: entry '{entry.heading}' was {how}; {restore}")
    latest = -1
    for entry, i in kept:
        if i < latest:
            problems.append(f"{name}: entry '{entry.heading}' was moved out of order; {restore}")
        latest = max(latest, i)
    changed = {e.heading for e in lost}
    top = min(placed, default=len(new))
    for i, entry in added:
        if i > top and entry.heading not in changed:
            problems.append(
                f"{name}: new entry '{entry.heading}' is below older entries, but new entries go at the top; "
                f"restore the file with `git checkout {name}` and add it again with `just journal ...`"
            )
    return problems


def format_entry(title: str, slug: str, observation: str, inference: str, body: str, when: datetime) -> str:
    heading = f"{ENTRY_START}{when:%Y-%m-%d %H:%M} UTC · {title}" + (f" · [{slug}]" if slug else "")
    parts = [heading]
    if observation:
        parts.append(f"**Observation:** {observation}")
    if inference:
        parts.append(f"**Inference:** {inference}")
    if body:
        parts.append(body)
    return "\n\n".join(parts)


def add_entry(
    project: Project,
    journal: str,
    title: str,
    slug: str = "",
    observation: str = "",
    inference: str = "",
    file: str = "",
) -> Path:
    """Insert a new entry at the top of a journal (below its header): one atomic write under a lock."""
    from filelock import FileLock

    if journal not in JOURNALS:
        raise UserError(f"journal {journal!r} is not one of {', '.join(JOURNALS)}")
    if journal == "human" and os.environ.get("CLAUDECODE") == "1":  # Claude Code sets it in its Bash tool's shells
        raise UserError(
            "human_journal.md is the researcher's journal and this runs inside Claude Code (CLAUDECODE=1): the agent "
            'writes RESEARCH_JOURNAL.md (`just journal "title" --observation ...`); the researcher adds to it from their own terminal'
        )
    title = " ".join(title.split())
    if not title:
        raise UserError('the journal entry needs a title: --title "..."')
    observation, inference = " ".join(observation.split()), " ".join(inference.split())
    body = read_file_arg(file).strip()
    if not (observation or inference or body):
        raise UserError("the journal entry is empty: give --observation, --inference or --file (at least one)")
    for n, line in enumerate(body.splitlines(), start=1):
        if line.startswith((ENTRY_START, "# ")):
            raise UserError(
                f"--file {file} line {n} starts with {line.split()[0]!r}, which would start a new entry; use ### for headings inside an entry"
            )
    if slug:
        from autoresearch.ideas import find_idea

        find_idea(project, slug)
    path = project.root / JOURNALS[journal]
    if not path.exists():
        raise UserError(f"{path} not found; restore it with `git checkout {path.name}`")
    entry = format_entry(title, slug, observation, inference, body, datetime.now(UTC))
    with FileLock(str(path) + ".lock"):
        old = path.read_text()
        header, _ = parse(old)
        rest = old[len(header) :]
        gap = "" if header.endswith("\n\n") else "\n" if header.endswith("\n") else "\n\n"
        new = header + gap + entry + ("\n\n" + rest if rest else "\n")
        problems = verify(old, new, path.name)
        if problems:
            raise UserError(
                f"{path.name}: the newest entry already has this heading and text; give the new entry another title"
            )
        write_atomic(path, new)
    return path


def _committed(root: Path, name: str) -> str | None:
    """The file as of HEAD in the root checkout, or None when HEAD does not have it."""
    out = subprocess.run(["git", "show", f"HEAD:{name}"], cwd=root, capture_output=True)
    return out.stdout.decode() if out.returncode == 0 else None


def verify_all(project: Project) -> list[str]:
    """Each journal's working copy against its last commit: one line per problem, [] when all keep their entries."""
    problems = []
    for name in JOURNALS.values():
        path = project.root / name
        old = _committed(project.root, name)
        if old is None:
            continue
        if not path.exists():
            problems.append(f"{name}: deleted; restore it with `git checkout {name}`")
            continue
        problems += verify(old, path.read_text(), name)
    return problems
