"""The file taxonomy (FROZEN / GLOBAL / APPEND-ONLY / REGULAR), read from `[tool.autoresearch]` in pyproject.toml.

This table is the one source every guard reads: `autoresearch check`, the git pre-commit hook
and the Claude Code hook. Patterns are repo-relative globs; `**` matches across folders.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


@dataclass(frozen=True)
class Taxonomy:
    frozen: tuple[str, ...]
    global_: tuple[str, ...]
    append_only: tuple[str, ...]
    main_branch: str = "main"
    metric: str = "val_bpb"
    direction: str = "lower"

    @classmethod
    def load(cls, pyproject: Path) -> Taxonomy:
        try:
            table = tomllib.loads(pyproject.read_text())["tool"]["autoresearch"]
        except FileNotFoundError:
            raise SystemExit(f"{pyproject}: not found; the taxonomy lives in [tool.autoresearch] there")
        except (KeyError, tomllib.TOMLDecodeError) as e:
            raise SystemExit(f"{pyproject}: no readable [tool.autoresearch] table ({e}); restore it with git checkout pyproject.toml")
        direction = table.get("direction", "lower")
        if direction not in ("lower", "higher"):
            raise SystemExit(f"{pyproject}: [tool.autoresearch] direction is {direction!r}, expected 'lower' or 'higher'")
        return cls.from_table(table)

    @classmethod
    def from_table(cls, table: dict) -> Taxonomy:
        """From a parsed [tool.autoresearch] table."""
        return cls(
            frozen=tuple(table["frozen"]),
            global_=tuple(table["global"]),
            append_only=tuple(table["append_only"]),
            main_branch=table.get("main_branch", "main"),
            metric=table.get("metric", "val_bpb"),
            direction=table.get("direction", "lower"),
        )

    def is_frozen(self, rel: str) -> bool:
        return _matches(self.frozen, rel)

    def is_global(self, rel: str) -> bool:
        return _matches(self.global_, rel)

    def is_append_only(self, rel: str) -> bool:
        return _matches(self.append_only, rel)

    def kind(self, rel: str) -> str:
        """FROZEN, GLOBAL, APPEND-ONLY or REGULAR (a file may be several; the strictest wins)."""
        if self.is_frozen(rel):
            return "FROZEN"
        if self.is_global(rel):
            return "GLOBAL"
        if self.is_append_only(rel):
            return "APPEND-ONLY"
        return "REGULAR"


@cache
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(_glob_regex(p) for p in patterns)


def _matches(patterns: tuple[str, ...], rel: str) -> bool:
    rel = rel.replace("\\", "/").removeprefix("./")
    return any(p.match(rel) for p in _compiled(patterns))
