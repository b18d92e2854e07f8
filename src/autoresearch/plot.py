"""The progress plot: the metric per experiment, the running best, crashes, and the ideas that moved the best.

Writes 9_reports/progress.png in the root checkout (atomically), headless: matplotlib's
object-oriented Figure renders with Agg and never touches pyplot or a display. Usage:

    autoresearch plot          (or: just plot)
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autoresearch.errors import UserError

if TYPE_CHECKING:
    import polars as pl

    from autoresearch.config import Config
    from autoresearch.metric import Metric
    from autoresearch.paths import Project

PROGRESS_PNG = "progress.png"
LABEL_WIDTH = 28
OK_COLOUR, BEST_COLOUR, CRASH_COLOUR, CALIBRATION_COLOUR = "#9aa5b1", "#1b7f6b", "#d62828", "#e9c46a"


def plot_progress(project: Project, config: Config) -> Path:
    """Plot the experiments of the most common profile and return the path of the PNG."""
    import polars as pl

    from autoresearch import results

    record = results.load(project, config, missing="error")
    df, metric = record.df, record.metric
    experiments = record.experiments()
    if experiments.height == 0:
        raise UserError(f"{project.results}: no experiment rows yet; run `just eval` first")
    by_profile = (
        experiments.group_by("profile", maintain_order=True).len().sort("len", descending=True, maintain_order=True)
    )
    profile = by_profile["profile"][0]
    others = [f"{p} ({n} row{'s' * (n != 1)})" for p, n in by_profile.iter_rows()][1:]
    rows = experiments.filter(pl.col("profile") == profile).with_row_index("x", offset=1)
    calibration = record.ok(df.filter((pl.col("kind") == "calibration") & (pl.col("profile") == profile)))

    title = f"{project.root.name}: {metric.name} per experiment, profile {profile}"
    if others:
        title += f" (the most common profile; not shown: {', '.join(others)})"
    fig = _figure(rows, calibration, metric, title)
    out = project.reports / PROGRESS_PNG
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        fig.savefig(tmp, format="png")
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a plot is for everyone who reads the project
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


def _running_best(ok: pl.DataFrame, metric: Metric) -> pl.DataFrame:
    """Adds `best` (the running best) and `improved` (this row set a new best; the first ok row does)."""
    import polars as pl

    val = pl.col(metric.name)
    best = val.cum_max() if metric.descending else val.cum_min()
    previous = best.shift(1)
    improved = previous.is_null() | ((val > previous) if metric.descending else (val < previous))
    return ok.with_columns(best=best, improved=improved)


def _figure(rows: pl.DataFrame, calibration: pl.DataFrame, metric: Metric, title: str) -> Any:
    import polars as pl
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    from matplotlib.transforms import blended_transform_factory

    from autoresearch import results

    name, direction = metric.name, metric.direction
    ok = _running_best(rows.filter(results.finished(name)), metric)
    crashed = rows.filter(~results.finished(name))
    optima = rows["optimum"].drop_nulls()
    floor = optima[-1] if optima.len() else None

    fig = Figure(figsize=(12, 6), dpi=120, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=11, loc="left")
    ax.set_xlabel("experiment (order in results.tsv; calibration runs left out)")
    ax.set_ylabel(f"{name} ({direction} is better)")
    ax.grid(True, alpha=0.25)
    n = rows.height
    ax.set_xlim(0, n + 1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))

    low, high = _y_range(ok[name].to_list(), calibration[name].to_list(), floor, direction)
    span = high - low
    ax.set_ylim(low - 0.06 * span, high + 0.14 * span)  # headroom for the crash marks
    if calibration.height:
        lo, hi = float(calibration[name].min()), float(calibration[name].max())  # type: ignore[arg-type]
        ax.axhspan(
            lo,
            hi,
            color=CALIBRATION_COLOUR,
            alpha=0.3,
            lw=0,
            label=f"calibration seeds ({calibration.height}): {lo:.4f} to {hi:.4f}",
        )
    if floor is not None:
        ax.axhline(floor, ls="--", lw=1.2, color="#444444", label=f"known optimum {floor:.4f}")

    if ok.height:
        x, y = ok["x"].to_list(), ok[name].to_list()
        shown = [min(max(v, low), high) for v in y]
        off = [s != v for s, v in zip(shown, y)]
        ax.scatter(
            [a for a, o in zip(x, off) if not o],
            [s for s, o in zip(shown, off) if not o],
            s=22,
            color=OK_COLOUR,
            zorder=2,
            label=f"ok run ({ok.height - sum(off)})",
        )
        if any(off):
            edge = high + 0.05 * span if direction == "lower" else low - 0.03 * span
            ax.scatter(
                [a for a, o in zip(x, off) if o],
                [edge] * sum(off),
                marker="^" if direction == "lower" else "v",
                s=34,
                color=OK_COLOUR,
                zorder=2,
                label=f"ok run off the scale ({sum(off)})",
            )
        steps_x, steps_y = [*x, n + 1], [*ok["best"].to_list(), ok["best"][-1]]
        ax.step(
            steps_x, steps_y, where="post", lw=2, color=BEST_COLOUR, zorder=3, label=f"running best {steps_y[-1]:.4f}"
        )
        best = ok.filter(pl.col("improved"))
        ax.scatter(
            best["x"],
            best[name],
            s=46,
            color=BEST_COLOUR,
            edgecolor="white",
            lw=0.8,
            zorder=4,
            label=f"new best ({best.height})",
        )
        for i, r in enumerate(best.iter_rows(named=True)):
            ax.annotate(
                _label(r, name),
                (r["x"], r[name]),
                xytext=(5, 7 if i % 2 == 0 else 16),
                textcoords="offset points",
                fontsize=8,
                rotation=25,
                color="#123d35",
                zorder=5,
            )

    if crashed.height:
        top = blended_transform_factory(ax.transData, ax.transAxes)
        ax.scatter(
            crashed["x"],
            [0.97] * crashed.height,
            transform=top,
            marker="x",
            s=36,
            lw=1.6,
            color=CRASH_COLOUR,
            zorder=4,
            clip_on=False,
            label=f"crash ({crashed.height})",
        )
    ax.legend(loc="lower left", fontsize=8, framealpha=0.9)
    return fig


def _y_range(ok: list[float], calibration: list[float], floor: float | None, direction: str) -> tuple[float, float]:
    """The value range to show: the floor, the calibration band and the ok runs, a diverged run aside.

    A run much worse than the typical one (say a NaN-adjacent 8 bpb) would flatten everything else,
    so the worse end stops at the 90th percentile or the first run, whichever is worse.
    """
    values = [*ok, *calibration]
    if not values:
        values = [floor] if floor is not None else [0.0, 1.0]
    lo, hi = min(values), max(values)
    lowish, highish = sorted(values)[len(values) // 10], sorted(values)[-1 - len(values) // 10]
    first = ok[0] if ok else None
    if direction == "lower":
        hi = min(hi, max(highish, first if first is not None else highish) + 0.25 * (highish - lo or 1))
    else:
        lo = max(lo, min(lowish, first if first is not None else lowish) - 0.25 * (hi - lowish or 1))
    if floor is not None:
        lo, hi = min(lo, floor), max(hi, floor)
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def _label(row: dict, name: str) -> str:
    text = row["idea"] or row["description"] or row["commit"] or ""
    text = text if len(text) <= LABEL_WIDTH else text[: LABEL_WIDTH - 1] + "…"
    return f"{text} {row[name]:.3f}"
