"""META_MODE: whether FROZEN files may change now. Every guard asks this one function.

It is on when the environment has `META_MODE=1`, or when the newest entry of the ROOT
`human_journal.md` contains `META_MODE=1` (the researcher's way: a newer entry without it turns
it off again). Usage:

    from autoresearch.metamode import meta_mode
    mode = meta_mode(project)       # mode.on: bool, mode.why: one line for messages
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autoresearch.paths import Project

FLAG = re.compile(r"(?<![\w=])META_MODE=1(?![\w.])")


@dataclass(frozen=True)
class MetaMode:
    on: bool
    why: str
    """Where the answer came from, e.g. "the newest entry of human_journal.md ('...') says META_MODE=1"."""


def meta_mode(project: Project) -> MetaMode:
    from autoresearch.journal import parse

    if os.environ.get("META_MODE") == "1":
        return MetaMode(True, "the environment has META_MODE=1")
    path = project.human_journal
    if not path.exists():
        return MetaMode(False, f"META_MODE is not set and {path.name} is missing")
    _, entries = parse(path.read_text(encoding="utf-8"))
    if not entries:
        return MetaMode(False, f"META_MODE is not set and {path.name} has no entries")
    newest = entries[0]
    if FLAG.search(newest.text):
        return MetaMode(True, f"the newest entry of {path.name} ('{newest.heading}') says META_MODE=1")
    return MetaMode(False, f"META_MODE is not set and the newest entry of {path.name} does not say META_MODE=1")
