"""The model: a compact modern GPT over bytes, in one file, readable top to bottom.

Token embedding -> n_layer x [RMSNorm -> causal self-attention (rotary, QK-norm) -> residual,
RMSNorm -> ReLU^2 MLP -> residual] -> RMSNorm -> linear head -> soft-capped logits.
No biases; RMSNorm has no learnable gain. The model returns logits only: eval.py computes the loss
itself and the model never sees targets. Logits at position t depend only on idx[:, : t + 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from einops import rearrange
from jaxtyping import Float, Int
from torch import Tensor, nn


@dataclass
class ModelConfig:
    vocab_size: int = 256  # bytes
    seq_len: int = 256  # the longest sequence the rotary tables cover
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    mlp_ratio: int = 4
    rope_base: float = 10_000.0
    logit_softcap: float = 15.0  # logits = c * tanh(logits / c): keeps early training stable


def norm(x: Tensor) -> Tensor:
    """RMSNorm without a learnable gain."""
    return F.rms_norm(x, (x.size(-1),))


def rotary_tables(seq_len: int, head_dim: int, base: float) -> tuple[Float[Tensor, "t d2"], Float[Tensor, "t d2"]]:
    inv_freq = 1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    angles = torch.outer(torch.arange(seq_len, dtype=torch.float32), inv_freq)
    return angles.cos(), angles.sin()


def apply_rotary(
    x: Float[Tensor, "b h t d"], cos: Float[Tensor, "t d2"], sin: Float[Tensor, "t d2"]
) -> Float[Tensor, "b h t d"]:
    """Rotate each (first half, second half) pair of channels by a position-dependent angle."""
    x1, x2 = x.chunk(2, dim=-1)
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)


class CausalSelfAttention(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.n_head = config.n_head
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd, bias=False)
        self.proj = nn.Linear(config.n_embd, config.n_embd, bias=False)

    def forward(self, x: Float[Tensor, "b t c"], cos: Tensor, sin: Tensor) -> Float[Tensor, "b t c"]:
        q, k, v = rearrange(self.qkv(x), "b t (three h d) -> three b h t d", three=3, h=self.n_head)
        q, k = norm(apply_rotary(q, cos, sin)), norm(apply_rotary(k, cos, sin))  # QK-norm
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(rearrange(y, "b h t d -> b t (h d)"))


class MLP(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.fc = nn.Linear(config.n_embd, config.mlp_ratio * config.n_embd, bias=False)
        self.proj = nn.Linear(config.mlp_ratio * config.n_embd, config.n_embd, bias=False)

    def forward(self, x: Float[Tensor, "b t c"]) -> Float[Tensor, "b t c"]:
        return self.proj(F.relu(self.fc(x)).square())  # ReLU^2


class Block(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.attn = CausalSelfAttention(config)
        self.mlp = MLP(config)

    def forward(self, x: Float[Tensor, "b t c"], cos: Tensor, sin: Tensor) -> Float[Tensor, "b t c"]:
        x = x + self.attn(norm(x), cos, sin)
        return x + self.mlp(norm(x))


class GPT(nn.Module):
    cos: Tensor  # rotary tables, registered as buffers
    sin: Tensor

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        # Untied head: the input embedding and the output projection want different optimisers and
        # learning rates (large-LR AdamW for the embedding, small-LR for the head), and with a
        # 256-byte vocabulary the extra matrix costs only vocab_size * n_embd parameters.
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        cos, sin = rotary_tables(config.seq_len, config.n_embd // config.n_head, config.rope_base)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.init_weights()

    @torch.no_grad()
    def init_weights(self) -> None:
        """nanochat-style: N(0, 1) embedding, fan-in scaled matrices, zero output projections and head.

        The zero head makes the initial loss exactly ln(vocab_size).
        """
        nn.init.normal_(self.wte.weight, std=1.0)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                fan_out, fan_in = module.weight.shape
                nn.init.normal_(module.weight, std=min(1.0, math.sqrt(fan_out / fan_in)) / math.sqrt(fan_in))
        for block in self.blocks:
            assert isinstance(block, Block)
            nn.init.zeros_(block.attn.proj.weight)
            nn.init.zeros_(block.mlp.proj.weight)
        nn.init.zeros_(self.lm_head.weight)

    def forward(self, idx: Int[Tensor, "b t"]) -> Float[Tensor, "b t v"]:
        t = idx.size(1)
        assert t <= self.config.seq_len, f"sequence of {t} bytes exceeds seq_len {self.config.seq_len}"
        cos, sin = self.cos[:t], self.sin[:t]
        x = norm(self.wte(idx))
        for block in self.blocks:
            x = block(x, cos, sin)
        logits = self.lm_head(norm(x)).float()
        c = self.config.logit_softcap
        return c * torch.tanh(logits / c)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def flops_per_token(self) -> float:
        """Training FLOPs per token (forward + backward), nanochat's estimate.

        6 per matmul parameter (every parameter but the embedding lookup) plus the attention
        score/value matmuls, 12 * n_layer * n_head * head_dim * seq_len (no causal discount).
        """
        c = self.config
        matmul_params = self.num_params() - self.wte.weight.numel()
        return 6 * matmul_params + 12 * c.n_layer * c.n_head * (c.n_embd // c.n_head) * c.seq_len
