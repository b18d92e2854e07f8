"""Training-batch samplers, and the dispenser that hands their batches out under a budget.

A sampler turns (generator, batch size) into a tuple of numpy arrays and says how many training
units the batch spends. The generator is a seeded `torch.Generator`, so the same seed gives the same
batches. Two ship with the toolkit; a problem with other data writes its own with the same three
members (`unit`, `units(batch_size)`, `sample(generator, batch_size)`). Usage (eval.py):

    Windows(stream, seq_len)          # language modelling: random windows, (x, next-token y), tokens
    Examples(inputs, targets)         # supervised examples: random rows, (x, y), examples
    d = Dispenser(sampler, budget, seed); d.next(8)   # a Batch (arrays None once the budget is spent)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    import torch

    from autoresearch.evaluate.budget import Budget


class Sampler(Protocol):
    unit: str

    def units(self, batch_size: int) -> int: ...

    def sample(self, generator: torch.Generator, batch_size: int) -> tuple[np.ndarray, ...]: ...


class Windows:
    """Random windows of a 1-D token stream: inputs and next-token targets, int64 (b, seq_len) each."""

    unit = "tokens"

    def __init__(self, stream: np.ndarray, seq_len: int):
        if stream.ndim != 1 or not np.issubdtype(stream.dtype, np.integer):
            raise ValueError(f"a token stream must be a 1-D integer array, got {stream.dtype} {stream.shape}")
        if len(stream) <= seq_len + 1:
            raise ValueError(f"the training stream of {len(stream)} tokens is shorter than one window of {seq_len + 1}")
        self.raw, self.seq_len = stream, seq_len
        self._stream: torch.Tensor | None = None  # made on first use: importing torch can wait for the trainer to start

    def units(self, batch_size: int) -> int:
        return batch_size * self.seq_len

    @property
    def stream(self) -> torch.Tensor:
        import torch

        if self._stream is None:
            self._stream = torch.from_numpy(self.raw.astype(np.int64))
        return self._stream

    def sample(self, generator: torch.Generator, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        import torch

        t = self.seq_len
        starts = torch.randint(0, len(self.stream) - t - 1, (batch_size,), generator=generator)
        windows = self.stream[starts[:, None] + torch.arange(t + 1)].numpy()
        return windows[:, :-1], windows[:, 1:]


class Examples:
    """Random rows of (inputs, targets) arrays with the same first dimension, drawn with replacement."""

    unit = "examples"

    def __init__(self, inputs: np.ndarray, targets: np.ndarray):
        if len(inputs) != len(targets) or len(inputs) == 0:
            raise ValueError(
                f"inputs ({len(inputs)}) and targets ({len(targets)}) must be non-empty and of equal length"
            )
        self.inputs, self.targets = inputs, targets

    def units(self, batch_size: int) -> int:
        return batch_size

    def sample(self, generator: torch.Generator, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        import torch

        rows = torch.randint(0, len(self.inputs), (batch_size,), generator=generator).numpy()
        return self.inputs[rows], self.targets[rows]


@dataclass(frozen=True)
class Batch:
    arrays: tuple[np.ndarray, ...] | None
    """None once the budget is spent"""
    units: int
    """units handed out so far, this batch included"""
    steps: int
    progress: float
    """fraction of the budget spent, in [0, 1]"""


class Dispenser:
    """Hands out a sampler's batches under a budget: counts every unit, ends the stream when it is spent.

    The eval process serves the training process through one; tests and benchmarks run train.py
    in-process through one (autoresearch.evaluate.local). `draw_ahead`, called once a batch is on its
    way, draws the next batch of the same size while the trainer works on this one; a different size
    restores the generator first, so the batches are the same whatever sizes were asked for. A time
    budget's clock starts at the first batch: building (or compiling) the model is not training time."""

    def __init__(self, sampler: Sampler, budget: Budget, seed: int):
        import torch

        self.sampler, self.budget = sampler, budget
        self.generator = torch.Generator().manual_seed(seed)
        self.units = self.steps = 0
        self.started: float | None = None
        self._size = 0
        self._ahead: tuple[int, tuple[np.ndarray, ...], torch.Tensor] | None = None

    @property
    def elapsed(self) -> float:
        """Seconds since the first batch (0 before it)."""
        return 0.0 if self.started is None else time.perf_counter() - self.started

    def next(self, size: int) -> Batch:
        if self.started is None:
            self.started = time.perf_counter()
        budget, n = self.budget, self.sampler.units(size)
        if budget.max_units is not None:
            done = self.units + n > budget.max_units
            progress = min(1.0, (self.units + (0 if done else n)) / budget.max_units)
        else:
            assert budget.max_seconds is not None
            done = self.elapsed >= budget.max_seconds
            progress = min(1.0, self.elapsed / budget.max_seconds)
        if done:
            return Batch(None, self.units, self.steps, progress)
        if self._ahead is not None and self._ahead[0] == size:
            arrays = self._ahead[1]
        else:
            if self._ahead is not None:
                self.generator.set_state(self._ahead[2])
            arrays = self.sampler.sample(self.generator, size)
        self._ahead = None
        self._size = size
        self.units += n
        self.steps += 1
        return Batch(arrays, self.units, self.steps, progress)

    def draw_ahead(self) -> None:
        """Draw the next batch of the last size now (the generator's state is kept to undo it)."""
        if self._size and self._ahead is None:
            state = self.generator.get_state()
            self._ahead = (self._size, self.sampler.sample(self.generator, self._size), state)
