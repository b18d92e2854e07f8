"""The project's own train.py and model.py, by properties only: whatever architecture the agent merges,
these hold for a sound language model, so a win merged into main never breaks the suite.

train.py is called as eval.py's training process calls it (`train(data, budget, seed)` with the
smoke profile's budget), in this process through LocalData. What is checked: the model maps bytes
to finite next-byte logits of the right shape; it is causal; trained on random bytes it predicts
them at about ln 256 nats (no over-confidence); the same seed gives the same model; it learns a
repetitive text. tests/test_fixture_swap.py runs this file against a different architecture.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
import torch

import train
from autoresearch.evaluate.budget import Budget
from autoresearch.evaluate.local import LocalData
from autoresearch.evaluate.samplers import Windows

SEQ_LEN = 256  # eval.py's smoke profile
SMOKE = Budget(
    profile="smoke",
    device="cpu",
    mode="units",
    unit="tokens",
    max_units=20_480,
    max_seconds=None,
    cap_seconds=120,
    spec={"seq_len": SEQ_LEN, "vocab_size": 256},
)
TEXT = np.frombuffer(b"the cat sat on the mat. a dog ran to the log. " * 600, dtype=np.uint8)
NOISE = np.random.default_rng(0).integers(0, 256, size=200_000, dtype=np.uint8)


@cache
def trained(corpus: str, seed: int) -> torch.nn.Module:
    deterministic = torch.are_deterministic_algorithms_enabled()
    stream = TEXT if corpus == "text" else NOISE
    try:
        return train.train(LocalData(Windows(stream, SEQ_LEN), SMOKE, seed), SMOKE, seed)
    finally:
        torch.use_deterministic_algorithms(deterministic)


@torch.no_grad()
def logits(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    return model(x)


def nats(model: torch.nn.Module, stream: np.ndarray) -> float:
    x = torch.from_numpy(stream[: 4 * (SEQ_LEN + 1)].astype(np.int64)).view(4, SEQ_LEN + 1)
    out = logits(model, x[:, :-1])
    return torch.nn.functional.cross_entropy(out.flatten(0, 1).float(), x[:, 1:].flatten()).item()


def test_bytes_in_finite_next_byte_logits_out() -> None:
    model = trained("text", 0)
    for t in (SEQ_LEN, 7):
        out = logits(model, torch.randint(0, 256, (3, t)))
        assert out.shape == (3, t, 256) and out.dtype == torch.float32 and torch.isfinite(out).all()


def test_causal() -> None:
    model = trained("text", 0)
    g = torch.Generator().manual_seed(1)
    idx = torch.randint(0, 256, (4, SEQ_LEN), generator=g)
    base = logits(model, idx)
    for t in (0, 5, SEQ_LEN // 2, SEQ_LEN - 2):
        moved = idx.clone()
        moved[:, t + 1 :] = torch.randint(0, 256, moved[:, t + 1 :].shape, generator=g)
        assert (logits(model, moved)[:, : t + 1] - base[:, : t + 1]).abs().max().item() < 1e-4


def test_trained_on_random_bytes_it_predicts_them_at_about_ln_256() -> None:
    fresh = np.random.default_rng(1).integers(0, 256, size=10_000, dtype=np.uint8)
    assert nats(trained("noise", 0), fresh) == pytest.approx(math.log(256), abs=0.15)


@pytest.mark.slow  # real evals (5-11 s): `just test-all` and CI run it
def test_the_same_seed_gives_the_same_model_and_another_seed_another() -> None:
    x = torch.from_numpy(TEXT[:SEQ_LEN].astype(np.int64))[None]
    trained.cache_clear()
    a = logits(trained("text", 7), x)
    trained.cache_clear()
    b, c = logits(trained("text", 7), x), logits(trained("text", 8), x)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_it_learns_a_repetitive_text() -> None:
    assert nats(trained("text", 0), TEXT[1000:]) < math.log(256) - 1.0
