"""The `autoresearch` command: one tyro subcommand per verb of the research loop.

Usage: autoresearch --help | autoresearch idea new SLUG --title "..." | autoresearch status

This file only maps subcommands to functions. It imports nothing heavy (torch, polars, git,
rich, loguru): each `run` imports what its command needs, so bookkeeping starts fast.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Annotated, Literal, Union

import tyro
from tyro.conf import Positional, subcommand

from autoresearch.errors import UserError
from autoresearch.paths import Project


def _project() -> Project:
    return Project.find()


Slug = Annotated[str, Positional, tyro.conf.arg(metavar="SLUG")]
Cmd = tyro.conf.arg(name="")  # a group's subcommand field: its options show under "options", not "cmd options"


@dataclass
class IdeaNew:
    """Write 1_ideas/{date}_{slug}.md from 1_ideas/_TEMPLATE.md."""

    slug: Slug
    """lowercase letters, digits and single hyphens, at most 48 characters (e.g. rotary-base-50k)"""
    title: str
    """one line, e.g. 'Rotary base 50k for long-range topics'"""
    hypothesis: str = ""
    """what you believe will happen and why (fill in the rest of the file by hand)"""

    def run(self) -> int:
        from autoresearch import ideas

        path = ideas.new_idea(_project(), self.slug, self.title, self.hypothesis)
        print(path)
        return 0


@dataclass
class IdeaList:
    """A table of ideas: slug, title, status, rating, critique, result rows, best metric."""

    def run(self) -> int:
        from autoresearch import ideas

        ideas.print_ideas(_project())
        return 0


@dataclass
class IdeaCount:
    """Print the number of ideas (not counting _TEMPLATE.md). Under 30 means IDEATE."""

    def run(self) -> int:
        from autoresearch import ideas

        print(ideas.count_ideas(_project()))
        return 0


@dataclass
class IdeaCritique:
    """Append a dated critique section to an idea; older text is never rewritten."""

    slug: Slug
    """the idea to critique"""
    text: str = ""
    """the critique itself (or use --file)"""
    file: str = ""
    """read the critique from this file ('-' for stdin)"""

    def run(self) -> int:
        from autoresearch import ideas

        ideas.add_critique(_project(), self.slug, self.text, self.file)
        return 0


@dataclass
class IdeaRate:
    """Set an idea's rating, 1 (weak) to 10 (strong), in its front matter."""

    slug: Slug
    """the idea to rate"""
    rating: Annotated[int, Positional, tyro.conf.arg(metavar="N")]
    """1 (weak) to 10 (strong)"""

    def run(self) -> int:
        from autoresearch import ideas

        ideas.set_field(_project(), self.slug, "rating", self.rating)
        return 0


@dataclass
class IdeaSetStatus:
    """Set an idea's status: proposed, implementing, done or rejected."""

    slug: Slug
    """the idea"""
    status: Positional[Literal["proposed", "implementing", "done", "rejected"]]

    def run(self) -> int:
        from autoresearch import ideas

        ideas.set_field(_project(), self.slug, "status", self.status)
        return 0


@dataclass
class IdeaNext:
    """Print the best proposed idea: highest rating (unrated last), then fewest results rows, then newest. Exit 1 if none."""

    def run(self) -> int:
        from autoresearch import ideas

        return ideas.print_next(_project())


@dataclass
class Idea:
    """Ideas in 1_ideas/."""

    cmd: Annotated[
        Union[
            Annotated[IdeaNew, subcommand("new")],
            Annotated[IdeaList, subcommand("list")],
            Annotated[IdeaCount, subcommand("count")],
            Annotated[IdeaCritique, subcommand("critique")],
            Annotated[IdeaRate, subcommand("rate")],
            Annotated[IdeaSetStatus, subcommand("set-status")],
            Annotated[IdeaNext, subcommand("next")],
        ],
        Cmd,
    ]

    def run(self) -> int:
        return self.cmd.run()


@dataclass
class WorktreeNew:
    """git worktree add 5_worktrees/{slug} -b exp/{slug} from main; marks the idea implementing."""

    slug: Slug
    """an idea in 1_ideas/ (write it first with `just idea SLUG "title"`)"""

    def run(self) -> int:
        from autoresearch import worktrees

        worktrees.new_worktree(_project(), self.slug)
        return 0


@dataclass
class WorktreeList:
    """Worktrees: slug, branch, dirty or clean, commits ahead of main, last result."""

    def run(self) -> int:
        from autoresearch import worktrees

        worktrees.print_worktrees(_project())
        return 0


@dataclass
class WorktreeRemove:
    """Remove an idea's worktree. The branch exp/{slug} is kept unless --delete-branch."""

    slug: Slug
    """the idea whose worktree to remove"""
    delete_branch: Annotated[bool, tyro.conf.FlagCreatePairsOff] = False
    """also delete the branch exp/{slug}, forcibly (git branch -D: an experiment branch is normally unmerged); it prints the hash that restores it"""
    force: Annotated[bool, tyro.conf.FlagCreatePairsOff] = False
    """remove even with uncommitted changes"""

    def run(self) -> int:
        from autoresearch import worktrees

        worktrees.remove_worktree(_project(), self.slug, self.delete_branch, self.force)
        return 0


@dataclass
class Worktree:
    """One git worktree per idea, under 5_worktrees/."""

    cmd: Annotated[
        Union[
            Annotated[WorktreeNew, subcommand("new")],
            Annotated[WorktreeList, subcommand("list")],
            Annotated[WorktreeRemove, subcommand("remove")],
        ],
        Cmd,
    ]

    def run(self) -> int:
        return self.cmd.run()


@dataclass
class ResultsShow:
    """The rows of results.tsv (the last N with --last)."""

    last: int = 20

    def run(self) -> int:
        from autoresearch import leaderboard

        leaderboard.print_rows(_project(), self.last)
        return 0


@dataclass
class ResultsBest:
    """The best ok row per profile."""

    def run(self) -> int:
        from autoresearch import leaderboard

        leaderboard.print_best(_project())
        return 0


@dataclass
class ResultsLeaderboard:
    """Rows ranked by the metric; --by idea keeps each idea's best row."""

    by: Literal["row", "idea"] = "row"
    last: int = 20
    """show the top N"""

    def run(self) -> int:
        from autoresearch import leaderboard

        leaderboard.print_leaderboard(_project(), self.by, self.last)
        return 0


@dataclass
class Results:
    """Read results.tsv (reading never rewrites it)."""

    cmd: Union[
        Annotated[ResultsShow, subcommand("show")],
        Annotated[ResultsBest, subcommand("best")],
        Annotated[ResultsLeaderboard, subcommand("leaderboard")],
    ]

    def run(self) -> int:
        return self.cmd.run()


@dataclass
class JournalAdd:
    """Insert a dated entry at the top of a journal, keeping observations and inferences apart."""

    title: str
    """one line: what the entry is about, e.g. 'rotary-base: -0.02 bpb on cpu'"""
    slug: str = ""
    """the idea this entry is about (it must exist in 1_ideas/)"""
    observation: str = ""
    """what was measured (a fact)"""
    inference: str = ""
    """what you think it means (an interpretation)"""
    file: str = ""
    """extra body text from this file ('-' for stdin)"""
    journal: Literal["research", "meta", "human"] = "research"
    """RESEARCH_JOURNAL.md, meta_journal.md or human_journal.md"""

    def run(self) -> int:
        from autoresearch import journal

        journal.add_entry(_project(), self.journal, self.title, self.slug, self.observation, self.inference, self.file)
        return 0


@dataclass
class JournalVerify:
    """Check that every older entry of the journals is still there, unchanged and in order."""

    def run(self) -> int:
        from autoresearch import journal

        return journal.verify_all(_project())


@dataclass
class Journal:
    """Append-only journals: RESEARCH_JOURNAL.md, meta_journal.md, human_journal.md."""

    cmd: Annotated[
        Union[
            Annotated[JournalAdd, subcommand("add")],
            Annotated[JournalVerify, subcommand("verify")],
        ],
        Cmd,
    ]

    def run(self) -> int:
        return self.cmd.run()


@dataclass
class ReportNew:
    """Write 9_reports/{date}_{slug}.md prefilled with the idea, its rows, deltas and commands."""

    slug: Slug
    """an idea in 1_ideas/; its rows are those of branch exp/{slug} or idea {slug}"""

    def run(self) -> int:
        from autoresearch import reports

        print(reports.new_report(_project(), self.slug))
        return 0


@dataclass
class ReportList:
    """The reports in 9_reports/: date, slug, title."""

    def run(self) -> int:
        from autoresearch import reports

        reports.print_reports(_project())
        return 0


@dataclass
class Report:
    """Experiment reports in 9_reports/."""

    cmd: Annotated[
        Union[
            Annotated[ReportNew, subcommand("new")],
            Annotated[ReportList, subcommand("list")],
        ],
        Cmd,
    ]

    def run(self) -> int:
        return self.cmd.run()


@dataclass
class Status:
    """Dashboard: ideas and mode, worktrees, baseline/best/last results, journal, queue."""

    def run(self) -> int:
        from autoresearch import status

        status.print_status(_project())
        return 0


@dataclass
class Plot:
    """Write 9_reports/progress.png: metric per experiment, running best, crashes, best ideas labelled."""

    def run(self) -> int:
        from autoresearch import plot

        print(plot.plot_progress(_project()))
        return 0


@dataclass
class Init:
    """A new project from this template in DIR (new or empty): fresh records, its own git repo on main, hooks, a first commit."""

    dir: Annotated[str, Positional, tyro.conf.arg(metavar="DIR")]
    """the new project's folder, e.g. ../myproj"""
    project: str = ""
    """one sentence describing the research problem (else a {FILL_IN} placeholder stays)"""
    metric: str = ""
    """the metric's name, e.g. val_bpb; also [tool.autoresearch] metric"""
    direction: Literal["lower", "higher"] | None = None
    """whether lower or higher metric is better; also [tool.autoresearch] direction (default: the template's)"""
    hypothesis_space: str = ""
    """what class of approaches is in scope"""

    def run(self) -> int:
        from pathlib import Path

        from autoresearch import scaffold

        scaffold.print_summary(
            scaffold.new_project(Path(self.dir), self.project, self.metric, self.direction, self.hypothesis_space)
        )
        return 0


@dataclass
class Check:
    """Check the whole project against the file rules and main's history; one line per violation (exit 1), warnings, or 'check: ok'."""

    restore_rows: bool = False
    """append to results.tsv the rows of run folders (7_runs/*/row.tsv) that it lacks, then stop"""
    repair: str = ""
    """a journal whose entries main's history edited: put them back in the working copy (commit it after), then stop"""

    def run(self) -> int:
        from autoresearch import check

        return check.print_check(_project(), self.repair, self.restore_rows)


@dataclass
class GuardCommit:
    """The git pre-commit hook's check: refuse FROZEN changes without META_MODE, GLOBAL files from a worktree, rewritten journal entries."""

    def run(self) -> int:
        from autoresearch import guard

        return guard.commit(_project())


@dataclass
class GuardAgent:
    """The Claude Code PreToolUse hook: reads its JSON on stdin; exit 2 with the reason on stderr blocks the edit."""

    def run(self) -> int:
        from autoresearch import guard

        return guard.agent(sys.stdin.read())


@dataclass
class Guard:
    """The guards the hooks call (`autoresearch hooks install`, .claude/settings.json)."""

    cmd: Annotated[
        Union[
            Annotated[GuardCommit, subcommand("commit")],
            Annotated[GuardAgent, subcommand("agent")],
        ],
        Cmd,
    ]

    def run(self) -> int:
        return self.cmd.run()


@dataclass
class HooksInstall:
    """Install the git pre-commit and pre-merge-commit hooks for every worktree (idempotent; an existing hook is kept and chained)."""

    def run(self) -> int:
        from autoresearch import hooks

        return hooks.install()


@dataclass
class HooksStatus:
    """Which guard hooks are in place: the git hooks (and any chained hook of yours) and the Claude Code hook."""

    def run(self) -> int:
        from autoresearch import hooks

        return hooks.status()


@dataclass
class HooksMetaTrailer:
    """The git prepare-commit-msg hook: when META_MODE is on and the commit changes FROZEN files, add a signed Meta-Mode trailer."""

    message_file: Annotated[str, Positional, tyro.conf.arg(metavar="FILE")]
    source: Annotated[str, Positional, tyro.conf.arg(metavar="SOURCE")] = ""
    sha: Annotated[str, Positional, tyro.conf.arg(metavar="SHA")] = ""

    def run(self) -> int:
        from autoresearch import hooks

        return hooks.meta_trailer(self.message_file, self.source)


@dataclass
class Hooks:
    """The git hooks that run `guard commit` on every commit, in every worktree."""

    cmd: Annotated[
        Union[
            Annotated[HooksInstall, subcommand("install")],
            Annotated[HooksStatus, subcommand("status")],
            Annotated[HooksMetaTrailer, subcommand("meta-trailer")],
        ],
        Cmd,
    ]

    def run(self) -> int:
        return self.cmd.run()


Backend = Annotated[Literal["pueue", "slurm"] | None, tyro.conf.arg(metavar="{pueue,slurm}")]
JobId = Annotated[str, Positional, tyro.conf.arg(metavar="ID")]


@dataclass
class QueueAdd:
    """Queue a command with its question and hypothesis; prints the job id. Put the command after `--`."""

    command: Annotated[list[str], Positional, tyro.conf.arg(metavar="CMD")]
    """the command and its arguments, e.g. -- just eval"""
    label: str
    """'Q: <question> H: <hypothesis>'; the job's AUTORESEARCH_LABEL, so its results row carries it"""
    gpu: str = "auto"
    """auto (the least loaded GPU; Slurm: the configured GRES), none (no GPU), or a GPU index (pueue)"""
    backend: Backend = None
    """default: [tool.autoresearch.queue] backend in pyproject.toml"""
    foreground: Annotated[bool, tyro.conf.FlagCreatePairsOff] = False
    """when no queue engine is available, run the command here and now without asking"""

    def run(self) -> int:
        from autoresearch.queue import commands

        return commands.add(_project(), self.command, self.label, self.gpu, self.backend, self.foreground)


@dataclass
class QueueStatus:
    """This project's jobs: id, state, label, start, runtime and, once finished, the metric from its row."""

    backend: Backend = None

    def run(self) -> int:
        from autoresearch.queue import commands

        commands.print_status(_project(), self.backend)
        return 0


@dataclass
class QueueReview:
    """Finished jobs: question and hypothesis (from the label) next to the observed metric and verdict."""

    backend: Backend = None

    def run(self) -> int:
        from autoresearch.queue import commands

        commands.print_review(_project(), self.backend)
        return 0


@dataclass
class QueueLog:
    """Print a job's output."""

    id: JobId
    backend: Backend = None

    def run(self) -> int:
        from autoresearch.queue import commands

        return commands.print_log(_project(), self.id, self.backend)


@dataclass
class QueueFollow:
    """Print a job's output as it grows, until it ends."""

    id: JobId
    backend: Backend = None

    def run(self) -> int:
        from autoresearch.queue import commands

        return commands.follow(_project(), self.id, self.backend)


@dataclass
class QueueWait:
    """Wait until the jobs end (default: all of this project's unfinished jobs); exit 1 unless all are done."""

    ids: Annotated[tuple[str, ...], Positional, tyro.conf.arg(metavar="ID")] = ()
    """job ids (default: every unfinished job of this project)"""
    backend: Backend = None

    def run(self) -> int:
        from autoresearch.queue import commands

        return commands.wait(_project(), list(self.ids), self.backend)


@dataclass
class QueueKill:
    """Stop a running job, or drop a queued one."""

    id: JobId
    backend: Backend = None

    def run(self) -> int:
        from autoresearch.queue import commands

        return commands.kill(_project(), self.id, self.backend)


@dataclass
class Queue:
    """The job queue: pueue on one machine, Slurm on a cluster ([tool.autoresearch.queue] backend)."""

    cmd: Annotated[
        Union[
            Annotated[QueueAdd, subcommand("add")],
            Annotated[QueueStatus, subcommand("status")],
            Annotated[QueueReview, subcommand("review")],
            Annotated[QueueLog, subcommand("log")],
            Annotated[QueueFollow, subcommand("follow")],
            Annotated[QueueWait, subcommand("wait")],
            Annotated[QueueKill, subcommand("kill")],
        ],
        Cmd,
    ]

    def run(self) -> int:
        return self.cmd.run()


@dataclass
class Calibrate:
    """Is the metric sound? Run the committed baseline on N seeds plus a repeat of the first; check runtime, spread, detectable effect, determinism, eval split; record the noise threshold."""

    seeds: int = 3
    """seeds 0..N-1 (at least 2), then seed 0 once more"""
    profile: str = ""
    """budget profile of eval.py (default: eval.py's, cuda with a GPU, else cpu)"""
    budget: Literal["tokens", "time"] = "tokens"
    """eval.py's --budget"""

    def run(self) -> int:
        from autoresearch import calibrate

        return calibrate.calibrate(_project(), self.seeds, self.profile or None, self.budget)


@dataclass
class Compare:
    """Is B better than A beyond the noise? Their rows paired seed by seed: mean difference, 95% interval, verdict."""

    a: Annotated[str, Positional, tyro.conf.arg(metavar="A")]
    """a commit (prefix, or a git revision such as main) or an idea slug"""
    b: Annotated[str, Positional, tyro.conf.arg(metavar="B")]
    """the same, for the version judged against A"""
    seeds: int = 0
    """first run the seeds 0..N-1 that a side lacks (in a temporary worktree of its commit)"""
    profile: str = ""
    """budget profile (default: the one profile the two sides have rows in)"""
    method: Literal["t", "bootstrap"] = "t"
    """the interval: paired Student-t, or percentile bootstrap (needs ~10+ seeds)"""

    def run(self) -> int:
        from autoresearch import compare

        return compare.compare(_project(), self.a, self.b, self.seeds, self.profile or None, self.method)


Command = Union[
    Annotated[Idea, subcommand("idea")],
    Annotated[Worktree, subcommand("worktree")],
    Annotated[Results, subcommand("results")],
    Annotated[Journal, subcommand("journal")],
    Annotated[Report, subcommand("report")],
    Annotated[Status, subcommand("status")],
    Annotated[Plot, subcommand("plot")],
    Annotated[Check, subcommand("check")],
    Annotated[Guard, subcommand("guard")],
    Annotated[Hooks, subcommand("hooks")],
    Annotated[Init, subcommand("init")],
    Annotated[Calibrate, subcommand("calibrate")],
    Annotated[Compare, subcommand("compare")],
    Annotated[Queue, subcommand("queue")],
]


def main(args: list[str] | None = None) -> int:
    command = tyro.cli(Command, args=args, prog="autoresearch", config=(tyro.conf.OmitSubcommandPrefixes,))
    try:
        return command.run() or 0
    except UserError as e:
        print(f"autoresearch: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
