"""Placeholder until the Landlock module lands: confines nothing and says so."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Confinement:
    abi: int | None
    status: str
    why: str
    network: bool = False
    signals: bool = False


def probe() -> Confinement:
    return Confinement(None, "none", "not implemented yet")


def confine(read: Iterable[Path], write: Iterable[Path]) -> Confinement:
    return probe()


def harden_parent() -> None:
    pass


def default_read_paths() -> list[Path]:
    return []
