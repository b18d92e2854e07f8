"""Content hashes that identify versions: of the agent's code (`code`) and of the FROZEN files (`eval_hash`).

A version is identified by what its files contain, not by a commit: a record commit on main, or a
rebase, leaves the code hash unchanged, and an uncommitted edit changes it. The same byte format
serves files on disk and files in a commit, so the two always agree. Usage:

    code_hash(checkout, config)               # the agent's code as it is on disk now
    code_hash_at(root, "main", config)        # ... as committed at a revision
    frozen_hash(checkout, config)             # eval.py and the toolkit (journals excluded: they grow)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from autoresearch import repo
from autoresearch.taxonomy import compile_patterns, git_pathspecs

if TYPE_CHECKING:
    from autoresearch.config import Config

LENGTH = 12


def digest(files: Iterable[tuple[str, bytes | None]]) -> str:
    """The hash of (path, content) pairs in path order; a missing file hashes as `<missing>`."""
    h = hashlib.sha256()
    for rel, content in sorted(files, key=lambda f: f[0]):
        h.update(rel.encode() + b"\0" + (b"<missing>" if content is None else content) + b"\0")
    return h.hexdigest()[:LENGTH]


def code_files(paths: Iterable[str], config: Config) -> list[str]:
    """The paths that are the agent's code: matching `code` and not FROZEN."""
    spec = compile_patterns(config.code)
    return sorted(p for p in paths if spec.match_file(p) and not config.taxonomy.is_frozen(p))


def frozen_files(paths: Iterable[str], config: Config) -> list[str]:
    tax = config.taxonomy
    return sorted(p for p in paths if tax.is_frozen(p) and not tax.is_append_only(p))


def _on_disk(checkout: Path, rels: list[str]) -> str:
    return digest((rel, (checkout / rel).read_bytes() if (checkout / rel).is_file() else None) for rel in rels)


def _at(root: Path, rev: str, rels: dict[str, str]) -> str:
    blobs = repo.read_blobs(root, rels.values())
    return digest((rel, blobs[sha]) for rel, sha in rels.items())


def code_hash(checkout: Path, config: Config) -> str:
    return _on_disk(checkout, code_files(repo.checkout_files(checkout, git_pathspecs(config.code)), config))


def code_hash_at(root: Path, rev: str, config: Config) -> str:
    tree = repo.tree_files(root, rev)
    return _at(root, rev, {p: tree[p] for p in code_files(tree, config)})


def frozen_hash(checkout: Path, config: Config) -> str:
    return _on_disk(
        checkout, frozen_files(repo.checkout_files(checkout, git_pathspecs(config.taxonomy.frozen)), config)
    )


def frozen_hash_at(root: Path, rev: str, config: Config) -> str:
    tree = repo.tree_files(root, rev)
    return _at(root, rev, {p: tree[p] for p in frozen_files(tree, config)})
