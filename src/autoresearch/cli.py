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


Command = Union[
    Annotated[Idea, subcommand("idea")],
    Annotated[Worktree, subcommand("worktree")],
    Annotated[Results, subcommand("results")],
    Annotated[Journal, subcommand("journal")],
    Annotated[Report, subcommand("report")],
    Annotated[Status, subcommand("status")],
    Annotated[Plot, subcommand("plot")],
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
