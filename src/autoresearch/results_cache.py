"""A signed Parquet copy of the parsed results.tsv, so that a big record reads in a fraction of a second.

results.tsv stays the record; this copy is derived from it, kept in `<git common dir>/autoresearch/`
(outside every checkout, out of the training process's reach), and used only for a file of at least
MIN_BYTES (below that, parsing the text is as fast). It is trusted only when

- its state file's signature (the project key, as on the rows) holds, the Parquet file's digest is the
  one the state names, and
- results.tsv's stat (inode, size, mtime, ctime) is the one the state names: any write to the file, by
  anyone, changes its ctime.

The eval process moves the state forward after its own append (under the results lock, and only when
the state matched the file just before), so the copy stays valid for a prefix of the file and a reader
parses only the rows after it; once those are more than 1/8 of the file, the reader rebuilds the copy.
Anything that does not match is rebuilt, never trusted. `just check` reads results.tsv itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

    from autoresearch.paths import Project

MIN_BYTES = 4 << 20
"""Smaller files (about 12,000 rows) are parsed every time: the copy would save nothing."""
VERSION = 1

Parse = Callable[[bytes, int], "pl.DataFrame"]
"""(the file's bytes, or the header plus a tail of rows; the number of the first row) -> the rows."""


def stat_of(path: Path | int) -> list[int]:
    st = os.stat(path)
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _folder(project: Project) -> Path:
    return project.git_dir / "autoresearch"


def _state_path(project: Project) -> Path:
    return _folder(project) / "results-cache.json"


def _parquet_path(project: Project) -> Path:
    return _folder(project) / "results-cache.parquet"


def _signed(key: bytes, state: dict) -> str:
    from autoresearch.signing import sign_with

    body = {k: v for k, v in state.items() if k != "sig"}
    return sign_with(key, json.dumps(body, sort_keys=True))


def _state(project: Project, key: bytes, metric: str) -> dict | None:
    """The state file when it is ours (signature, version, metric), else None."""
    try:
        state = json.loads(_state_path(project).read_text())
    except (OSError, ValueError):
        return None
    ok = isinstance(state, dict) and state.get("version") == VERSION and state.get("metric") == metric
    return state if ok and hmac.compare_digest(str(state.get("sig")), _signed(key, state)) else None


def _write_state(project: Project, key: bytes, state: dict) -> None:
    state = {**state, "sig": _signed(key, state)}
    _atomic_write(_state_path(project), json.dumps(state).encode())


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def read(project: Project, path: Path, metric: str, header: bytes, parse: Parse) -> pl.DataFrame:
    """The rows of `path`: from the copy plus the rows after it when it is valid, else parsed (and the copy rebuilt)."""
    import polars as pl

    from autoresearch.signing import project_key

    now = stat_of(path)
    if now[1] < MIN_BYTES:
        return parse(path.read_bytes(), 1)
    key = project_key(project)
    state = _state(project, key, metric)
    if state is not None and state["stat"] == now and (now[1] - state["covered"]) * 8 <= now[1]:
        try:
            data = _parquet_path(project).read_bytes()
        except OSError:
            data = b""
        if hashlib.sha256(data).hexdigest() == state["parquet"]:
            df = pl.read_parquet(data)
            if state["covered"] == now[1]:
                return df
            with path.open("rb") as f:
                f.seek(state["covered"])
                tail = f.read(now[1] - state["covered"])
            if stat_of(path) == now:
                return pl.concat([df, parse(header + tail, df.height + 1)])
    data = path.read_bytes()
    df = parse(data, 1)
    if stat_of(path) == now:  # the bytes parsed are the file this stat describes: save them
        parquet = _to_parquet(df)
        _atomic_write(_parquet_path(project), parquet)
        digest = hashlib.sha256(parquet).hexdigest()
        _write_state(
            project, key, {"version": VERSION, "metric": metric, "covered": len(data), "stat": now, "parquet": digest}
        )
    return df


def _to_parquet(df: pl.DataFrame) -> bytes:
    import io

    buffer = io.BytesIO()
    df.write_parquet(buffer, compression="lz4")
    return buffer.getvalue()


def appended(project: Project, key: bytes, metric: str, before: list[int], after: list[int]) -> None:
    """The eval process appended to results.tsv (under the lock), taking it from stat `before` to `after`:
    a copy valid before stays valid for its prefix."""
    if after[1] < MIN_BYTES:
        return
    state = _state(project, key, metric)
    if state is not None and state["stat"] == before:
        _write_state(project, key, {**state, "stat": after})
