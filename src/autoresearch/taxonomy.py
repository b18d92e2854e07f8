"""The file taxonomy (FROZEN / GLOBAL / APPEND-ONLY / REGULAR): which rule a path falls under.

The patterns come from `[tool.autoresearch]` (see config.py) and are gitignore-style globs anchored at
the checkout's root (`eval.py` is the root's eval.py, not tests/fixtures/eval.py; `**` crosses
folders), matched with pathspec. `git_pathspecs` gives the same patterns to git commands with the
`:(top,glob)` magic, whose semantics agree, so the guards and git never disagree on a path. Usage:

    tax.is_frozen("src/autoresearch/cli.py"); tax.kind("RESEARCH_JOURNAL.md")   # 'GLOBAL'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathspec


def compile_patterns(patterns: tuple[str, ...]) -> pathspec.PathSpec:
    """gitignore-style patterns anchored at the root (a leading `!` excludes)."""
    import pathspec

    anchored = [p if p.startswith(("/", "!/")) else ("!/" + p[1:] if p.startswith("!") else "/" + p) for p in patterns]
    return pathspec.PathSpec.from_lines("gitignore", anchored)


def git_pathspecs(patterns: tuple[str, ...]) -> list[str]:
    """The patterns as git pathspecs with the same meaning (for git log/diff over the whole repository)."""
    return [
        f":(top,exclude,glob){p[1:].lstrip('/')}" if p.startswith("!") else f":(top,glob){p.lstrip('/')}"
        for p in patterns
    ]


def _clean(rel: str) -> str:
    return rel.replace("\\", "/").removeprefix("./")


@dataclass(frozen=True)
class Taxonomy:
    frozen: tuple[str, ...]
    global_: tuple[str, ...]
    append_only: tuple[str, ...]
    main_branch: str = "main"

    @cached_property
    def _specs(self) -> tuple[pathspec.PathSpec, pathspec.PathSpec, pathspec.PathSpec]:
        return compile_patterns(self.frozen), compile_patterns(self.global_), compile_patterns(self.append_only)

    def is_frozen(self, rel: str) -> bool:
        return self._specs[0].match_file(_clean(rel))

    def is_global(self, rel: str) -> bool:
        return self._specs[1].match_file(_clean(rel))

    def is_append_only(self, rel: str) -> bool:
        return self._specs[2].match_file(_clean(rel))

    def kind(self, rel: str) -> str:
        """FROZEN, GLOBAL, APPEND-ONLY or REGULAR (a file may be several; the strictest wins)."""
        if self.is_frozen(rel):
            return "FROZEN"
        if self.is_global(rel):
            return "GLOBAL"
        if self.is_append_only(rel):
            return "APPEND-ONLY"
        return "REGULAR"
