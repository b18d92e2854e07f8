"""model.py: logits shape and dtype, causality, parameter and FLOP counts."""

from __future__ import annotations

import pytest
import torch

from model import GPT, ModelConfig

CONFIG = ModelConfig(seq_len=32, n_layer=2, n_head=2, n_embd=32)


def random_model(seed: int = 0) -> GPT:
    """A model with every weight random: the zero-initialised head would make every test trivial."""
    torch.manual_seed(seed)
    model = GPT(CONFIG)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(std=0.3)
    return model.eval()


def test_logits_shape_and_dtype():
    model = random_model()
    for t in (CONFIG.seq_len, 7):
        logits = model(torch.randint(0, 256, (3, t)))
        assert logits.shape == (3, t, CONFIG.vocab_size)
        assert logits.dtype == torch.float32
        assert torch.isfinite(logits).all()


def test_initial_loss_is_uniform():
    model = GPT(CONFIG)  # the real init: zero head
    logits = model(torch.randint(0, 256, (2, CONFIG.seq_len)))
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), torch.zeros(2 * CONFIG.seq_len, dtype=torch.long))
    assert loss.item() == pytest.approx(torch.log(torch.tensor(256.0)).item(), abs=1e-6)


@torch.no_grad()
def test_causal():
    model = random_model()
    g = torch.Generator().manual_seed(1)
    idx = torch.randint(0, 256, (4, CONFIG.seq_len), generator=g)
    base = model(idx)
    for t in (0, 5, CONFIG.seq_len // 2, CONFIG.seq_len - 2):
        moved = idx.clone()
        moved[:, t + 1 :] = torch.randint(0, 256, moved[:, t + 1 :].shape, generator=g)
        logits = model(moved)
        assert (logits[:, : t + 1] - base[:, : t + 1]).abs().max().item() < 1e-6
        assert (logits[:, t + 1 :] - base[:, t + 1 :]).abs().max().item() > 1e-3  # the future does move later logits


def test_too_long_sequence_fails():
    with pytest.raises(AssertionError):
        random_model()(torch.randint(0, 256, (1, CONFIG.seq_len + 1)))


def test_num_params_and_flops():
    model = GPT(CONFIG)
    d, v, n = CONFIG.n_embd, CONFIG.vocab_size, CONFIG.n_layer
    per_block = 3 * d * d + d * d + 2 * CONFIG.mlp_ratio * d * d  # qkv, proj, fc, proj; no biases, no norm gains
    assert model.num_params() == 2 * v * d + n * per_block
    assert model.num_params() == sum(p.numel() for p in model.state_dict().values())  # rotary tables are not params
    attention = 12 * n * d * CONFIG.seq_len
    assert model.flops_per_token() == 6 * (model.num_params() - v * d) + attention
