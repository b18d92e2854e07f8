"""Ranked views of results.tsv: the best row per profile, the leaderboard, the baseline, the last rows.

Pure polars functions on the DataFrame of `results.read_results`, and rich printers for the CLI.
Rankings are per profile: a cpu number and a cuda number measure different budgets. Usage:

    autoresearch results show --last 20 | autoresearch results best | autoresearch results leaderboard --by idea
    leaderboard(read_results(project.results), by="idea", top=10, direction="lower")
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal

from autoresearch.errors import UserError

if TYPE_CHECKING:
    import polars as pl
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from autoresearch.paths import Project

MAIN_IDEA = "(main)"
"""What an empty idea cell counts as: a row run from the main branch."""
ROW = "row"
"""The 1-based position of a row in results.tsv (its line is ROW + 1)."""
DESCRIPTION_WIDTH = 48


def _numbered(df: pl.DataFrame) -> pl.DataFrame:
    return df if ROW in df.columns else df.with_row_index(ROW, offset=1)


def _ok_ranked(df: pl.DataFrame, direction: str) -> pl.DataFrame:
    """The ok rows, best first; ties keep file order."""
    import polars as pl

    numbered = _numbered(df).with_columns(_first_seen=pl.col(ROW).min().over("profile"))
    ok = numbered.filter((pl.col("status") == "ok") & pl.col("val_bpb").is_not_null())
    return ok.sort(["val_bpb", ROW], descending=[direction == "higher", False])


def best_rows(df: pl.DataFrame, direction: str) -> pl.DataFrame:
    """The best ok row of each profile, profiles in order of first appearance."""
    best = _ok_ranked(df, direction).unique(subset="profile", keep="first", maintain_order=True)
    return best.sort("_first_seen").drop("_first_seen")


def leaderboard(df: pl.DataFrame, by: Literal["row", "idea"] = "row", top: int = 20, direction: str = "lower") -> pl.DataFrame:
    """The top `top` ok rows of each profile by the metric, with a `rank` column (1 = best).

    `by="idea"` keeps each idea's best row; an empty idea counts as MAIN_IDEA.
    """
    import polars as pl

    if by not in ("row", "idea"):
        raise UserError(f"leaderboard --by is {by!r}, expected 'row' or 'idea'")
    if top < 1:
        raise UserError(f"leaderboard --last is {top}, expected at least 1")
    ranked = _ok_ranked(df, direction).with_columns(pl.col("idea").fill_null("").replace("", MAIN_IDEA))
    if by == "idea":
        ranked = ranked.unique(subset=["profile", "idea"], keep="first", maintain_order=True)
    ranked = ranked.with_columns(rank=pl.int_range(1, pl.len() + 1).over("profile"))
    return ranked.filter(pl.col("rank") <= top).sort(["_first_seen", "rank"]).drop("_first_seen")


def baseline(df: pl.DataFrame, profile: str) -> dict[str, Any] | None:
    """The first ok row of `profile` (where it started: status reports the gain over it), or None."""
    import polars as pl

    ok = _numbered(df).filter((pl.col("status") == "ok") & (pl.col("profile") == profile) & pl.col("val_bpb").is_not_null())
    return ok.row(0, named=True) if ok.height else None


def last_rows(df: pl.DataFrame, n: int) -> pl.DataFrame:
    if n < 1:
        raise UserError(f"--last is {n}, expected at least 1")
    return _numbered(df).tail(n)


def console() -> Console:
    """A rich console; piped output (an agent's tool call) gets 160 columns instead of wrapping at 80."""
    from rich.console import Console

    if "COLUMNS" not in os.environ and not Console().is_terminal:
        return Console(width=160)
    return Console()


VERDICT_STYLE = {"better": "green", "worse": "red", "within-noise": "yellow", "baseline": "cyan", "uncalibrated": "dim"}


def _cell(value: Any, fmt: str = "") -> str:
    return "" if value is None else format(value, fmt)


def _truncate(text: str | None, width: int = DESCRIPTION_WIDTH) -> str:
    text = text or ""
    return text if len(text) <= width else text[: width - 1] + "…"


def _clipped(text: str | Text) -> Text:
    from rich.text import Text

    text = Text(text) if isinstance(text, str) else text
    text.no_wrap, text.overflow = True, "ellipsis"
    return text


def rows_table(df: pl.DataFrame, title: str = "", rank: bool = False) -> Table:
    """The standard table of results rows (one line each, description truncated)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title or None, title_justify="left", show_edge=False, pad_edge=False)
    # Numbers never wrap; the text columns shrink (widest first) and end in an ellipsis on a narrow console.
    table.add_column("rank" if rank else "#", justify="right", style="dim", no_wrap=True)
    table.add_column("commit", no_wrap=True)
    table.add_column("idea")
    table.add_column("seed", justify="right", no_wrap=True)
    table.add_column("profile", no_wrap=True)
    table.add_column("val_bpb", justify="right", no_wrap=True)
    table.add_column("gap", justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    for name in ("status", "label", "description"):
        table.add_column(name)
    rows = list(_numbered(df).iter_rows(named=True))
    for r, after in zip(rows, [*rows[1:], None]):
        verdict = r["verdict"] or ""
        status = Text("ok") if r["status"] == "ok" else Text(f"{r['status']}: {r['reason'] or '?'}", style="red")
        if r["kind"] == "calibration":
            status.append(" (calibration)", style="dim")
        table.add_row(
            str(r["rank"] if rank else r[ROW]),
            r["commit"] or "",
            _clipped(r["idea"] or MAIN_IDEA),
            _cell(r["seed"]),
            r["profile"] or "",
            _cell(r["val_bpb"], ".4f"),
            _cell(r["gap"], ".4f"),
            Text(verdict, style=VERDICT_STYLE.get(verdict, "")),
            _clipped(status),
            _clipped(_truncate(r["label"], 28)),
            _clipped(_truncate(r["description"])),
            end_section=rank and after is not None and after["profile"] != r["profile"],
        )
    return table


def load(project: Project) -> tuple[pl.DataFrame, str]:
    """The validated rows of the root results.tsv and the metric direction ('lower' or 'higher')."""
    from autoresearch.results import read_results
    from autoresearch.taxonomy import Taxonomy

    if not project.results.exists():
        raise UserError(f"{project.results}: not found; run `just eval` to make the first row")
    return read_results(project.results), Taxonomy.load(project.pyproject).direction


def _print(project: Project, select) -> None:
    df, direction = load(project)
    if df.height == 0:
        print(f"{project.results.name}: no rows yet; run `just eval`")
        return
    console().print(select(df, direction))


def print_rows(project: Project, last: int) -> None:
    _print(project, lambda df, _: rows_table(last_rows(df, last), f"results.tsv: last {min(last, df.height)} of {df.height} rows"))


def print_best(project: Project) -> None:
    def table(df: pl.DataFrame, direction: str) -> Table:
        best = best_rows(df, direction)
        if best.height == 0:
            return f"{project.results.name}: {df.height} rows, none ok yet"
        return rows_table(best, f"best ok row per profile, {direction} val_bpb is better")

    _print(project, table)


def print_leaderboard(project: Project, by: Literal["row", "idea"], top: int) -> None:
    def table(df: pl.DataFrame, direction: str) -> Table:
        board = leaderboard(df, by, top, direction)
        if board.height == 0:
            return f"{project.results.name}: {df.height} rows, none ok yet"
        what = f"top {top} ideas per profile (each idea's best row)" if by == "idea" else f"top {top} rows per profile"
        return rows_table(board, f"leaderboard: {what}, {direction} val_bpb is better", rank=True)

    _print(project, table)
