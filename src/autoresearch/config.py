"""The project's settings: the whole `[tool.autoresearch]` table of pyproject.toml, read in one place.

Every module gets its settings from a `Config`; none parses pyproject.toml itself. Two copies can be
read: the working copy (what a command runs with) and main's committed copy (what the guards trust,
so that editing pyproject.toml cannot loosen a rule). Any problem is one `ConfigError` naming the file,
the key and the fix. Usage:

    config = Config.load(project)              # the working copy; ConfigError when unreadable
    config = Config.committed(project)         # main's committed copy, else the working copy
    config.metric.name, config.taxonomy.is_frozen("eval.py"), config.keep, config.queue.backend
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from autoresearch.errors import UserError
from autoresearch.metric import Metric
from autoresearch.taxonomy import Taxonomy

if TYPE_CHECKING:
    from autoresearch.paths import Project

RESTORE = "restore it with `git checkout pyproject.toml`"
DEFAULT_CODE = ("**/*.py", "!tests/**", "!bench/**")
"""The agent's code, whose content identifies a version: every Python file but the tests and benchmarks (FROZEN files are left out)."""


class ConfigError(UserError):
    """pyproject.toml's [tool.autoresearch] is missing, unreadable or has a bad value."""


@dataclass(frozen=True)
class SlurmSettings:
    """[tool.autoresearch.queue.slurm]"""

    partition: str = ""
    """empty: the cluster's default partition"""
    gres: str = "gpu:1"
    """the GRES of a GPU job (--gpu auto); empty on a cluster without GPUs"""
    time: str = "01:00:00"
    """the time limit of a job (sbatch --time); empty: the partition's default"""
    extra: tuple[str, ...] = ()
    """more sbatch flags, e.g. ["--account=myproj", "--qos=normal"]"""
    output: str = ".autoresearch/queue"
    """job output files and the job ledger, relative to the project root; must be visible to the compute nodes"""


@dataclass(frozen=True)
class QueueSettings:
    """[tool.autoresearch.queue]"""

    backend: str = "auto"
    """auto (pueue, else task-spooler, else Slurm), pueue, tsp or slurm"""
    slurm: SlurmSettings = field(default_factory=SlurmSettings)


QUEUE_BACKENDS = ("auto", "pueue", "tsp", "slurm")


@dataclass(frozen=True)
class Config:
    taxonomy: Taxonomy
    metric: Metric
    code: tuple[str, ...] = DEFAULT_CODE
    """gitignore-style patterns of the agent's code: a row's `code` hash covers these files"""
    meaningful_effect: float | None = None
    """the smallest gain worth detecting, in metric units; calibration needs it"""
    keep: Literal["agent", "researcher"] = "agent"
    """who merges a win into main: `just keep` merges itself (agent) or prints the merge command (researcher)"""
    ideate_below: int = 30
    """IDEATE while there are fewer ideas than this, then IMPLEMENT"""
    run_until: str = ""
    """'HH:MM' (local time): the Claude Code Stop hook sends the agent back to work until then; '' off"""
    stop_after_crashes: int = 3
    """the Stop hook lets the agent stop early when the last this-many runs all crashed"""
    queue: QueueSettings = field(default_factory=QueueSettings)
    audit_since: str = ""
    """a commit: `check` audits only the history after it (history older than the Meta-Mode trailers); '' or a commit
    this repository lacks (a copy of the template) audits it all"""
    source: str = "pyproject.toml"

    @property
    def main_branch(self) -> str:
        return self.taxonomy.main_branch

    @classmethod
    def load(cls, project: Project) -> Config:
        """The working copy's settings."""
        path = project.pyproject
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                f"{path}: not found; the project's settings live in its [tool.autoresearch] table"
            ) from None
        return cls.from_text(text, str(path))

    @classmethod
    def committed(cls, project: Project) -> Config:
        """Main's committed settings (the working copy's until main has any): what the guards trust."""
        from autoresearch import repo

        local = cls.load(project) if project.pyproject.exists() else None
        main = local.main_branch if local else "main"
        spec = f"{main}:pyproject.toml"
        blob = repo.read_blobs(project.root, [spec])[spec]
        if blob is not None and "[tool.autoresearch]" in (text := blob.decode("utf-8", "replace")):
            return cls.from_text(text, f"{spec} (committed)")
        if local is None:
            raise ConfigError(f"{project.pyproject}: not found, and {main} has no committed copy; {RESTORE}")
        return local

    @classmethod
    def from_text(cls, text: str, source: str = "pyproject.toml") -> Config:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{source}: not valid TOML ({e}); {RESTORE}") from None
        table = data.get("tool", {}).get("autoresearch")
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: no [tool.autoresearch] table; {RESTORE}")
        return cls.from_table(table, source)

    @classmethod
    def from_table(cls, table: dict[str, Any], source: str = "pyproject.toml") -> Config:
        reader = _Reader(table, source, "tool.autoresearch")
        reader.known(*_KEYS)
        taxonomy = Taxonomy(
            frozen=reader.patterns("frozen"),
            global_=reader.patterns("global"),
            append_only=reader.patterns("append_only"),
            main_branch=reader.string("main_branch", "main", r"[A-Za-z0-9._/-]+"),
        )
        name = reader.string("metric", "val_bpb")
        direction = reader.choice("direction", ("lower", "higher"), "lower")
        try:
            metric = Metric(name, direction)  # type: ignore[arg-type]
        except ValueError as e:
            raise ConfigError(f"{source} [tool.autoresearch] metric: {e}") from None
        return cls(
            taxonomy=taxonomy,
            metric=metric,
            code=reader.patterns("code", DEFAULT_CODE),
            meaningful_effect=reader.positive("meaningful_effect"),
            keep=reader.choice("keep", ("agent", "researcher"), "agent"),  # type: ignore[arg-type]
            ideate_below=int(reader.positive("ideate_below", 30, integer=True) or 30),
            run_until=reader.string("run_until", "", r"(|[01]\d:[0-5]\d|2[0-3]:[0-5]\d)"),
            stop_after_crashes=int(reader.positive("stop_after_crashes", 3, integer=True) or 3),
            queue=_queue(reader.subtable("queue"), source),
            audit_since=reader.string("audit_since", "", r"(|[0-9a-f]{7,64})"),
            source=source,
        )

    def need_meaningful_effect(self) -> float:
        if self.meaningful_effect is None:
            raise ConfigError(
                f"{self.source}: [tool.autoresearch] meaningful_effect is not set; set it to the smallest gain worth "
                f"detecting, in {self.metric.name} units (e.g. meaningful_effect = 0.02)"
            )
        return self.meaningful_effect


_KEYS = (
    "frozen",
    "global",
    "append_only",
    "main_branch",
    "metric",
    "direction",
    "code",
    "meaningful_effect",
    "keep",
    "ideate_below",
    "run_until",
    "stop_after_crashes",
    "queue",
    "template",
    "audit_since",
)


def _queue(table: dict[str, Any], source: str) -> QueueSettings:
    reader = _Reader(table, source, "tool.autoresearch.queue")
    reader.known("backend", "slurm")
    slurm = _Reader(reader.subtable("slurm"), source, "tool.autoresearch.queue.slurm")
    slurm.known(*SlurmSettings.__dataclass_fields__)
    return QueueSettings(
        backend=reader.choice("backend", QUEUE_BACKENDS, "auto"),
        slurm=SlurmSettings(
            partition=slurm.string("partition", ""),
            gres=slurm.string("gres", "gpu:1"),
            time=slurm.string("time", "01:00:00"),
            extra=slurm.patterns("extra", ()),
            output=slurm.string("output", ".autoresearch/queue"),
        ),
    )


@dataclass
class _Reader:
    """Typed access to one TOML table; every problem is a ConfigError naming the key."""

    table: dict[str, Any]
    source: str
    where: str

    def fail(self, key: str, value: object, expected: str) -> ConfigError:
        return ConfigError(f"{self.source} [{self.where}] {key} is {value!r}, expected {expected}; fix it or {RESTORE}")

    def known(self, *keys: str) -> None:
        unknown = sorted(set(self.table) - set(keys))
        if unknown:
            raise ConfigError(
                f"{self.source} [{self.where}]: unknown key {unknown[0]!r}; known keys: {', '.join(keys)}"
            )

    def string(self, key: str, default: str, pattern: str | None = None) -> str:
        value = self.table.get(key, default)
        if not isinstance(value, str) or (pattern and not re.fullmatch(pattern, value)):
            raise self.fail(key, value, "a string" if pattern is None else f"a string matching {pattern}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.table.get(key, default)
        if value not in choices:
            raise self.fail(key, value, " or ".join(repr(c) for c in choices))
        return value

    def patterns(self, key: str, default: tuple[str, ...] | None = None) -> tuple[str, ...]:
        if key not in self.table and default is not None:
            return default
        value = self.table.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, value, 'a list of strings such as ["eval.py"]')
        return tuple(value)

    def positive(self, key: str, default: float | None = None, integer: bool = False) -> float | None:
        value = self.table.get(key, default)
        if value is None:
            return None
        number = isinstance(value, int) if integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not number or not value > 0:
            raise self.fail(key, value, "a positive integer" if integer else "a positive number")
        return value

    def subtable(self, key: str) -> dict[str, Any]:
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, value, "a table")
        return value
