"""The `autoresearch` command: one short function per verb of the research loop.

Usage: autoresearch --help | autoresearch idea new SLUG --title "..." | autoresearch status

Each function parses nothing itself (tyro does, from its signature and docstring), calls the module
that owns the concern and prints through `ui`. `command` registers a function under its words (an
equivalent of tyro's SubcommandApp that builds the parser of the one command asked for, not of all of
them, and none for a command given no arguments). Only the stdlib is imported at start-up; tyro
and each function's modules are imported when needed, so bookkeeping starts fast
(tests/test_cli_imports.py checks it; bench/cli_startup.py times it).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from autoresearch.errors import UserError

if TYPE_CHECKING:
    from autoresearch.config import Config
    from autoresearch.paths import Project


class _Positional:
    """Marks a parameter positional; tyro reads the marker when the command is parsed (see _tyro_types)."""

    def __init__(self, metavar: str = ""):
        self.metavar = metavar


Slug = Annotated[str, _Positional("SLUG")]
Backend = Literal["auto", "pueue", "tsp", "slurm"] | None
JobId = Annotated[str, _Positional("ID")]

COMMANDS: dict[tuple[str, ...], Callable[..., int]] = {}
DEFAULT: dict[str, str] = {}
"""a group's subcommand when it is given no other: `autoresearch results` is `results show`"""
GROUPS = {
    "idea": "Ideas in 1_ideas/.",
    "worktree": "One git worktree per idea, under 5_worktrees/.",
    "results": "Read results.tsv (reading never rewrites it).",
    "journal": "Append-only journals: RESEARCH_JOURNAL.md, meta_journal.md, human_journal.md.",
    "report": "Experiment reports in 9_reports/.",
    "guard": "The guards the hooks call.",
    "hooks": "The git hooks and the Claude Code hooks.",
    "queue": "The job queue: pueue, task-spooler or Slurm ([tool.autoresearch.queue] backend).",
}


def command(*words: str, default: bool = False) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """Register a function as `autoresearch WORDS...`."""

    def register(fn: Callable[..., int]) -> Callable[..., int]:
        COMMANDS[words] = fn
        if default:
            DEFAULT[words[0]] = words[1]
        return fn

    return register


def _here() -> tuple[Project, Config]:
    from autoresearch.config import Config
    from autoresearch.paths import Project

    project = Project.find()
    return project, Config.load(project)


# ------------------------------------------------------------------------------------------- ideas


@command("idea", "new")
def idea_new(slug: Slug, title: str, hypothesis: str = "") -> int:
    """Write 1_ideas/{date}_{slug}.md from the template; warns when a close idea or journal entry exists.

    Args:
        slug: lowercase letters, digits and single hyphens, at most 48 characters (e.g. rotary-base-50k)
        title: one line, e.g. 'Rotary base 50k for long-range topics'
        hypothesis: what you believe will happen and why (fill in the rest of the file by hand)
    """
    from autoresearch import ideas
    from autoresearch.novelty import THRESHOLD

    path, nearest = ideas.new_idea(_here()[0], slug, title, hypothesis)
    print(path)
    if nearest and nearest[0].similarity >= THRESHOLD:  # stderr: stdout stays the path alone, for scripts
        print(
            f"warning: {slug!r} is close to what was already written or tried (similarity 0..1); "
            "read these first, and say in the idea what is new:",
            file=sys.stderr,
        )
        for match in nearest:
            print(f"  {match.similarity:.2f}  {match.kind:<7}  {match.name}", file=sys.stderr)
    return 0


@command("idea", "list")
def idea_list() -> int:
    """A table of ideas: slug, title, status, rating, critique, result rows, best metric per profile."""
    from autoresearch import ideas, ui

    project, config = _here()
    rows = ideas.table_rows(project, config)
    if not rows:
        print(f'no ideas in {project.ideas.name}/ yet; write one with `just idea SLUG "title"`')
        return 0
    t = ui.table(
        "slug",
        "title",
        "status",
        "rating",
        "critique",
        "rows",
        "best",
        title=f"{len(rows)} ideas (best {config.metric.describe()})",
        right=("rating", "rows"),
    )
    for r in rows:
        i = r.idea
        t.add_row(
            i.slug,
            ui.plain(i.title),
            ui.styled(i.status, ui.STATE_STYLE),
            ui.cell(i.rating),
            "yes" if i.has_critique else "no",
            str(r.rows),
            r.best,
        )
    ui.show(t)
    return 0


@command("idea", "count")
def idea_count() -> int:
    """Print the number of ideas (not counting _TEMPLATE.md); below [tool.autoresearch] ideate_below (30) means IDEATE."""
    from autoresearch import ideas

    print(ideas.count_ideas(_here()[0]))
    return 0


@command("idea", "critique")
def idea_critique(slug: Slug, text: str = "", file: str = "") -> int:
    """Append a dated critique section to an idea; older text is never rewritten.

    Args:
        slug: the idea to critique
        text: the critique itself (or use --file)
        file: read the critique from this file ('-' for stdin)
    """
    from autoresearch import ideas

    ideas.add_critique(_here()[0], slug, text, file)
    return 0


@command("idea", "rate")
def idea_rate(slug: Slug, rating: Annotated[int, _Positional("N")]) -> int:
    """Set an idea's rating, 1 (weak) to 10 (strong), in its front matter."""
    from autoresearch import ideas

    ideas.set_field(_here()[0], slug, "rating", rating)
    return 0


@command("idea", "set-status")
def idea_set_status(
    slug: Slug, status: Annotated[Literal["proposed", "implementing", "done", "kept", "rejected"], _Positional()]
) -> int:
    """Set an idea's status: proposed, implementing, done, kept or rejected."""
    from autoresearch import ideas

    ideas.set_field(_here()[0], slug, "status", status)
    return 0


@command("idea", "next")
def idea_next() -> int:
    """Print the best proposed idea: highest rating (unrated last), then fewest results rows, then newest. Exit 1 if none."""
    from autoresearch import ideas

    project, config = _here()
    idea = ideas.next_idea(project, config)
    if idea is None:
        print(f'no proposed ideas in {project.ideas.name}/: write some with `just idea SLUG "title"`', file=sys.stderr)
        return 1
    rating = "unrated" if idea.rating is None else f"rated {idea.rating}/10"
    print(
        f"{idea.slug}: {idea.title} ({rating}, critique: {'yes' if idea.has_critique else 'no'})\n  {idea.path}\n  start it: just wt {idea.slug}"
    )
    return 0


# --------------------------------------------------------------------------------------- worktrees


@command("worktree", "new")
def worktree_new(slug: Slug) -> int:
    """git worktree add 5_worktrees/{slug} -b exp/{slug} from main (the champion); marks the idea implementing."""
    from autoresearch import worktrees

    project, config = _here()
    w = worktrees.new_worktree(project, config, slug)
    rel = w.path.relative_to(project.root)
    print(
        f"worktree {rel} on branch {w.branch}, from {w.main} at {w.parent} (the champion); idea {slug} is now implementing. Next:"
    )
    for step in (
        f"cd {rel}",
        "edit train.py / model.py",
        "just smoke                       # seconds, writes no row",
        f'git commit -am "exp({slug}): ..." && just eval   # one row in the root results.tsv, its verdict against main\'s code',
        f"just keep {slug}                 # merged into main only when it beats the champion beyond the noise",
        f'just report {slug} && just journal "{slug}: ..." --slug {slug} --observation "..." --inference "..."',
    ):
        print(f"  {step}")
    return 0


@command("worktree", "list")
def worktree_list() -> int:
    """Worktrees: slug, branch, clean or dirty, commits ahead of main, last result."""
    from autoresearch import results, ui, worktrees

    project, config = _here()
    trees = worktrees.list_worktrees(project, config, results.load(project, config))
    if not trees:
        print(f"no worktrees in {project.worktrees.name}/; open one with `just wt SLUG`")
        return 0
    t = ui.table(
        "slug",
        "branch",
        "state",
        "ahead",
        "last result",
        title=f"worktrees in {project.worktrees.name}/",
        right=("ahead",),
    )
    for w in trees:
        state = (
            "[red]missing (git worktree prune)[/red]" if w.missing else "[yellow]dirty[/yellow]" if w.dirty else "clean"
        )
        if w.behind_champion:
            state += " [magenta](main moved: merge main)[/magenta]"
        t.add_row(w.slug, w.branch, state, str(w.ahead), w.last_result or "")
    ui.show(t)
    return 0


@command("worktree", "remove")
def worktree_remove(slug: Slug, delete_branch: bool = False, force: bool = False) -> int:
    """Remove an idea's worktree; its branch exp/{slug} and its run folders are kept (log files left in it move to 7_runs/).

    Args:
        slug: the idea whose worktree to remove
        delete_branch: also delete the branch exp/{slug}, forcibly (an experiment branch is normally unmerged); prints the hash that restores it
        force: remove even with uncommitted changes
    """
    from autoresearch import worktrees

    project, config = _here()
    r = worktrees.remove_worktree(project, config, slug, delete_branch, force)
    print(f"removed {r.rel}")
    if r.logs is not None:
        print(f"log files left in it moved to {r.logs.relative_to(project.root)}")
    if r.deleted_sha:
        print(
            f"deleted branch {r.branch} (was {r.deleted_sha}); to bring it back: git branch {r.branch} {r.deleted_sha}"
        )
    elif r.kept_branch:
        print(f"kept branch {r.branch} (its diff: git diff {config.main_branch}...{r.branch})")
    return 0


# ----------------------------------------------------------------------------------------- results


@command("results", "show", default=True)
def results_show(last: int = 20) -> int:
    """The last rows of results.tsv (reading never rewrites it)."""
    from autoresearch import results, ui

    project, config = _here()
    record = results.load(project, config)
    if record.height == 0:
        print(f"{project.results.name}: no rows yet; run `just eval`")
        return 0
    ui.show(
        ui.rows_table(
            record, record.last(last), f"results.tsv: last {min(last, record.height)} of {record.height} rows"
        )
    )
    return 0


@command("results", "best")
def results_best() -> int:
    """The best ok row of each profile."""
    from autoresearch import results, ui

    project, config = _here()
    record = results.load(project, config)
    best = record.best_per_profile()
    if best.height == 0:
        print(f"{project.results.name}: {record.height} rows, none ok yet")
        return 0
    ui.show(ui.rows_table(record, best, f"best ok row per profile, {config.metric.describe()}"))
    return 0


@command("results", "leaderboard")
def results_leaderboard(by: Literal["row", "idea"] = "row", last: int = 20) -> int:
    """Ok rows ranked by the metric, per profile; --by idea keeps each idea's best row.

    Args:
        by: rank rows, or each idea's best row
        last: show the top N per profile
    """
    from autoresearch import results, ui

    project, config = _here()
    record = results.load(project, config)
    board = record.leaderboard(by, last)
    if board.height == 0:
        print(f"{project.results.name}: {record.height} rows, none ok yet")
        return 0
    what = f"top {last} ideas per profile (each idea's best row)" if by == "idea" else f"top {last} rows per profile"
    ui.show(ui.rows_table(record, board, f"leaderboard: {what}, {config.metric.describe()}", rank=True))
    return 0


@command("results", "export")
def results_export(format: Literal["karpathy"] = "karpathy", out: str = "-") -> int:
    """Write results.tsv in another tool's format: karpathy's five columns with keep/discard/crash.

    Args:
        format: karpathy: commit, metric, memory_gb, status (keep = the champion line), description
        out: file to write ('-' for stdout)
    """
    from autoresearch import export

    text = export.karpathy(*_here())
    if out == "-":
        sys.stdout.write(text)
    else:
        Path(out).write_text(text)
    return 0


# ----------------------------------------------------------------------------------------- journal


@command("journal", "add")
def journal_add(
    title: str,
    slug: str = "",
    observation: str = "",
    inference: str = "",
    file: str = "",
    journal: Literal["research", "meta", "human"] = "research",
) -> int:
    """Insert a dated entry at the top of a journal, keeping observations and inferences apart.

    Args:
        title: one line: what the entry is about, e.g. 'rotary-base: -0.02 bpb on cpu'
        slug: the idea this entry is about (it must exist in 1_ideas/)
        observation: what was measured (a fact)
        inference: what you think it means (an interpretation)
        file: extra body text from this file ('-' for stdin)
        journal: RESEARCH_JOURNAL.md, meta_journal.md or human_journal.md
    """
    from autoresearch import journal as journals

    journals.add_entry(_here()[0], journal, title, slug, observation, inference, file)
    return 0


@command("journal", "verify")
def journal_verify() -> int:
    """Check that every older entry of the journals is still there, unchanged and in order."""
    from autoresearch import journal

    problems = journal.verify_all(_here()[0])
    for line in problems:
        print(line)
    if not problems:
        print(f"journals ok: {', '.join(journal.JOURNALS.values())} keep every committed entry, unchanged and in order")
    return 1 if problems else 0


# ----------------------------------------------------------------------------------------- reports


@command("report", "new")
def report_new(slug: Slug) -> int:
    """Write 9_reports/{date}_{slug}.md prefilled with the idea, its rows, deltas against its parent, and commands.

    Args:
        slug: an idea in 1_ideas/; its rows are those of branch exp/{slug} or idea {slug}
    """
    from autoresearch import reports

    project, config = _here()
    print(reports.new_report(project, config, slug))
    return 0


@command("report", "list")
def report_list() -> int:
    """The reports in 9_reports/: date, slug, title."""
    from autoresearch import reports, ui

    project = _here()[0]
    found = reports.list_reports(project)
    if not found:
        print(f"no reports in {project.reports.name}/ yet; write one with `just report SLUG`")
        return 0
    t = ui.table("date", "slug", "title", "file", title=f"reports in {project.reports.name}/")
    for r in found:
        t.add_row(r.date, r.slug, ui.plain(r.title), str(r.path.relative_to(project.root)))
    ui.show(t)
    return 0


# -------------------------------------------------------------------------------- the loop's views


@command("status")
def status(brief: bool = False) -> int:
    """The dashboard: ideas and mode, worktrees, results against main's code, journal, queue, and the next step.

    Args:
        brief: a few lines and the next step (what the Claude Code SessionStart hook prints)
    """
    from autoresearch import status as dashboard
    from autoresearch import ui

    state = dashboard.gather(*_here())
    if brief:
        print(dashboard.brief(state))
    else:
        ui.show(*dashboard.render(state))
    return 0


@command("plot")
def plot() -> int:
    """Write 9_reports/progress.png: the metric per experiment, running best, crashes, best ideas labelled."""
    from autoresearch import plot as progress

    print(progress.plot_progress(*_here()))
    return 0


@command("calibrate")
def calibrate(seeds: int = 3, profile: str = "", budget: Literal["units", "time"] = "units") -> int:
    """Is the metric sound? The committed baseline on N seeds plus a repeat: runtime, spread, detectable effect, determinism, split; records the noise threshold.

    Args:
        seeds: seeds 0..N-1 (at least 2), then seed 0 once more
        profile: budget profile of eval.py (default: eval.py's: cuda with a GPU, else cpu)
        budget: eval.py's --budget
    """
    from autoresearch import calibrate as calibration

    project, config = _here()
    return calibration.calibrate(project, config, seeds, profile or None, budget)


@command("compare")
def compare(
    a: Annotated[str, _Positional("A")],
    b: Annotated[str, _Positional("B")],
    seeds: int = 0,
    profile: str = "",
    method: Literal["t", "bootstrap"] = "t",
    budget: Literal["units", "time"] = "units",
) -> int:
    """Is B better than A beyond the noise? Their rows paired seed by seed: mean difference, 95% interval, verdict.

    Args:
        a: an idea slug, a git revision (main, a commit) or a code hash
        b: the same, for the version judged against A
        seeds: first run the seeds 0..N-1 that a side lacks (in a temporary worktree of its commit)
        profile: budget profile (default: the one profile the two sides have rows in)
        method: the interval: paired Student-t, or percentile bootstrap (needs ~10+ seeds)
        budget: compare rows of this budget mode
    """
    from autoresearch import compare as comparison
    from autoresearch import ui

    project, config = _here()
    ui.show(*comparison.render(comparison.compare(project, config, a, b, seeds, profile or None, method, budget)))
    return 0


@command("keep")
def keep(slug: Slug, profile: str = "", budget: Literal["units", "time"] = "units") -> int:
    """Merge exp/SLUG into main only when it beats main's code beyond the noise (paired, calibrated seeds); journals the decision.

    Args:
        slug: the experiment to keep
        profile: the calibrated profile to judge on (default: the only calibrated one)
        budget: the budget mode of the rows to pair
    """
    from autoresearch import compare as comparison
    from autoresearch import keep as champion
    from autoresearch import ui

    project, config = _here()
    d = champion.keep(project, config, slug, profile or None, budget)
    ui.show(*comparison.render(d.comparison))
    if d.merged:
        print(f"keep: KEPT {slug}: {d.why}; merged into {config.main_branch}. New worktrees start from it.")
    elif d.kept:
        print(f'keep: {slug} beats main ({d.why}); keep = "researcher": the researcher merges it:\n  {d.merge_command}')
    else:
        print(f"keep: refused {slug}: {d.why}. The branch stays; journaled.")
    return 0 if d.kept else 1


# ----------------------------------------------------------------------------------- the project


@command("init")
def init(
    dir: Annotated[str, _Positional("DIR")],
    project: str = "",
    metric: str = "",
    direction: Literal["lower", "higher"] | None = None,
    hypothesis_space: str = "",
    example: str = "lm",
    template: str = "",
) -> int:
    """A new project in DIR (new or empty) from the template's last commit: fresh records, its own git repo on main, hooks, a first commit.

    Args:
        dir: the new project's folder, e.g. ../myproj
        project: one sentence describing the research problem (else the example's, else a {FILL_IN} placeholder stays)
        metric: the metric's name, e.g. val_bpb; also [tool.autoresearch] metric
        direction: whether lower or higher metric is better; also [tool.autoresearch] direction (default: the example's, else the template's)
        hypothesis_space: what class of approaches is in scope
        example: the problem to start from: lm (the template's own) or a folder of src/autoresearch/examples/
        template: a git checkout of the template (default: the checkout this autoresearch runs from)
    """
    from autoresearch import scaffold

    answers = scaffold.Answers(project, metric, direction or "", hypothesis_space, example)
    scaffold.print_summary(scaffold.new_project(Path(dir), answers, Path(template) if template else None))
    return 0


@command("update")
def update(template: str = "") -> int:
    """Merge the template's last commit into this project (git's three-way merge); needs META_MODE, it changes FROZEN files.

    Args:
        template: a git checkout of the template (default: the one recorded in [tool.autoresearch.template] of pyproject.toml)
    """
    from autoresearch import scaffold

    return scaffold.print_update(scaffold.update(_here()[0], Path(template) if template else None))


@command("check")
def check(restore_rows: bool = False, repair: str = "") -> int:
    """The whole project against the file rules, main's history and the record's integrity: one line per violation (exit 1), warnings, or 'check: ok'.

    Args:
        restore_rows: append to results.tsv the rows of run folders (7_runs/*/row.tsv) that it lacks, then stop
        repair: a journal whose entries main's history edited: put them back in the working copy (commit it after), then stop
    """
    from autoresearch import audit
    from autoresearch.check import run_checks
    from autoresearch.config import Config
    from autoresearch.paths import Project

    project = Project.find()
    if repair or restore_rows:
        config = Config.committed(project)
        said = [audit.repair_journal(project, config, repair)] if repair else []
        said += audit.restore_rows(project, config) if restore_rows else []
        print("\n".join(said or ["results.tsv: every run folder's row is there; nothing to restore"]))
        return 0
    found = run_checks(project)
    for line in [f"note: {n}" for n in found.notes] + found.violations + [f"warning: {w}" for w in found.warnings]:
        print(line)
    if found.violations:
        print(f"check: {len(found.violations)} violation{'s' * (len(found.violations) != 1)}")
        return 1
    warned = f" ({len(found.warnings)} warning{'s' * (len(found.warnings) != 1)})" if found.warnings else ""
    print("check: ok" + warned)
    return 0


@command("guard", "commit")
def guard_commit() -> int:
    """The git pre-commit hook's check: refuse FROZEN changes without META_MODE, GLOBAL files from a worktree, rewritten journal entries."""
    from autoresearch import guard
    from autoresearch.paths import Project

    return guard.commit(Project.find())


@command("guard", "agent")
def guard_agent() -> int:
    """The Claude Code PreToolUse hook: reads its JSON on stdin; exit 2 with the reason on stderr blocks the call."""
    from autoresearch import guard

    return guard.agent(sys.stdin.read())


@command("hooks", "install")
def hooks_install() -> int:
    """Install the git guard hooks for every worktree (idempotent; an existing hook is kept and chained)."""
    from autoresearch import hooks

    return hooks.install()


@command("hooks", "meta-trailer")
def hooks_meta_trailer(
    message_file: Annotated[str, _Positional("FILE")],
    source: Annotated[str, _Positional("SOURCE")] = "",
    sha: Annotated[str, _Positional("SHA")] = "",
) -> int:
    """The git prepare-commit-msg hook: when META_MODE is on and the commit changes FROZEN files, add a signed Meta-Mode trailer.

    Args:
        message_file: the commit message file git passes
        source: message, template, merge, squash or commit (git's second argument)
        sha: the commit of -c/-C/--amend (git's third argument)
    """
    from autoresearch import hooks

    return hooks.meta_trailer(message_file, source)


@command("hooks", "status")
def hooks_status() -> int:
    """Which guard hooks are in place: the git hooks (and any chained hook of yours) and the Claude Code hooks."""
    from autoresearch import hooks

    return hooks.status()


@command("hooks", "session-start")
def hooks_session_start() -> int:
    """The Claude Code SessionStart hook: the venv on PATH for later Bash calls, and the status and next step as context."""
    import os

    from autoresearch import session

    try:
        print(session.session_start(*_here(), sys.stdin.read(), os.environ.get("CLAUDE_ENV_FILE")))
    except UserError as e:  # never fail the session: say what is wrong instead
        print(f"autoresearch: {e}")
    return 0


@command("hooks", "stop")
def hooks_stop() -> int:
    """The Claude Code Stop hook: with [tool.autoresearch] run_until, send the agent back to work until then."""
    import json

    from autoresearch import session

    decision = session.stop_decision(*_here(), sys.stdin.read())
    if decision is not None:
        print(json.dumps(decision))
    return 0


# ------------------------------------------------------------------------------------------ queue


@command("queue", "add")
def queue_add(
    command: Annotated[list[str], _Positional("CMD")],
    label: str,
    gpu: str = "auto",
    backend: Backend = None,
    foreground: bool = False,
) -> int:
    """Queue a command with its question and hypothesis; prints the job id. Put the command after `--`.

    Args:
        command: the command and its arguments, e.g. -- just eval
        label: 'Q: <question> H: <hypothesis>'; the job's AUTORESEARCH_LABEL, so its results row carries it
        gpu: auto (pueue: the least loaded GPU; tsp: a free GPU when the job starts; Slurm: the configured GRES), none (no GPU), or a GPU index (pueue, tsp)
        backend: default: [tool.autoresearch.queue] backend in pyproject.toml (auto: pueue, else task-spooler, else Slurm)
        foreground: when no queue engine is available, run the command here and now without asking
    """
    from autoresearch.queue import commands

    return commands.add(_here()[0], command, label, gpu, backend, foreground)


@command("queue", "status")
def queue_status(backend: Backend = None) -> int:
    """This project's jobs: id, state, label, start, runtime and, once finished, the metric from its row."""
    from autoresearch.queue import commands

    commands.print_status(_here()[0], backend)
    return 0


@command("queue", "review")
def queue_review(backend: Backend = None) -> int:
    """Finished jobs: question and hypothesis (from the label) next to the observed metric and verdict."""
    from autoresearch.queue import commands

    commands.print_review(_here()[0], backend)
    return 0


@command("queue", "log")
def queue_log(id: JobId, backend: Backend = None) -> int:
    """Print a job's output."""
    from autoresearch.queue import commands

    return commands.print_log(_here()[0], id, backend)


@command("queue", "follow")
def queue_follow(id: JobId, backend: Backend = None) -> int:
    """Print a job's output as it grows, until it ends."""
    from autoresearch.queue import commands

    return commands.follow(_here()[0], id, backend)


@command("queue", "wait")
def queue_wait(ids: Annotated[tuple[str, ...], _Positional("ID")] = (), backend: Backend = None) -> int:
    """Wait until the jobs end (default: all of this project's unfinished jobs); exit 1 unless all are done."""
    from autoresearch.queue import commands

    return commands.wait(_here()[0], list(ids), backend)


@command("queue", "kill")
def queue_kill(id: JobId, backend: Backend = None) -> int:
    """Stop a running job, or drop a queued one."""
    from autoresearch.queue import commands

    return commands.kill(_here()[0], id, backend)


def _tyro_types(fn: Callable[..., int]) -> Callable[..., int]:
    """The function with its _Positional markers turned into tyro's (tyro is imported only here)."""
    import inspect
    import typing

    import tyro

    hints = typing.get_type_hints(fn, include_extras=True)
    params = []
    for p in inspect.signature(fn).parameters.values():
        hint = hints[p.name]
        marks = getattr(hint, "__metadata__", ())
        positional = next((m for m in marks if isinstance(m, _Positional)), None)
        if positional is not None:
            extra = (tyro.conf.Positional,) + (
                (tyro.conf.arg(metavar=positional.metavar),) if positional.metavar else ()
            )
            hint = Annotated[(hint.__origin__, *extra)]
        params.append(p.replace(annotation=hint))

    def wrapper(*args: object, **kwargs: object) -> int:
        return fn(*args, **kwargs)

    wrapper.__name__, wrapper.__qualname__, wrapper.__doc__, wrapper.__module__ = (
        fn.__name__,
        fn.__qualname__,
        fn.__doc__,
        fn.__module__,
    )
    wrapper.__signature__ = inspect.signature(fn).replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params} | {"return": int}
    return wrapper


def _usage(words: tuple[str, ...]) -> str:
    """argparse-style help of a group (or of the whole command when `words` is empty)."""
    if words:
        subs = [k[1] for k in COMMANDS if len(k) == 2 and k[0] == words[0]]
        listed: list[tuple[str, Callable[..., int] | None]] = [(s, COMMANDS[(words[0], s)]) for s in subs]
        head = f"usage: autoresearch {words[0]} [-h] {{{','.join(subs)}}}\n\n{GROUPS[words[0]]}\n"
    else:
        firsts = list(dict.fromkeys(k[0] for k in COMMANDS))
        listed = [(f, COMMANDS.get((f,))) for f in firsts]
        head = f"usage: autoresearch [-h] {{{','.join(firsts)}}}\n\nThe bookkeeping of an autoresearch project (program.md is the agent's manual).\n"
    lines = []
    for name, fn in listed:
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn is not None else GROUPS.get(name, "")
        lines.append(f"  {name:<14} {doc}")
    return head + "\n" + "\n".join(lines) + "\n"


def main(args: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if args is None else args)
    words: tuple[str, ...] = ()
    while argv and not argv[0].startswith("-") and (*words, argv[0]) in {k[: len(words) + 1] for k in COMMANDS}:
        words = (*words, argv.pop(0))
    if (
        words
        and words not in COMMANDS
        and words[0] in DEFAULT
        and len(words) == 1
        and not (argv and argv[0] in ("-h", "--help"))
    ):
        words = (words[0], DEFAULT[words[0]])
    if words not in COMMANDS:
        wanted = not argv or argv[0] in ("-h", "--help")
        print(_usage(words), file=sys.stdout if wanted else sys.stderr, end="")
        if not wanted:
            print(f"autoresearch: unknown command {' '.join([*words, argv[0]])!r}", file=sys.stderr)
        raise SystemExit(0 if wanted else 2)
    fn = COMMANDS[words]
    try:
        if not argv and fn.__code__.co_argcount == len(fn.__defaults__ or ()):
            return fn() or 0  # nothing to parse: no parser to build
        import tyro

        return tyro.cli(_tyro_types(fn), args=argv, prog=f"autoresearch {' '.join(words)}") or 0
    except UserError as e:
        print(f"autoresearch: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
