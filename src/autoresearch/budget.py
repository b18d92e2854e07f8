"""The training budget and the only source of training batches.

eval.py builds a `Budget` from its profile and hands `train.train` a `TrainData`, which counts
every token it gives out and stops giving when the budget is spent. The learning-rate schedule
reads `progress`. Usage (in train.py):

    while (batch := data.next_batch(batch_size)) is not None:
        x, y = batch
        lr = base_lr * schedule(data.progress)
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from jaxtyping import Int
from torch import Tensor


@dataclass(frozen=True)
class Budget:
    profile: str
    device: str
    seq_len: int
    max_tokens: int | None
    """Token budget (the default, deterministic mode); None in time mode."""
    max_seconds: float | None
    """Wall-clock training budget (time mode, karpathy's semantics); None in token mode."""
    cap_seconds: float
    """Hard wall-clock cap on training; past it the run is a `timeout` crash."""

    def __post_init__(self) -> None:
        if (self.max_tokens is None) == (self.max_seconds is None):
            raise ValueError("Budget needs exactly one of max_tokens or max_seconds")


class TrainData:
    """Random windows of the training stream, handed out until the budget is spent."""

    def __init__(self, stream: np.ndarray, budget: Budget, seed: int):
        if stream.dtype != np.uint8 or stream.ndim != 1:
            raise ValueError(f"training stream must be 1-D uint8, got {stream.dtype} {stream.shape}")
        if len(stream) <= budget.seq_len + 1:
            raise ValueError(f"training stream of {len(stream)} bytes is shorter than one window")
        self.stream = torch.from_numpy(stream.astype(np.int64))
        self.budget = budget
        self.generator = torch.Generator().manual_seed(seed)
        self.tokens_seen = 0
        self.steps = 0
        self.started = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    @property
    def progress(self) -> float:
        """Fraction of the budget spent, in [0, 1]."""
        b = self.budget
        if b.max_tokens is not None:
            return min(1.0, self.tokens_seen / b.max_tokens)
        return min(1.0, self.elapsed / b.max_seconds)

    def next_batch(self, batch_size: int) -> tuple[Int[Tensor, "b t"], Int[Tensor, "b t"]] | None:
        """Inputs and next-byte targets on the budget's device, or None once the budget is spent."""
        t = self.budget.seq_len
        n = batch_size * t
        if self.budget.max_tokens is not None and self.tokens_seen + n > self.budget.max_tokens:
            return None
        if self.budget.max_seconds is not None and self.elapsed >= self.budget.max_seconds:
            return None
        starts = torch.randint(0, len(self.stream) - t - 1, (batch_size,), generator=self.generator)
        windows = self.stream[starts[:, None] + torch.arange(t + 1)]
        self.tokens_seen += n
        self.steps += 1
        windows = windows.to(self.budget.device, non_blocking=True)
        return windows[:, :-1], windows[:, 1:]


@dataclass(frozen=True)
class Profile:
    """A budget profile, declared in eval.py (FROZEN)."""

    name: str
    device: str
    seq_len: int
    train_tokens: int
    """Token budget in the default mode."""
    time_seconds: float
    """Training budget in time mode (--budget time)."""
    cap_seconds: float
    """Hard wall-clock cap on training in either mode."""
    val_docs: int
    """Validation documents of seq_len + 1 bytes each."""
    writes_row: bool = True

    def budget(self, mode: str) -> Budget:
        if mode not in ("tokens", "time"):
            raise ValueError(f"budget mode {mode!r}: expected 'tokens' or 'time'")
        return Budget(
            profile=self.name,
            device=self.device,
            seq_len=self.seq_len,
            max_tokens=self.train_tokens if mode == "tokens" else None,
            max_seconds=self.time_seconds if mode == "time" else None,
            cap_seconds=self.cap_seconds,
        )
