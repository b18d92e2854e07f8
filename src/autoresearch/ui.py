"""Presentation: the one console, the standard results table, styles and small print helpers.

Domain modules return data; the CLI functions print it through here, so the look lives in one
place. rich is imported inside each function (bookkeeping commands must start fast). Usage:

    from autoresearch import ui
    ui.show(ui.rows_table(record, record.last(20), "last 20 rows"))
    ui.show("plain text")
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl
    from rich.console import Console, RenderableType
    from rich.table import Table
    from rich.text import Text

    from autoresearch.results import Record

MAIN_IDEA = "(main)"
"""How a row with no idea is shown: it ran on the main branch."""
DESCRIPTION_WIDTH = 48
VERDICT_STYLE = {
    "better": "green",
    "worse": "red",
    "within-noise": "yellow",
    "baseline": "cyan",
    "uncalibrated": "dim",
    "no-parent-rows": "dim",
}
STATE_STYLE = {"proposed": "", "implementing": "yellow", "done": "green", "kept": "bold green", "rejected": "dim"}


def console() -> Console:
    """The console; piped output (an agent's tool call) gets 160 columns instead of wrapping at 80."""
    from rich.console import Console

    return Console(width=160) if "COLUMNS" not in os.environ and not Console().is_terminal else Console()


def show(*things: RenderableType, highlight: bool = False) -> None:
    """Print each thing on its own lines."""
    for thing in things:
        console().print(thing, highlight=highlight)


def table(*columns: str, title: str = "", right: tuple[str, ...] = ()) -> Table:
    """A borderless table with left-aligned columns, except those named in `right`."""
    from rich.table import Table

    t = Table(title=title or None, title_justify="left", show_edge=False, pad_edge=False)
    for name in columns:
        t.add_column(name, justify="right" if name in right else "left")
    return t


def cell(value: Any, fmt: str = "") -> str:
    return "" if value is None else format(value, fmt)


def truncate(text: str | None, width: int = DESCRIPTION_WIDTH) -> str:
    text = text or ""
    return text if len(text) <= width else text[: width - 1] + "…"


def plain(text: str) -> Text:
    """Text shown as written: brackets in a title or heading are not read as rich markup."""
    from rich.text import Text

    return Text(text)


def clipped(text: str | Text) -> Text:
    from rich.text import Text

    out = Text(text) if isinstance(text, str) else text
    out.no_wrap, out.overflow = True, "ellipsis"
    return out


def styled(word: str, styles: dict[str, str]) -> Text:
    from rich.text import Text

    return Text(word, style=styles.get(word, ""))


def status_text(row: dict[str, Any]) -> Text:
    from rich.text import Text

    out = Text("ok") if row["status"] == "ok" else Text(f"{row['status']}: {row['reason'] or '?'}", style="red")
    if row.get("kind") == "calibration":
        out.append(" (calibration)", style="dim")
    return out


def rows_table(record: Record, df: pl.DataFrame, title: str = "", rank: bool = False) -> Table:
    """The standard table of results rows, one line each; text columns shrink and end in an ellipsis."""
    from rich.table import Table

    metric = record.metric.name
    t = Table(title=title or None, title_justify="left", show_edge=False, pad_edge=False)
    t.add_column("rank" if rank else "#", justify="right", style="dim", no_wrap=True)
    t.add_column("commit", no_wrap=True)
    t.add_column("idea")
    t.add_column("seed", justify="right", no_wrap=True)
    t.add_column("profile", no_wrap=True)
    t.add_column(metric, justify="right", no_wrap=True)
    t.add_column("gap", justify="right", no_wrap=True)
    t.add_column("verdict", no_wrap=True)
    for name in ("status", "label", "description"):
        t.add_column(name)
    rows = df.to_dicts()
    for r, after in zip(rows, [*rows[1:], None]):
        t.add_row(
            str(r["rank"] if rank else r["row"]),
            r["commit"] or "",
            clipped(r["idea"] or MAIN_IDEA),
            cell(r["seed"]),
            r["profile"] or "",
            cell(r[metric], ".4f"),
            cell(r["gap"], ".4f"),
            styled(r["verdict"] or "", VERDICT_STYLE),
            clipped(status_text(r)),
            clipped(truncate(r["label"], 28)),
            clipped(truncate(r["description"])),
            end_section=rank and after is not None and after["profile"] != r["profile"],
        )
    return t


def panel(body: RenderableType, title: str) -> RenderableType:
    from rich.panel import Panel

    return Panel(body, title=f"[bold]{title}[/bold]", title_align="left", expand=True)
