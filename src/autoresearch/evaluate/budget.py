"""Budget profiles (declared in eval.py) and the budget a training run gets.

A `Profile` names a device and how much training a run may do: a number of training units (tokens,
examples, ...) in the default mode, or a number of seconds in time mode, always under a hard
wall-clock cap. `Profile.budget(mode)` gives the `Budget` the training process sees. Both sides of
the process boundary import this module; it imports nothing heavy. Usage (eval.py):

    Profile("cpu", "cpu", budget=1_048_576, unit="tokens", seconds=150, cap_seconds=420)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Mode = Literal["units", "time"]


@dataclass(frozen=True)
class Budget:
    """What train.py may spend: `data.next_batch` returns None once it is spent."""

    profile: str
    device: str
    """cpu or cuda"""
    mode: Mode
    """units: a fixed number of training units (deterministic); time: a fixed training time (karpathy's)"""
    unit: str
    """what one training unit is: tokens, examples, ..."""
    max_units: int | None
    """the unit budget in units mode; None in time mode"""
    max_seconds: float | None
    """the training time in time mode; None in units mode"""
    cap_seconds: float
    """hard wall-clock cap on training in either mode: past it the run is a `timeout` crash"""
    spec: dict[str, Any] = field(default_factory=dict)
    """the problem's facts for train.py, from eval.py: e.g. seq_len and vocab_size, or n_classes"""

    def __post_init__(self) -> None:
        if (self.max_units is None) == (self.max_seconds is None):
            raise ValueError("Budget needs exactly one of max_units or max_seconds")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Profile:
    """A budget profile, declared in eval.py (FROZEN)."""

    name: str
    device: Literal["cpu", "cuda"]
    budget: int
    """training units per run in the default mode"""
    unit: str
    """tokens, examples, ..."""
    seconds: float
    """training time per run in time mode (--budget time)"""
    cap_seconds: float
    """hard wall-clock cap on training in either mode"""
    writes_row: bool = True
    """smoke profiles check the path and write no results row"""
    window: tuple[float, float] | None = None
    """the runtime of a whole run (seconds) that `just calibrate` accepts; default by device: cpu 60-600, cuda 300-2400"""

    def __post_init__(self) -> None:
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f"profile {self.name}: device {self.device!r}, expected 'cpu' or 'cuda'")
        if not (self.budget > 0 and self.seconds > 0 and self.cap_seconds > 0):
            raise ValueError(f"profile {self.name}: budget, seconds and cap_seconds must be positive")

    def for_run(self, mode: Mode, spec: dict[str, Any]) -> Budget:
        if mode not in ("units", "time"):
            raise ValueError(f"budget mode {mode!r}: expected 'units' or 'time'")
        return Budget(
            profile=self.name,
            device=self.device,
            mode=mode,
            unit=self.unit,
            max_units=self.budget if mode == "units" else None,
            max_seconds=self.seconds if mode == "time" else None,
            cap_seconds=self.cap_seconds,
            spec=dict(spec),
        )
