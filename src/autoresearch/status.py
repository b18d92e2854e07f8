"""The morning dashboard: ideas and the loop's mode, worktrees, results, calibration, journal, queue.

One rich screen printed once. It must answer in well under a second on 10,000 result rows, so
it reads results.tsv once with polars (vectorised), and nothing here imports torch or GitPython.
Usage:

    autoresearch status        (or: just status)
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl
    from rich.console import RenderableType

    from autoresearch.paths import Project

IDEATE_BELOW = 30
"""With fewer ideas than this the loop is in IDEATE mode, else IMPLEMENT (program.md)."""
LAST_RESULTS = 5
LAST_JOURNAL_ENTRIES = 3


def print_status(project: Project) -> None:
    from rich.console import Group

    from autoresearch.leaderboard import console

    sections = [
        _ideas_section(project),
        _worktrees_section(project),
        _results_section(project),
        _journal_section(project),
        _queue_section(project),
    ]
    console().print(Group(*(s for s in sections if s is not None)))


def _panel(body: RenderableType, title: str) -> RenderableType:
    from rich.panel import Panel

    return Panel(body, title=f"[bold]{title}[/bold]", title_align="left", expand=True)


def _ideas_section(project: Project) -> RenderableType:
    from rich.text import Text

    from autoresearch.ideas import STATUSES, load_ideas

    ideas = load_ideas(project)
    counts = Counter(idea.status for idea in ideas)
    known = [f"{counts[s]} {s}" for s in STATUSES if counts[s]]
    other = [f"{n} {s}" for s, n in sorted(counts.items()) if s not in STATUSES]
    text = Text(f"{len(ideas)} ideas" + (": " + " · ".join(known + other) if ideas else ""))
    if len(ideas) < IDEATE_BELOW:
        text.append(f"\nmode IDEATE", style="bold yellow")
        text.append(f": fewer than {IDEATE_BELOW} ideas; research and brainstorm (`autoresearch idea new`)")
    else:
        text.append(f"\nmode IMPLEMENT", style="bold green")
        text.append(f": {IDEATE_BELOW}+ ideas; implement the best one (`autoresearch idea next`)")
    return _panel(text, "Ideas")


def _worktrees_section(project: Project) -> RenderableType:
    from rich.table import Table

    from autoresearch.worktrees import list_worktrees

    trees = list_worktrees(project)
    if not trees:
        return _panel("no worktrees (open one per idea: `autoresearch worktree new SLUG`)", "Worktrees")
    table = Table(show_edge=False, pad_edge=False, expand=False)
    for name in ("slug", "branch", "state", "ahead", "last result"):
        table.add_column(name, justify="right" if name == "ahead" else "left")
    for t in trees:
        state = "[red]missing (git worktree prune)[/red]" if t.missing else "[yellow]dirty[/yellow]" if t.dirty else "clean"
        table.add_row(t.slug, t.branch, state, str(t.ahead), t.last_result or "")
    return _panel(table, f"Worktrees ({len(trees)})")


def _results_section(project: Project) -> RenderableType:
    from rich.console import Group

    from autoresearch.leaderboard import last_rows, load, rows_table

    if not project.results.exists():
        return _panel(f"{project.results.name} not found; run `just eval` to make the first row", "Results")
    df, direction = load(project)
    if df.height == 0:
        return _panel(f"{project.results.name}: no rows yet; run `just eval`", "Results")
    last = rows_table(last_rows(df, LAST_RESULTS), f"last {min(LAST_RESULTS, df.height)} results")
    return _panel(Group(_profiles_table(project, df, direction), "", last), f"Results ({df.height} rows, {direction} val_bpb is better)")


def _profiles_table(project: Project, df: pl.DataFrame, direction: str) -> RenderableType:
    """Per profile: row counts, baseline (first ok row), best ok row, the gain, the calibrated threshold."""
    import polars as pl
    from rich.table import Table

    from autoresearch.leaderboard import MAIN_IDEA, baseline, best_rows
    from autoresearch.stats import load_calibration

    counts = df.group_by("profile", maintain_order=True).agg(
        rows=pl.len(), ok=(pl.col("status") == "ok").sum(), crash=(pl.col("status") == "crash").sum()
    )
    bests = {r["profile"]: r for r in best_rows(df, direction).iter_rows(named=True)}
    table = Table(show_edge=False, pad_edge=False, expand=False)
    for name in ("profile", "rows", "ok", "crash", "baseline", "best", "gain", "best idea (commit)", "noise threshold"):
        table.add_column(name, justify="right" if name in ("rows", "ok", "crash", "baseline", "best", "gain") else "left")
    for c in counts.iter_rows(named=True):
        profile = c["profile"]
        base, best = baseline(df, profile), bests.get(profile)
        calibration = load_calibration(project.calibration, profile)
        gain = ""
        if base and best:
            delta = (base["val_bpb"] - best["val_bpb"]) if direction == "lower" else (best["val_bpb"] - base["val_bpb"])
            gain = f"{delta:+.4f}"
        table.add_row(
            profile or "",
            str(c["rows"]), str(c["ok"]), f"[red]{c['crash']}[/red]" if c["crash"] else "0",
            f"{base['val_bpb']:.4f}" if base else "",
            f"[bold]{best['val_bpb']:.4f}[/bold]" if best else "",
            gain,
            f"{best['idea'] or MAIN_IDEA} ({best['commit']})" if best else "",
            f"{calibration['threshold']:.4f}" if calibration else "[dim]uncalibrated: run `just calibrate`[/dim]",
        )
    return table


def _journal_section(project: Project) -> RenderableType:
    from rich.markup import escape

    from autoresearch.journal import parse

    path = project.research_journal
    if not path.exists():
        return _panel(f"{path.name} not found", "Research journal")
    _, entries = parse(path.read_text())
    if not entries:
        return _panel(f"{path.name}: no entries yet", "Research journal")
    # Journals are newest-first: the latest entries are at the top.
    lines = "\n".join(f"• {escape(entry.heading)}" for entry in entries[:LAST_JOURNAL_ENTRIES])
    return _panel(lines, f"Research journal (latest {min(LAST_JOURNAL_ENTRIES, len(entries))} of {len(entries)})")


def _queue_section(project: Project) -> RenderableType | None:
    """The queue backend's summary, or no section when `queue.summary` says no backend is installed."""
    from autoresearch.queue import summary

    text = summary(project)
    return None if text is None else _panel(text, "Queue")
