"""The dashboard and the loop's next step: ideas and mode, worktrees, results, journal, queue, then what to do now.

`gather` reads the project once into a `State`; `next_step` derives the one thing to do next from it
(calibrate first, finish a worktree, journal finished jobs, keep a win, rate ideas, ideate, implement),
so an agent that lost its context (a new session, a compaction) picks up where it was; `render` draws
the dashboard. Nothing here imports torch. Usage:

    autoresearch status            (or: just status)
    autoresearch status --brief    (the next step and a few figures: the Claude Code SessionStart hook)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import RenderableType

    from autoresearch.config import Config
    from autoresearch.ideas import Idea
    from autoresearch.paths import Project
    from autoresearch.results import Record
    from autoresearch.worktrees import WorktreeInfo

LAST_RESULTS = 5
LAST_JOURNAL_ENTRIES = 3


@dataclass
class ProfileFigures:
    profile: str
    rows: int
    ok: int
    crash: int
    start: float | None
    """the first ok row's value: where the project started"""
    champion: float | None
    """mean of the ok rows of main's current code"""
    champion_rows: int
    best: dict[str, Any] | None
    threshold: float | None


@dataclass
class State:
    config: Config
    ideas: list[Idea]
    worktrees: list[WorktreeInfo]
    record: Record
    champion: str
    """code hash of main's current code"""
    profiles: list[ProfileFigures]
    calibrated: list[str]
    journal: list[str]
    untried: list[str] = field(default_factory=list)
    """worktrees whose current code has no row"""
    winners: list[str] = field(default_factory=list)
    """ideas with a `better` row whose code is not main's yet"""
    queue_unjournaled: int = 0
    queue_panel: RenderableType | None = None
    warnings: list[str] = field(default_factory=list)


def gather(project: Project, config: Config) -> State:
    import polars as pl

    from autoresearch import fingerprints, repo, results, stats
    from autoresearch.ideas import load_ideas
    from autoresearch.journal import parse
    from autoresearch.worktrees import list_worktrees

    record = results.load(project, config)
    main = config.main_branch
    champion = fingerprints.code_hash_at(project.root, main, config) if repo.rev_exists(project.root, main) else ""
    calibration = stats.load_all_calibrations(project.calibration)
    value, ok = pl.col(record.value), record.is_ok()
    narrow = record.df.select("profile", "status", "code", record.value)  # one pass on four columns: fast at 1M rows
    figures = narrow.group_by("profile", maintain_order=True).agg(
        rows=pl.len(),
        ok=ok.sum(),
        crash=(pl.col("status") == "crash").sum(),
        start=value.filter(ok).first(),
        champion=value.filter(ok & (pl.col("code") == champion)),
    )
    best = {row["profile"]: row for row in record.best_per_profile().iter_rows(named=True)}
    profiles = [
        ProfileFigures(
            f["profile"],
            f["rows"],
            f["ok"],
            f["crash"],
            f["start"],
            stats.mean(f["champion"]) if f["champion"] else None,
            len(f["champion"]),
            best.get(f["profile"]),
            calibration.get(f["profile"], {}).get("threshold"),
        )
        for f in figures.iter_rows(named=True)
    ]
    trees = list_worktrees(project, config, record)
    codes = set(record.df["code"].drop_nulls().unique().to_list())
    untried = [t.slug for t in trees if not t.missing and fingerprints.code_hash(t.path, config) not in codes]
    better = record.df.filter((pl.col("verdict") == "better") & (pl.col("code") != champion) & (pl.col("idea") != ""))
    ideas = load_ideas(project)
    settled = {i.slug for i in ideas if i.status in ("kept", "rejected")}
    refs = ("for-each-ref", f"--merged={main}", "--format=%(refname:short)", "refs/heads/exp/")
    merged = set(repo.git(project.root, *refs).split()) if champion else set()
    winners = sorted({i for i in better["idea"].unique().to_list() if i not in settled and f"exp/{i}" not in merged})
    state = State(config, ideas, trees, record, champion, profiles, sorted(calibration), [], untried, winners)
    if project.research_journal.exists():
        state.journal = [e.heading for e in parse(project.research_journal.read_text())[1][:LAST_JOURNAL_ENTRIES]]
    unconfined = record.df.filter(pl.col("sandbox") == "none").height
    if unconfined:
        state.warnings.append(
            f"{unconfined} row(s) were made without a sandbox: the training code could read the record (see `just check`)"
        )
    from autoresearch.queue import summary

    state.queue_panel, state.queue_unjournaled = summary(project)
    return state


def next_step(state: State) -> str:
    """The one thing to do next, derived from the state."""
    ideas, gate = state.ideas, state.config.ideate_below
    if not state.calibrated:
        return "calibrate first: `just calibrate` measures the noise behind every verdict (the agent may run it, before any experiment)"
    if state.champion and not any(p.champion_rows for p in state.profiles if p.profile in state.calibrated):
        return "main's code has no rows in a calibrated profile: run `just eval` in the root checkout"
    dirty = [t.slug for t in state.worktrees if t.dirty]
    if dirty:
        return f"worktree {dirty[0]} has uncommitted changes: commit them (`git -C 5_worktrees/{dirty[0]} commit -am ...`), then `just eval` there"
    if state.untried:
        return f"worktree {state.untried[0]} has code with no row: `cd 5_worktrees/{state.untried[0]} && just eval`"
    if state.queue_unjournaled:
        return f"{state.queue_unjournaled} queued job(s) finished and are not journaled: `just queue-review`, then `just journal ...`"
    if state.winners:
        return f"{state.winners[0]} beat its parent: confirm and merge it with `just keep {state.winners[0]}`"
    unrated = [i.slug for i in ideas if i.rating is None and i.status == "proposed"]
    if unrated:
        return f"{len(unrated)} idea(s) are unrated ({', '.join(unrated[:3])}): critique them (`just critique`) and rate them (`just rate SLUG N`)"
    if len(ideas) < gate:
        return f'IDEATE: {gate - len(ideas)} more idea(s) until IMPLEMENT ({len(ideas)} of {gate}): read a paper, then `just idea SLUG "title"`'
    proposed = [i for i in ideas if i.status == "proposed"]
    if not proposed:
        return 'IMPLEMENT, but no idea is proposed: write new ones (`just idea SLUG "title"`)'
    return "IMPLEMENT: `autoresearch idea next` names the best untried idea; open it with `just wt SLUG`"


def render(state: State) -> list[RenderableType]:
    from rich.console import Group
    from rich.text import Text

    from autoresearch import ui

    sections: list[RenderableType] = []
    counts = Counter(i.status for i in state.ideas)
    gate = state.config.ideate_below
    mode = "IDEATE" if len(state.ideas) < gate else "IMPLEMENT"
    text = Text(
        f"{len(state.ideas)} of {gate} ideas ({mode})"
        + (": " + " · ".join(f"{n} {s}" for s, n in sorted(counts.items())) if state.ideas else "")
    )
    sections.append(ui.panel(text, "Ideas"))
    if state.worktrees:
        t = ui.table("slug", "branch", "state", "ahead", "last result", right=("ahead",))
        for w in state.worktrees:
            st = (
                "[red]missing (git worktree prune)[/red]"
                if w.missing
                else "[yellow]dirty[/yellow]"
                if w.dirty
                else "clean"
            )
            if w.behind_champion:
                st += " [magenta](main moved: merge main)[/magenta]"
            t.add_row(w.slug, w.branch, st, str(w.ahead), w.last_result or "")
        sections.append(ui.panel(t, f"Worktrees ({len(state.worktrees)})"))
    record = state.record
    if record.height:
        t = ui.table(
            "profile",
            "rows",
            "ok",
            "crash",
            "start",
            "main's code",
            "gain",
            "best row (idea, commit)",
            "noise threshold",
            right=("rows", "ok", "crash", "start", "main's code", "gain"),
        )
        for p in state.profiles:
            gain = "" if p.start is None or p.champion is None else f"{record.metric.gain(p.start, p.champion):+.4f}"
            best = (
                ""
                if p.best is None
                else f"{p.best[record.value]:.4f} {p.best['idea'] or ui.MAIN_IDEA} ({p.best['commit']})"
            )
            t.add_row(
                p.profile,
                str(p.rows),
                str(p.ok),
                f"[red]{p.crash}[/red]" if p.crash else "0",
                ui.cell(p.start, ".4f"),
                "" if p.champion is None else f"{p.champion:.4f} ({p.champion_rows})",
                gain,
                best,
                ui.cell(p.threshold, ".4f") or "[dim]uncalibrated[/dim]",
            )
        last = ui.rows_table(record, record.last(LAST_RESULTS), f"last {min(LAST_RESULTS, record.height)} results")
        sections.append(ui.panel(Group(t, "", last), f"Results ({record.height} rows, {record.metric.describe()})"))
    else:
        sections.append(ui.panel(f"{record.path.name}: no rows yet", "Results"))
    if state.journal:
        sections.append(ui.panel(ui.plain("\n".join(f"• {h}" for h in state.journal)), "Research journal (latest)"))
    if state.queue_panel is not None:
        sections.append(ui.panel(state.queue_panel, "Queue"))
    for warning in state.warnings:
        sections.append(Text(f"warning: {warning}", style="yellow"))
    sections.append(Text(f"Next: {next_step(state)}", style="bold"))
    return sections


def brief(state: State) -> str:
    """A few lines for the agent: where things stand and the next step."""
    lines = [
        f"autoresearch status: {len(state.ideas)} of {state.config.ideate_below} ideas, {len(state.worktrees)} worktree(s), "
        f"{state.record.height} result rows ({state.record.metric.describe()})"
    ]
    for p in state.profiles:
        champion = "no rows" if p.champion is None else f"{p.champion:.4f} over {p.champion_rows} row(s)"
        threshold = "uncalibrated" if p.threshold is None else f"{p.threshold:.4f}"
        lines.append(f"profile {p.profile}: main's code {champion}; noise threshold {threshold}")
    lines.append(f"Next: {next_step(state)}")
    return "\n".join(lines)
