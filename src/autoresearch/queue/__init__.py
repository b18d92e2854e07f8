"""The job queue: GPU runs labelled with their question and hypothesis, on pueue or task-spooler
(one machine) or Slurm (a cluster), chosen by `[tool.autoresearch.queue] backend` in pyproject.toml
(default "auto": the first of pueue, tsp, slurm that can take jobs here).

base.py holds the Job record and the Backend interface; pueue.py, tsp.py and slurm.py are the
adapters; commands.py holds the CLI verbs. Usage:

    autoresearch queue add --label "Q: does X help? H: -0.02 bpb" -- just eval   (or: just queue "Q: ... H: ..." just eval)
    autoresearch queue status | review | log ID | follow ID | wait [ID] | kill ID
    from autoresearch.queue import summary; summary(project)   # the dashboard's section, or None
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import RenderableType

    from autoresearch.paths import Project


def summary(project: Project) -> tuple[RenderableType | None, int]:
    """The dashboard's queue section (None when no queue engine is installed here) and the number of
    finished jobs not yet journaled."""
    from autoresearch.queue.commands import summary

    return summary(project)
