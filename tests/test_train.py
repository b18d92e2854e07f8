"""train.py: a tiny budget run returns a trained model; same seed, same weights; divergence fails fast."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import train
from autoresearch.budget import Budget, TrainData

SEQ_LEN, BATCH, STEPS = 32, 4, 12
TEXT = np.frombuffer(b"the cat sat on the mat. a dog ran to the log. " * 100, dtype=np.uint8)


@pytest.fixture(autouse=True)
def tiny(monkeypatch: pytest.MonkeyPatch):
    """A 'test' profile with a tiny model; restores the global deterministic-algorithms flag afterwards."""
    monkeypatch.setitem(train.MODEL_SIZES, "test", dict(n_layer=2, n_head=2, n_embd=32))
    monkeypatch.setitem(train.BATCH_SIZES, "test", BATCH)
    deterministic = torch.are_deterministic_algorithms_enabled()
    yield
    torch.use_deterministic_algorithms(deterministic)


def run(seed: int = 0, steps: int = STEPS) -> tuple[torch.nn.Module, TrainData]:
    budget = Budget(profile="test", device="cpu", seq_len=SEQ_LEN, max_tokens=steps * BATCH * SEQ_LEN, max_seconds=None, cap_seconds=60)
    data = TrainData(TEXT, budget, seed)
    return train.train(data, budget, seed), data


def test_tiny_run_returns_trained_model():
    model, data = run(steps=30)
    assert data.steps == 30 and data.progress == 1.0
    assert not model.training
    x = torch.from_numpy(TEXT[: SEQ_LEN + 1].astype(np.int64))[None]
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy(model(x[:, :-1])[0], x[0, 1:]).item()
    assert loss < math.log(256) - 1.0  # it learned something about this repetitive text


def test_same_seed_same_weights():
    a, b, c = run(seed=7)[0].state_dict(), run(seed=7)[0].state_dict(), run(seed=8)[0].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_nan_raises(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(train, "lr_multiplier", lambda progress: float("nan"))
    with pytest.raises(FloatingPointError, match="diverged"):
        run()


def test_explosion_raises(monkeypatch: pytest.MonkeyPatch):
    cross_entropy = torch.nn.functional.cross_entropy
    calls = []

    def exploding(*args, **kwargs):
        calls.append(1)
        return cross_entropy(*args, **kwargs) * (1 if len(calls) < 5 else 10)

    monkeypatch.setattr(train.F, "cross_entropy", exploding)
    with pytest.raises(FloatingPointError, match="exploded"):
        run()


def test_budget_below_one_batch_fails():
    with pytest.raises(ValueError, match="smaller than one batch"):
        run(steps=0)
