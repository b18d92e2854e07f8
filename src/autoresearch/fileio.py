"""Crash-safe writes for the record files: whole-file replacement and single-write appends.

A reader (or a crash) sees the old file or the new one, never half of each. Usage:

    from autoresearch.fileio import write_atomic, append_once
    write_atomic(path, text)                 # temp file in the same folder, fsync, os.replace
    write_atomic(path, text, exclusive=True) # the same, but refuse (FileExistsError) if path exists
    append_once(path, text)                  # one O_APPEND write, fsynced
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from autoresearch.errors import UserError


def write_atomic(path: Path, text: str, exclusive: bool = False) -> None:
    """Replace (or create) `path` with `text` in one step; the old mode is kept."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else 0o644)
        if exclusive:
            os.link(tmp, path)  # fails with FileExistsError instead of overwriting
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def append_once(path: Path, text: str) -> None:
    """Append `text` to an existing file in one write, flushed to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        data = text.encode("utf-8")
        if os.write(fd, data) != len(data):
            raise OSError(f"{path}: short write")
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_file_arg(file: str) -> str:
    """The text of a --file argument: a path, or '-' for stdin; '' when none was given."""
    if not file:
        return ""
    if file == "-":
        return sys.stdin.read()
    try:
        return Path(file).read_text()
    except FileNotFoundError:
        raise UserError(f"--file {file}: not found") from None
