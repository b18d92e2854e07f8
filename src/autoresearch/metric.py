"""The project's metric: a name and a direction, and every comparison that depends on the direction.

One `Metric` is read from `[tool.autoresearch]` (metric, direction) and carries "better than", "gain"
and "best" through every module, so no module tests `direction == "lower"` itself. Usage:

    m = Metric("accuracy", "higher")
    m.gain(old=0.91, new=0.93)      # +0.02: positive is an improvement, whatever the direction
    m.better(0.93, than=0.91)       # True
    m.best([0.91, 0.93])            # 0.93
    df.sort(m.name, descending=m.descending)   # best first
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Direction = Literal["lower", "higher"]
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
"""A metric name is also a results.tsv column: letters, digits, `_ . -`, not starting with a digit."""


@dataclass(frozen=True)
class Metric:
    name: str
    direction: Direction

    def __post_init__(self) -> None:
        if not NAME.fullmatch(self.name):
            raise ValueError(
                f"metric name {self.name!r}: use a column-like name (letters, digits, _ . -), e.g. val_bpb"
            )
        if self.direction not in ("lower", "higher"):
            raise ValueError(f"metric direction {self.direction!r}: expected 'lower' or 'higher'")

    @property
    def descending(self) -> bool:
        """Sort order that puts the best value first."""
        return self.direction == "higher"

    def gain(self, old: float, new: float) -> float:
        """How much `new` improves on `old`: positive is better, negative is worse."""
        return old - new if self.direction == "lower" else new - old

    def better(self, value: float, than: float) -> bool:
        return self.gain(than, value) > 0

    def best(self, values: Iterable[float]) -> float:
        return min(values) if self.direction == "lower" else max(values)

    def distance(self, value: float, optimum: float) -> float:
        """How far `value` is from a known optimum (>= 0 unless the value beats the optimum)."""
        return self.gain(value, optimum)

    def describe(self) -> str:
        return f"{self.name}, {self.direction} is better"
