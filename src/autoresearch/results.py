"""results.tsv: the schema (declared once), the locked one-write append, and validated reads.

The first five columns match karpathy/autoresearch (commit val_bpb memory_gb status description);
the rest are ours. Reading never rewrites the file. Usage:

    from autoresearch.results import append_row, read_results
    append_row(project.results, {"commit": "abc1234", "val_bpb": 1.91, ...})
    df = read_results(project.results)          # polars DataFrame, or ResultsError naming line and column
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autoresearch.errors import UserError

if TYPE_CHECKING:
    import polars as pl

# (name, type, meaning). Types: str, int, float. The README's schema table is generated from this.
SCHEMA: tuple[tuple[str, type, str], ...] = (
    ("commit", str, "short hash of the checkout's HEAD (suffix -dirty when train.py/model.py had uncommitted edits)"),
    ("val_bpb", float, "validation bits per byte, lower is better; empty on a crash"),
    ("memory_gb", float, "peak memory of the run in GB (CUDA: max allocated; CPU: max RSS)"),
    ("status", str, "ok or crash"),
    ("description", str, "what was tried: --description, else the last commit subject"),
    ("timestamp", str, "UTC time the row was written, ISO 8601"),
    ("branch", str, "git branch of the checkout, e.g. exp/rotary-base"),
    ("idea", str, "idea slug (from the exp/<slug> branch, or --idea)"),
    ("seed", int, "training seed"),
    ("profile", str, "budget profile: cpu, cuda (smoke never writes rows)"),
    ("floor_bpb", float, "exact Bayes-optimal bpb of the validation split; empty for real corpora"),
    ("gap", float, "val_bpb - floor_bpb"),
    ("training_seconds", float, "wall time inside train.train"),
    ("total_seconds", float, "wall time of the whole eval process"),
    ("tokens", int, "training tokens handed to train.py"),
    ("params", int, "model parameters"),
    ("steps", int, "optimizer steps (batches handed out)"),
    ("reason", str, "why a crash happened: exception, nan, timeout, leak, interrupted, budget, tamper; empty when ok"),
    ("verdict", str, "better, within-noise, worse, baseline or uncalibrated, against the best earlier row of the profile"),
    ("label", str, "queue label, Q: ... H: ... (from AUTORESEARCH_LABEL)"),
    ("kind", str, "experiment or calibration"),
    ("eval_hash", str, "hash of the frozen files (eval.py, the toolkit) as they were when the row was made"),
    ("val_hash", str, "hash of the validation bytes: the split must never change"),
)
COLUMNS: tuple[str, ...] = tuple(name for name, _, _ in SCHEMA)
TYPES: dict[str, type] = {name: t for name, t, _ in SCHEMA}
HEADER = "\t".join(COLUMNS) + "\n"
NUMERIC = tuple(name for name, t, _ in SCHEMA if t is not str)


class ResultsError(UserError):
    """A malformed results.tsv; the message names the line and the column and says how to fix it."""


def _fix(path: Path) -> str:
    return f"fix the line or restore the file with `git checkout {path.name}`"


def format_row(row: dict[str, Any]) -> str:
    """One TSV line for `row`; every schema column must be present, nothing else."""
    missing, extra = set(COLUMNS) - row.keys(), row.keys() - set(COLUMNS)
    if missing or extra:
        raise ValueError(f"results row: missing columns {sorted(missing)}, unknown columns {sorted(extra)}")
    cells = []
    for name in COLUMNS:
        value = row[name]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            cells.append("")
        elif TYPES[name] is float:
            cells.append(f"{float(value):.6f}")
        elif TYPES[name] is int:
            cells.append(str(int(value)))
        else:
            cells.append(" ".join(str(value).split()))  # no tabs or newlines inside a cell
    return "\t".join(cells) + "\n"


def ensure_header(path: Path) -> None:
    if not path.exists() or path.stat().st_size == 0:
        _locked_append(path, HEADER, only_if_empty=True)


def append_row(path: Path, row: dict[str, Any]) -> None:
    """Append one row in one write, under a file lock, flushed and fsynced."""
    line = format_row(row)
    ensure_header(path)
    _locked_append(path, line)


def _locked_append(path: Path, text: str, only_if_empty: bool = False) -> None:
    from filelock import FileLock

    with FileLock(str(path) + ".lock"):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if only_if_empty and os.fstat(fd).st_size > 0:
                return
            data = text.encode()
            if os.write(fd, data) != len(data):
                raise OSError(f"{path}: short write")
            os.fsync(fd)
        finally:
            os.close(fd)


def read_results(path: Path) -> pl.DataFrame:
    """The rows as a typed polars DataFrame; ResultsError (line, column, fix) when malformed."""
    import polars as pl

    if not path.exists():
        raise ResultsError(f"{path}: not found; create it with the header line, or run `just eval` once")
    with path.open("rb") as f:
        header = f.readline().decode().rstrip("\n").split("\t")
    if header != list(COLUMNS):
        missing = [c for c in COLUMNS if c not in header]
        unknown = [c for c in header if c not in COLUMNS]
        detail = f"missing {missing}" if missing else f"unknown {unknown}" if unknown else "columns out of order"
        raise ResultsError(f"{path} line 1: header does not match the schema ({detail}); {_fix(path)}")
    # polars pads a short line with nulls, so count the tabs: every line has exactly one per column boundary.
    data = path.read_bytes()
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if data.count(b"\t") != (len(COLUMNS) - 1) * lines:
        raise _ragged_line(path)
    try:
        raw = pl.read_csv(data, separator="\t", infer_schema=False, quote_char=None)
    except pl.exceptions.ComputeError:
        raise _ragged_line(path) from None
    if raw.width != len(COLUMNS):
        raise _ragged_line(path)
    typed = raw.with_columns(
        pl.col(name).cast(pl.Float64 if TYPES[name] is float else pl.Int64, strict=False) for name in NUMERIC
    )
    for name in NUMERIC:
        unparsed = typed[name].is_null() & raw[name].is_not_null() & (raw[name] != "")
        if unparsed.any():
            i = int(unparsed.arg_max())
            kind = "a number" if TYPES[name] is float else "an integer"
            raise ResultsError(f"{path} line {i + 2}: column {name} is {raw[name][i]!r}, expected {kind}; {_fix(path)}")
    return typed


def _ragged_line(path: Path) -> ResultsError:
    with path.open() as f:
        for n, line in enumerate(f, start=1):
            fields = line.rstrip("\n").split("\t")
            if len(fields) != len(COLUMNS):
                where = (
                    f"column {COLUMNS[len(fields)]} onwards is missing" if len(fields) < len(COLUMNS)
                    else f"extra fields after column {COLUMNS[-1]}"
                )
                return ResultsError(f"{path} line {n}: {len(fields)} fields, expected {len(COLUMNS)} ({where}); {_fix(path)}")
    return ResultsError(f"{path}: unreadable as TSV; {_fix(path)}")
