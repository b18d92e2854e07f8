"""Experiment reports in the ROOT checkout's 9_reports/, prefilled from the idea and its results rows.

`new_report` writes `9_reports/{YYYY-MM-DD}_{slug}.md` from `_TEMPLATE.md`: the idea's title and
hypothesis, the rows of branch exp/{slug} (or idea {slug}), the best row's deltas against the
baseline and the best row elsewhere (with the calibrated noise threshold), the verdicts and the
commands that reproduce each run; the analysis is left to write. Usage:

    autoresearch report new rotary-base          # prints the path
    autoresearch report list
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autoresearch.errors import UserError
from autoresearch.paths import TEMPLATE

if TYPE_CHECKING:
    import polars as pl

    from autoresearch.paths import Project

COLUMNS = ("commit", "seed", "profile", "val_bpb", "gap", "verdict", "status", "reason", "label")
_PLACEHOLDER = re.compile(r"\{(title|slug|idea_file|date|hypothesis|rows|deltas|verdicts|reproduce)\}")
_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})_(.+)\.md$")


def report_paths(project: Project, slug: str) -> list[Path]:
    return [p for p in sorted(project.reports.glob(f"*_{slug}.md")) if (m := _FILE.match(p.name)) and m.group(2) == slug]


def _cell(value: Any, fmt: str = "") -> str:
    if value is None or value == "":
        return ""
    return format(value, fmt).replace("|", "\\|")


def rows_markdown(rows: pl.DataFrame) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows.iter_rows(named=True):
        fmt = {"val_bpb": ".6f", "gap": ".6f"}
        lines.append("| " + " | ".join(_cell(r[c], fmt.get(c, "")) for c in COLUMNS) + " |")
    return "\n".join(lines)


def _ok(df: pl.DataFrame) -> pl.DataFrame:
    import polars as pl

    return df.filter((pl.col("status") == "ok") & pl.col("val_bpb").is_not_null())


def _best(df: pl.DataFrame, direction: str) -> dict | None:
    ok = _ok(df)
    if ok.height == 0:
        return None
    return ok.sort("val_bpb", descending=direction == "higher", maintain_order=True).row(0, named=True)


def _where(row: dict) -> str:
    idea = f"idea {row['idea']}, " if row["idea"] else ""
    return f"{idea}commit {row['commit']} on {row['branch']}, seed {row['seed']}"


def deltas_markdown(project: Project, df: pl.DataFrame, mine: pl.DataFrame, direction: str, main_branch: str) -> str:
    """Per profile of the idea's ok rows: its best row against the baseline and against the best row elsewhere."""
    import polars as pl

    from autoresearch import stats

    out = []
    mine_ok = _ok(mine)
    if mine_ok.height == 0:
        return "No ok rows yet, so no deltas."
    mine_keys = set(mine["_row"].to_list())
    for profile in mine_ok["profile"].unique(maintain_order=True).to_list():
        here = _best(mine.filter(pl.col("profile") == profile), direction)
        same = df.filter(pl.col("profile") == profile)
        on_main = _ok(same.filter(pl.col("branch") == main_branch))
        base = (on_main if on_main.height else _ok(same)).row(0, named=True)
        other = _best(same.filter(~pl.col("_row").is_in(list(mine_keys))), direction)
        calibration = stats.load_calibration(project.calibration, profile)
        threshold = None if calibration is None else float(calibration["threshold"])
        noise = f"noise threshold ± {threshold:.4f}" if threshold is not None else "uncalibrated: run `just calibrate`"
        out.append(f"- **{profile}** ({direction} val_bpb is better; {noise})")
        out.append(f"  - best here: {here['val_bpb']:.6f} ({_where(here)})")
        for name, ref in (("baseline", base), ("best elsewhere", other)):
            if ref is None:
                out.append(f"  - vs {name}: no other ok row of profile {profile} yet")
                continue
            delta = here["val_bpb"] - ref["val_bpb"]
            verdict = stats.verdict(here["val_bpb"], ref["val_bpb"], threshold, direction)
            own = " (this idea's own row)" if ref["_row"] in mine_keys else ""
            out.append(f"  - vs {name} {ref['val_bpb']:.6f} ({_where(ref)}){own}: Δ {delta:+.6f} → {verdict}")
    return "\n".join(out)


def verdicts_markdown(mine: pl.DataFrame) -> str:
    counts: dict[str, int] = {}
    for r in mine.iter_rows(named=True):
        key = r["verdict"] if r["status"] == "ok" else f"{r['status']} ({r['reason'] or '?'})"
        counts[key or "(none)"] = counts.get(key or "(none)", 0) + 1
    lines = [f"- {key}: {n} row{'s' if n > 1 else ''}" for key, n in counts.items()]
    return "\n".join(lines) + "\n\nEach row's verdict is against the best earlier row of its profile when it was written."


def reproduce_markdown(mine: pl.DataFrame) -> str:
    seen, lines, dirty = set(), [], False
    for r in mine.iter_rows(named=True):
        commit = (r["commit"] or "").removesuffix("-dirty")
        dirty |= (r["commit"] or "").endswith("-dirty")
        key = (commit, r["profile"], r["seed"])
        if key in seen:
            continue
        seen.add(key)
        lines.append(f"git checkout {commit} && python eval.py --profile {r['profile']} --seed {r['seed']}")
    note = "\n\nA commit marked -dirty had uncommitted edits when it ran: its checkout is only close to what ran." if dirty else ""
    return "From a clean checkout of this repository (a worktree is fine):\n\n```bash\n" + "\n".join(lines) + "\n```" + note


def new_report(project: Project, slug: str) -> Path:
    """Write 9_reports/{date}_{slug}.md prefilled from the idea and its rows; refuse if it exists."""
    import polars as pl

    from autoresearch.fileio import write_atomic
    from autoresearch.ideas import find_idea, parse_idea, results_frame
    from autoresearch.taxonomy import Taxonomy

    idea = parse_idea(find_idea(project, slug))
    existing = report_paths(project, slug)
    if existing:
        raise UserError(f"{existing[0].relative_to(project.root)} exists already; edit it (reports are REGULAR files)")
    template = project.reports / TEMPLATE
    if not template.exists():
        raise UserError(f"{template} not found; restore it with `git checkout {project.reports.name}/{TEMPLATE}`")
    taxonomy = Taxonomy.load(project.pyproject)
    branch = f"exp/{slug}"
    df = results_frame(project).with_row_index("_row")
    mine = df.filter((pl.col("branch") == branch) | (pl.col("idea") == slug))
    now = datetime.now(timezone.utc)
    if mine.height == 0:
        none = f"No result rows yet for {branch}: run `just eval` in 5_worktrees/{slug}, then delete this report and run `just report {slug}` again."
        rows = deltas = verdicts = reproduce = none
    else:
        rows = rows_markdown(mine)
        deltas = deltas_markdown(project, df, mine, taxonomy.direction, taxonomy.main_branch)
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


def print_reports(project: Project) -> None:
    from rich.table import Table

    from autoresearch.leaderboard import console

    paths = [p for p in sorted(project.reports.glob("*.md")) if p.name != TEMPLATE]
    if not paths:
        print(f"no reports in {project.reports.name}/ yet; write one with `just report SLUG`")
        return
    table = Table(title=f"reports in {project.reports.name}/", title_justify="left", show_edge=False, pad_edge=False)
    for name in ("date", "slug", "title", "file"):
        table.add_column(name)
    for path in paths:
        m = _FILE.match(path.name)
        first = next((line for line in path.read_text().splitlines() if line.startswith("# ")), "")
        table.add_row(m.group(1) if m else "", m.group(2) if m else "", first[2:].removeprefix("Report: "), str(path.relative_to(project.root)))
    console().print(table)
