"""What a results row records about the code that made it: commit, branch, subject, dirtiness, frozen hash.

Plain `git` subprocesses (a few ms each); GitPython is kept for the commands that change the repo.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from autoresearch.taxonomy import Taxonomy


def git(checkout: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=checkout, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {checkout}: {out.stderr.strip()}")
    return out.stdout.strip()


def head_commit(checkout: Path) -> str:
    """Short HEAD hash, with -dirty when tracked files differ from HEAD (the row is then not reproducible)."""
    commit = git(checkout, "rev-parse", "--short", "HEAD")
    record = {"results.tsv", "RESEARCH_JOURNAL.md"}
    changed = [f for f in git(checkout, "diff", "--name-only", "HEAD").splitlines() if f not in record]
    return commit + ("-dirty" if changed else "")


def branch(checkout: Path) -> str:
    return git(checkout, "rev-parse", "--abbrev-ref", "HEAD")


def subject(checkout: Path) -> str:
    return git(checkout, "log", "-1", "--format=%s")


def idea_of_branch(branch_name: str) -> str:
    return branch_name.removeprefix("exp/") if branch_name.startswith("exp/") else ""


def frozen_files(checkout: Path, taxonomy: Taxonomy) -> list[str]:
    tracked = git(checkout, "ls-files").splitlines()
    return sorted(f for f in tracked if taxonomy.is_frozen(f) and not taxonomy.is_append_only(f))


def frozen_hash(checkout: Path, taxonomy: Taxonomy) -> str:
    """Hash of the frozen code as it is on disk now (journals excluded: they grow by design)."""
    h = hashlib.sha256()
    for rel in frozen_files(checkout, taxonomy):
        path = checkout / rel
        h.update(rel.encode() + b"\0" + (path.read_bytes() if path.exists() else b"<missing>") + b"\0")
    return h.hexdigest()[:12]
