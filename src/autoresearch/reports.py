"""Experiment reports in the ROOT checkout's 9_reports/, prefilled from the idea and its results rows.

`new_report` writes `9_reports/{YYYY-MM-DD}_{slug}.md` from `_TEMPLATE.md`: the idea's title and
hypothesis, the rows of branch exp/{slug} (or idea {slug}), the best row's delta against the mean of
its parent's rows (the champion it branched from) and against the best row elsewhere, with the
calibrated noise threshold, the verdicts, and the commands that reproduce each run; the analysis is
left to write. Usage:

    autoresearch report new rotary-base          # prints the path
    autoresearch report list
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autoresearch.errors import UserError
from autoresearch.paths import TEMPLATE

if TYPE_CHECKING:
    import polars as pl

    from autoresearch.config import Config
    from autoresearch.paths import Project
    from autoresearch.results import Record

_PLACEHOLDER = re.compile(r"\{(title|slug|idea_file|date|hypothesis|rows|deltas|verdicts|reproduce)\}")
_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})_(.+)\.md$")


def report_paths(project: Project, slug: str) -> list[Path]:
    return [
        p for p in sorted(project.reports.glob(f"*_{slug}.md")) if (m := _FILE.match(p.name)) and m.group(2) == slug
    ]


def _cell(value: Any, fmt: str = "") -> str:
    if value is None or value == "":
        return ""
    return format(value, fmt).replace("|", "\\|")


def rows_markdown(record: Record, rows: pl.DataFrame) -> str:
    columns = ("commit", "seed", "profile", record.value, "gap", "verdict", "status", "reason", "label")
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    fmt = {record.value: ".6f", "gap": ".6f"}
    for r in rows.iter_rows(named=True):
        lines.append("| " + " | ".join(_cell(r[c], fmt.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


def _where(row: dict[str, Any]) -> str:
    idea = f"idea {row['idea']}, " if row["idea"] else ""
    return f"{idea}commit {row['commit']} on {row['branch']}, seed {row['seed']}"


def deltas_markdown(project: Project, record: Record, mine: pl.DataFrame) -> str:
    """Per profile of the idea's ok rows: its best row against its parent's mean and against the best row elsewhere."""
    import polars as pl

    from autoresearch import stats

    metric = record.metric
    mine_ok = record.ranked(mine)
    if mine_ok.height == 0:
        return "No ok rows yet, so no deltas."
    out = []
    mine_rows = set(mine["row"].to_list())
    for profile in mine_ok["profile"].unique(maintain_order=True).to_list():
        here = mine_ok.filter(pl.col("profile") == profile).row(0, named=True)
        calibration = stats.load_calibration(project.calibration, profile)
        threshold = None if calibration is None else float(calibration["threshold"])
        noise = f"noise threshold ± {threshold:.4f}" if threshold is not None else "uncalibrated: run `just calibrate`"
        out.append(f"- **{profile}** ({metric.describe()}; {noise})")
        out.append(f"  - best here: {here[metric.name]:.6f} ({_where(here)})")
        parent = record.of_code(here["parent"], profile, here["budget"])
        if parent.height:
            mean = stats.mean(parent[metric.name].to_list())
            verdict = stats.verdict(
                here[metric.name], parent[metric.name].to_list(), threshold, metric, own=here["code"] == here["parent"]
            )
            out.append(
                f"  - vs its parent (main's code {here['parent']}, mean of {parent.height} row{'s' * (parent.height > 1)}) "
                f"{mean:.6f}: gain {metric.gain(mean, here[metric.name]):+.6f} → {verdict}"
            )
        else:
            out.append(
                f"  - vs its parent (main's code {here['parent'] or '?'}): no rows of it yet (`just eval` on main)"
            )
        others = record.ranked(record.df.filter((pl.col("profile") == profile) & ~pl.col("row").is_in(list(mine_rows))))
        if others.height:
            best = others.row(0, named=True)
            gain = metric.gain(best[metric.name], here[metric.name])
            out.append(f"  - vs the best row elsewhere {best[metric.name]:.6f} ({_where(best)}): gain {gain:+.6f}")
    return "\n".join(out)


def verdicts_markdown(mine: pl.DataFrame) -> str:
    counts: dict[str, int] = {}
    for r in mine.iter_rows(named=True):
        key = r["verdict"] if r["status"] == "ok" else f"{r['status']} ({r['reason'] or '?'})"
        counts[key or "(none)"] = counts.get(key or "(none)", 0) + 1
    lines = [f"- {key}: {n} row{'s' if n > 1 else ''}" for key, n in counts.items()]
    return (
        "\n".join(lines)
        + "\n\nEach row's verdict is against the mean of its parent's rows (the champion it branched from) when it was written."
    )


def reproduce_markdown(mine: pl.DataFrame) -> str:
    seen, lines, dirty = set(), [], False
    for r in mine.iter_rows(named=True):
        commit = (r["commit"] or "").removesuffix("-dirty")
        dirty |= (r["commit"] or "").endswith("-dirty")
        key = (commit, r["profile"], r["seed"], r["budget"])
        if key in seen:
            continue
        seen.add(key)
        budget = "" if r["budget"] == "units" else f" --budget {r['budget']}"
        lines.append(f"git checkout {commit} && python eval.py --profile {r['profile']} --seed {r['seed']}{budget}")
    note = (
        "\n\nA commit marked -dirty had uncommitted edits when it ran: the run folder's diff.patch has them."
        if dirty
        else ""
    )
    return (
        "From a clean checkout of this repository (a worktree is fine):\n\n```bash\n"
        + "\n".join(lines)
        + "\n```"
        + note
    )


def new_report(project: Project, config: Config, slug: str) -> Path:
    """Write 9_reports/{date}_{slug}.md prefilled from the idea and its rows; refuse if it exists."""
    from autoresearch import results
    from autoresearch.fileio import write_atomic
    from autoresearch.ideas import find_idea, parse_idea

    idea = parse_idea(find_idea(project, slug))
    existing = report_paths(project, slug)
    if existing:
        raise UserError(f"{existing[0].relative_to(project.root)} exists already; edit it (reports are REGULAR files)")
    template = project.reports / TEMPLATE
    if not template.exists():
        raise UserError(f"{template} not found; restore it with `git checkout {project.reports.name}/{TEMPLATE}`")
    record = results.load(project, config)
    mine = record.of_idea(slug)
    now = datetime.now(UTC)
    if mine.height == 0:
        none = f"No result rows yet for exp/{slug}: run `just eval` in 5_worktrees/{slug}, then delete this report and run `just report {slug}` again."
        rows = deltas = verdicts = reproduce = none
    else:
        rows = rows_markdown(record, mine)
        deltas = deltas_markdown(project, record, mine)
        verdicts = verdicts_markdown(mine)
        reproduce = reproduce_markdown(mine)
    values = {
        "title": idea.title,
        "slug": slug,
        "idea_file": idea.path.name,
        "date": f"{now:%Y-%m-%d %H:%M} UTC",
        "hypothesis": idea.hypothesis or "(the idea file states no hypothesis yet)",
        "rows": rows,
        "deltas": deltas,
        "verdicts": verdicts,
        "reproduce": reproduce,
    }
    text = _PLACEHOLDER.sub(lambda m: values[m.group(1)], template.read_text())
    path = project.reports / f"{now:%Y-%m-%d}_{slug}.md"
    try:
        write_atomic(path, text, exclusive=True)
    except FileExistsError:
        raise UserError(f"{path.relative_to(project.root)} exists already; edit it") from None
    return path


@dataclass(frozen=True)
class ReportInfo:
    date: str
    slug: str
    title: str
    path: Path


def list_reports(project: Project) -> list[ReportInfo]:
    out = []
    for path in sorted(project.reports.glob("*.md")):
        if path.name == TEMPLATE:
            continue
        m = _FILE.match(path.name)
        first = next((line for line in path.read_text().splitlines() if line.startswith("# ")), "")
        out.append(
            ReportInfo(m.group(1) if m else "", m.group(2) if m else "", first[2:].removeprefix("Report: "), path)
        )
    return out
