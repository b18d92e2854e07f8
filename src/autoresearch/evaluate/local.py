"""train.py's data source without the process boundary: batches handed out in this process, under a budget.

For the tests of the baseline's properties and for the training-loop benchmark only: an eval always
runs train.py in the confined training process (parent.py). Same interface as child.TrainData.
Usage:

    data = LocalData(Windows(stream, 256), budget, seed=0)
    model = train.train(data, budget, seed=0)
"""

from __future__ import annotations

from typing import Any

from autoresearch.evaluate.budget import Budget
from autoresearch.evaluate.samplers import Dispenser, Sampler


class LocalData:
    def __init__(self, sampler: Sampler, budget: Budget, seed: int):
        self.budget = budget
        self._dispenser = Dispenser(sampler, budget, seed)
        self.units_seen = self.steps = 0
        self.progress = 0.0

    @property
    def elapsed(self) -> float:
        return self._dispenser.elapsed

    def next_batch(self, batch_size: int) -> tuple[Any, ...] | None:
        import torch

        batch = self._dispenser.next(batch_size)
        self.units_seen, self.steps, self.progress = batch.units, batch.steps, batch.progress
        if batch.arrays is None:
            return None
        return tuple(torch.from_numpy(a.copy()).to(self.budget.device) for a in batch.arrays)
