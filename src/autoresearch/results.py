"""results.tsv: the schema (declared once), the signed locked append, and the one query API.

The first five columns are karpathy/autoresearch's (`commit <metric> memory_gb status description`);
the second is the project's metric, named by `[tool.autoresearch] metric` (val_bpb for the default
problem). Only the eval process appends (under a file lock, one write, fsynced); every row carries
an HMAC (`sig`) that only it can make. Reading never rewrites the file. Usage:

    from autoresearch import results
    rec = results.load(project, config)                  # a Record; missing file -> no rows
    rec = results.load(project, config, missing="error") # missing file -> ResultsError
    rec.ok(); rec.best_per_profile(); rec.of_idea("rotary"); rec.of_code("3fa9c2e1d0b4", "cpu")
    results.append(project, config.metric.name, row)     # the eval process only
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from autoresearch.errors import UserError

if TYPE_CHECKING:
    import polars as pl

    from autoresearch.config import Config
    from autoresearch.metric import Metric
    from autoresearch.paths import Project

METRIC = "{metric}"
"""Stands for the metric's column in SCHEMA; `columns(name)` puts the project's metric name there."""


@dataclass(frozen=True)
class Column:
    name: str
    type: type
    meaning: str


# The README's schema table is generated from this.
SCHEMA: tuple[Column, ...] = (
    Column(
        "commit",
        str,
        "short hash of HEAD when the run started; suffix -dirty when the agent's code had uncommitted edits (`code` says exactly what ran)",
    ),
    Column(
        METRIC,
        float,
        "the project's metric (`[tool.autoresearch] metric`: val_bpb for the default problem); empty on a crash",
    ),
    Column("memory_gb", float, "peak memory of the training process in GB (CUDA: max allocated; CPU: max RSS)"),
    Column("status", str, "ok or crash"),
    Column("description", str, "what was tried: --description, else the last commit subject"),
    Column("timestamp", str, "UTC time the row was written, ISO 8601"),
    Column("branch", str, "git branch of the checkout, e.g. exp/rotary-base"),
    Column("idea", str, "idea slug (from the exp/<slug> branch, or --idea)"),
    Column("seed", int, "training seed"),
    Column("profile", str, "budget profile of eval.py: cpu, cuda, ... (smoke never writes rows)"),
    Column("budget", str, "units (a fixed number of training units, the default) or time (a fixed training time)"),
    Column("used", int, "training units handed to the training process"),
    Column("unit", str, "what a training unit is: tokens, examples, ..."),
    Column(
        "optimum",
        float,
        "the best value the metric can take on the validation split, where the problem knows it (the default problem: its exact Bayes floor); empty otherwise",
    ),
    Column("gap", float, "how far the metric is from the optimum; empty without one"),
    Column("training_seconds", float, "wall time of training, by the eval process's clock"),
    Column("total_seconds", float, "wall time of the whole eval process"),
    Column("params", int, "model parameters, as the training process reports them"),
    Column("steps", int, "batches handed out"),
    Column("threads", int, "CPU threads of the training process"),
    Column(
        "reason",
        str,
        "why a crash happened: exception, nan, timeout, leak, interrupted, tamper, output, sandbox; empty when ok",
    ),
    Column(
        "verdict",
        str,
        "better, within-noise or worse than the mean of the parent's rows (same profile and budget) by the calibrated threshold; baseline for a run of the parent's own code; no-parent-rows; uncalibrated",
    ),
    Column("code", str, "hash of the agent's code as it ran (the files of `[tool.autoresearch] code`)"),
    Column("parent", str, "code hash of the champion the run came from: main's code where the branch forked"),
    Column("label", str, "queue label, Q: ... H: ... (from AUTORESEARCH_LABEL)"),
    Column("kind", str, "experiment or calibration"),
    Column("sandbox", str, "how the training process was confined: landlock-abiN, or none"),
    Column("run", str, "the run folder (log, diff against the parent, budget, environment), relative to the root"),
    Column("eval_hash", str, "hash of the FROZEN files (eval.py, the toolkit) as they were when the row was made"),
    Column("val_hash", str, "hash of the validation data: the split must never change"),
    Column("data", str, "the data the run used, as eval.py describes it: source, files, bytes"),
    Column(
        "sig", str, "proof that the eval process wrote the row: an HMAC with the project's key (README, 'The record')"
    ),
)
TYPES: dict[str, type] = {c.name: c.type for c in SCHEMA}


def columns(metric: str) -> tuple[str, ...]:
    return tuple(metric if c.name == METRIC else c.name for c in SCHEMA)


def header(metric: str) -> str:
    return "\t".join(columns(metric)) + "\n"


def type_of(name: str, metric: str) -> type:
    return float if name == metric else TYPES[name]


class ResultsError(UserError):
    """A malformed results.tsv; the message names the line and the column and says how to fix it."""


def _fix(path: Path) -> str:
    return f"fix the line or restore the file with `git checkout {path.name}`"


# ----------------------------------------------------------------------------------------- writing


def _cell(value: Any, kind: type) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if kind is float:
        x = float(value)
        return f"{x:.6f}" if x == 0 or 1e-3 <= abs(x) < 1e9 else f"{x:.6e}"
    if kind is int:
        return str(int(value))
    return " ".join(str(value).split())  # no tabs or newlines inside a cell


def format_cells(row: dict[str, Any], metric: str) -> str:
    """The row's cells but the signature, tab-separated, no newline: the text the signature covers."""
    names = columns(metric)[:-1]
    missing, extra = set(names) - row.keys(), row.keys() - set(names) - {"sig"}
    if missing or extra:
        raise ValueError(f"results row: missing columns {sorted(missing)}, unknown columns {sorted(extra)}")
    return "\t".join(_cell(row[name], type_of(name, metric)) for name in names)


def lock(path: Path):
    from filelock import FileLock

    return FileLock(str(path) + ".lock")


def append(project: Project, metric: str, row: dict[str, Any]) -> str:
    """Sign and append one row in one write, under the lock, flushed and fsynced; the line written."""
    from autoresearch import results_cache
    from autoresearch.signing import project_key, sign_with

    key = project_key(project)
    text = format_cells(row, metric)
    line = f"{text}\t{sign_with(key, text)}\n"
    path = project.results
    with lock(path):
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            before = results_cache.stat_of(fd)
            size = before[1]
            if size == 0:
                line = header(metric) + line
            else:
                first = os.pread(fd, min(size, 65536), 0).split(b"\n", 1)[0].decode(errors="replace")
                if first + "\n" != header(metric):
                    raise ResultsError(f"{path} line 1: the header is not that of metric {metric!r}; {_fix(path)}")
            data = line.encode()
            if os.write(fd, data) != len(data):
                raise OSError(f"{path}: short write")
            os.fsync(fd)
            results_cache.appended(project, key, metric, before, results_cache.stat_of(fd))
        finally:
            os.close(fd)
    return line


# ----------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Record:
    """The rows of results.tsv as a typed polars DataFrame (plus `row`, its 1-based number), and the metric."""

    df: pl.DataFrame
    metric: Metric
    path: Path

    @property
    def value(self) -> str:
        """The metric's column."""
        return self.metric.name

    @property
    def height(self) -> int:
        return self.df.height

    def ok(self, df: pl.DataFrame | None = None) -> pl.DataFrame:
        """Rows that finished with a number."""
        return (self.df if df is None else df).filter(self.is_ok())

    def is_ok(self) -> pl.Expr:
        return finished(self.value)

    def experiments(self) -> pl.DataFrame:
        import polars as pl

        return self.df.filter(pl.col("kind") != "calibration")

    def ranked(self, df: pl.DataFrame | None = None) -> pl.DataFrame:
        """The ok rows of `df` (default: all), best first; ties keep file order."""
        return self.ok(df).sort([self.value, "row"], descending=[self.metric.descending, False])

    def best_of(self, groups: list[str]) -> pl.DataFrame:
        """The best ok row of each group (the earliest of equals), in file order.

        One pass with a window over the groups, not a sort: a million rows take a tenth of a second."""
        import polars as pl

        value, ok = pl.col(self.value), self.is_ok()
        best = value.filter(ok).max() if self.metric.descending else value.filter(ok).min()
        winners = self.df.filter(ok & (value == best.over(groups)))
        return winners.unique(subset=groups, keep="first", maintain_order=True)

    def best_per_profile(self) -> pl.DataFrame:
        """The best ok row of each profile, profiles in order of first appearance."""
        return self._in_profile_order(self.best_of(["profile"]), ["row"])

    def newest_per_idea(self) -> pl.DataFrame:
        """The last row of each idea (rows with no idea left out)."""
        import polars as pl

        idea = pl.col("idea").is_not_null() & (pl.col("idea") != "")
        return self.df.filter(idea & (pl.col("row") == pl.col("row").filter(idea).max().over("idea")))

    def leaderboard(self, by: Literal["row", "idea"] = "row", top: int = 20) -> pl.DataFrame:
        """The top `top` ok rows of each profile, with `rank` (1 = best); by="idea" keeps each idea's best row."""
        import polars as pl

        if by not in ("row", "idea"):
            raise UserError(f"leaderboard --by is {by!r}, expected 'row' or 'idea'")
        if top < 1:
            raise UserError(f"leaderboard --last is {top}, expected at least 1")
        if by == "idea":
            ranked = self._with_rank(self.best_of(["profile", "idea"]))
        else:  # the order from the few columns it needs, then only the top rows in full
            narrow = self._with_rank(self.ok(self.df.select("row", "profile", "status", self.value)))
            ranked = self.df.join(narrow.filter(pl.col("rank") <= top).select("row", "rank"), on="row")
        return self._in_profile_order(ranked.filter(pl.col("rank") <= top), ["rank"])

    def _with_rank(self, df: pl.DataFrame) -> pl.DataFrame:
        """`df` best first, with `rank` within its profile (1 = best; ties by file order)."""
        import polars as pl

        ranked = df.sort([self.value, "row"], descending=[self.metric.descending, False])
        return ranked.with_columns(rank=pl.int_range(1, pl.len() + 1).over("profile"))

    def _in_profile_order(self, df: pl.DataFrame, then: list[str]) -> pl.DataFrame:
        """`df` sorted by the file order of each profile's first row, then by `then`."""
        import polars as pl

        first = self.df.group_by("profile").agg(pl.col("row").min().alias("_first"))
        return df.join(first, on="profile").sort(["_first", *then]).drop("_first")

    def last(self, n: int) -> pl.DataFrame:
        if n < 1:
            raise UserError(f"--last is {n}, expected at least 1")
        return self.df.tail(n)

    def of_idea(self, slug: str) -> pl.DataFrame:
        import polars as pl

        return self.df.filter((pl.col("idea") == slug) | (pl.col("branch") == f"exp/{slug}"))

    def of_code(self, code: str, profile: str | None = None, budget: str | None = None) -> pl.DataFrame:
        """The ok rows made by one version of the agent's code (of a profile and budget mode, when given)."""
        import polars as pl

        cond = pl.col("code") == code
        if profile is not None:
            cond &= pl.col("profile") == profile
        if budget is not None:
            cond &= pl.col("budget") == budget
        return self.ok(self.df.filter(cond))

    def rows(self, df: pl.DataFrame | None = None) -> list[dict[str, Any]]:
        return (self.df if df is None else df).to_dicts()


def empty(config: Config, path: Path) -> Record:
    import polars as pl

    return Record(pl.DataFrame(schema=_schema(config.metric.name)).with_row_index("row", offset=1), config.metric, path)


def _schema(metric: str) -> dict[str, Any]:
    import polars as pl

    dtypes = {float: pl.Float64, int: pl.Int64, str: pl.String}
    return {name: dtypes[type_of(name, metric)] for name in columns(metric)}


def finished(metric: str) -> pl.Expr:
    """The filter of rows that finished with a number (status ok, the metric set)."""
    import polars as pl

    return (pl.col("status") == "ok") & pl.col(metric).is_not_null()


def load(project: Project, config: Config, missing: Literal["empty", "error"] = "empty") -> Record:
    """The validated rows of the root results.tsv; ResultsError (line, column, fix) when malformed.

    A missing or empty file is no rows (missing="empty") or a ResultsError (missing="error"). A big
    file is read through its signed Parquet copy (results_cache).
    """
    from autoresearch import results_cache

    path, metric = project.results, config.metric
    if not path.exists() or path.stat().st_size == 0:
        if missing == "error":
            raise ResultsError(f"{path}: not found; run `just eval` to make the first row")
        return empty(config, path)
    head = header(metric.name).encode()
    df = results_cache.read(project, path, metric.name, head, lambda data, first: _parse(path, metric, data, first))
    return Record(df, metric, path)


def read(path: Path, metric: Metric) -> Record:
    """The validated rows of results.tsv at `path`, parsed from the text (no copy)."""
    return Record(_parse(path, metric, path.read_bytes(), 1), metric, path)


def _parse(path: Path, metric: Metric, data: bytes, first_row: int) -> pl.DataFrame:
    """The rows of `data` (the header, then rows numbered from `first_row`), with `row`; ResultsError when malformed."""
    import polars as pl

    names = columns(metric.name)
    first = data.split(b"\n", 1)[0].decode(errors="replace").split("\t")
    if first != list(names):
        raise _header_error(path, first, names, metric.name)
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if b"\n\n" in data or not data.endswith(b"\n") or data.count(b"\t") != (len(names) - 1) * lines:
        raise _bad_line(path, names)  # polars would pad a short line with nulls, skip a blank one, or take a torn one
    try:
        df = pl.read_csv(data, separator="\t", schema=_schema(metric.name), quote_char=None, has_header=True)
    except (pl.exceptions.ComputeError, pl.exceptions.InvalidOperationError):
        raise _bad_value(path, names, metric.name) from None
    return df.with_row_index("row", offset=first_row)


def _header_error(path: Path, found: list[str], names: tuple[str, ...], metric: str) -> ResultsError:
    if len(found) > 1 and found[0] == "commit" and found[1] != metric and set(found[2:]) == set(names[2:]):
        return ResultsError(
            f"{path} line 1: the metric column is {found[1]!r} but [tool.autoresearch] metric is {metric!r}; "
            "make them agree (META_MODE work on pyproject.toml, or restore the file with `git checkout results.tsv`)"
        )
    missing = [c for c in names if c not in found]
    unknown = [c for c in found if c not in names]
    detail = f"missing {missing}" if missing else f"unknown {unknown}" if unknown else "columns out of order"
    return ResultsError(f"{path} line 1: header does not match the schema ({detail}); {_fix(path)}")


def _bad_line(path: Path, names: tuple[str, ...]) -> ResultsError:
    with path.open(encoding="utf-8", errors="replace", newline="") as f:
        for n, line in enumerate(f, start=1):
            if line in ("\n", ""):
                return ResultsError(f"{path} line {n}: blank line; delete it ({_fix(path)})")
            if not line.endswith("\n"):
                return ResultsError(f"{path} line {n}: torn last line (no newline: a write was cut off); {_fix(path)}")
            fields = line.rstrip("\n").split("\t")
            if len(fields) != len(names):
                where = (
                    f"column {names[len(fields)]} onwards is missing"
                    if len(fields) < len(names)
                    else f"extra fields after column {names[-1]}"
                )
                return ResultsError(
                    f"{path} line {n}: {len(fields)} fields, expected {len(names)} ({where}); {_fix(path)}"
                )
    return ResultsError(f"{path}: unreadable as TSV; {_fix(path)}")


def _bad_value(path: Path, names: tuple[str, ...], metric: str) -> ResultsError:
    with path.open(encoding="utf-8", errors="replace") as f:
        next(f)
        for n, line in enumerate(f, start=2):
            for name, cell in zip(names, line.rstrip("\n").split("\t")):
                kind = type_of(name, metric)
                if kind is str or cell == "":
                    continue
                try:
                    float(cell) if kind is float else int(cell)
                except ValueError:
                    what = "a number" if kind is float else "an integer"
                    return ResultsError(f"{path} line {n}: column {name} is {cell!r}, expected {what}; {_fix(path)}")
    return ResultsError(f"{path}: unreadable as TSV; {_fix(path)}")
