"""Training-batch samplers: the eval process draws every batch the training process gets.

A sampler turns (generator, batch size) into a tuple of numpy arrays and says how many training
units the batch spends. The generator is a seeded `torch.Generator`, so the same seed gives the same
batches. Two ship with the toolkit; a problem with other data writes its own with the same three
members (`unit`, `units(batch_size)`, `sample(generator, batch_size)`). Usage (eval.py):

    Windows(stream, seq_len)          # language modelling: random windows, (x, next-token y), tokens
    Examples(inputs, targets)         # supervised examples: random rows, (x, y), examples
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    import torch


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
        import torch

        self.stream = torch.from_numpy(stream.astype(np.int64))
        self.seq_len = seq_len

    def units(self, batch_size: int) -> int:
        return batch_size * self.seq_len

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
            raise ValueError(f"inputs ({len(inputs)}) and targets ({len(targets)}) must be non-empty and of equal length")
        self.inputs, self.targets = inputs, targets

    def units(self, batch_size: int) -> int:
        return batch_size

    def sample(self, generator: torch.Generator, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        import torch

        rows = torch.randint(0, len(self.inputs), (batch_size,), generator=generator).numpy()
        return self.inputs[rows], self.targets[rows]
