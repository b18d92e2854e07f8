"""Proofs that only the evaluation process makes: an HMAC over each results row (and other records).

Each project gets a random key on first use, kept outside the checkout in
`$AUTORESEARCH_KEYS` (default `~/.config/autoresearch/keys/`), mode 0600, a place the confined
training process cannot read. A signature is `<key id>:<hmac>`; `verify` finds the key by its id,
so rows made on another machine (another key) are told apart from forged ones.

What it proves: the signed text was written by a process that could read the key: the eval
process, or a person (or agent) who deliberately reads the key file. It stops rows typed by hand,
appended by a shell command, or written by the training code. It does not stop someone who reads
the key: that is what the agent hook's refusal to touch the key folder and the audit are for.
Usage:

    sig = sign(project, "some text")      # creates the key on first use
    verify(project, "some text", sig)     # 'ok', 'forged', or 'unknown-key'
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from autoresearch import repo

if TYPE_CHECKING:
    from autoresearch.paths import Project

Verdict = Literal["ok", "forged", "unknown-key"]


def key_dir() -> Path:
    return Path(os.environ.get("AUTORESEARCH_KEYS") or Path.home() / ".config" / "autoresearch" / "keys")


@cache
def _root_commit(root: Path) -> str:
    out = repo.run(root, "rev-list", "--max-parents=0", "HEAD", ok=(0, 128)).stdout.decode().split()
    return sorted(out)[0][:16] if out else "unborn"


def project_id(project: Project) -> str:
    """The project's first commit: the same in every clone, different between projects ("unborn" before one)."""
    return _root_commit(project.root)


def _key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def key_path(project: Project) -> Path:
    return key_dir() / f"{project_id(project)}.key"


def project_key(project: Project) -> bytes:
    """This project's key on this machine, made on first use (0600, atomically: two evals agree)."""
    path = key_path(project)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)  # the first writer wins; a racing second one keeps the winner's key
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
        _known.cache_clear()
    return bytes.fromhex(path.read_text().strip())


@cache
def _known(folder: Path) -> dict[str, bytes]:
    keys = {}
    for path in folder.glob("*.key") if folder.is_dir() else ():
        try:
            key = bytes.fromhex(path.read_text().strip())
        except (OSError, ValueError):
            continue
        keys[_key_id(key)] = key
    return keys


def sign_with(key: bytes, text: str) -> str:
    return f"{_key_id(key)}:{hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:32]}"


def sign(project: Project, text: str) -> str:
    return sign_with(project_key(project), text)


def verify(text: str, signature: str) -> Verdict:
    key_id, _, _ = signature.partition(":")
    key = _known(key_dir()).get(key_id)
    if key is None:
        return "unknown-key"
    return "ok" if hmac.compare_digest(sign_with(key, text), signature) else "forged"


def verifier() -> Callable[[str, str], Verdict]:
    """`verify` for many texts (a whole results.tsv): the key folder is looked up once."""
    keys = _known(key_dir())

    def check(text: str, signature: str) -> Verdict:
        key = keys.get(signature.partition(":")[0])
        if key is None:
            return "unknown-key"
        return "ok" if hmac.compare_digest(sign_with(key, text), signature) else "forged"

    return check
