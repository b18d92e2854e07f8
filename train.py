"""The training loop (editable): train model.py's GPT on the batches eval.py hands out, until the budget is spent.

Usage: python eval.py [--profile smoke|cpu|cuda]   (or: just smoke, just eval)
eval.py starts a confined training process that imports this file and calls `train(data, budget,
seed)`; it has no CLI of its own. It reports the training loss only: eval.py sends the returned
model the validation inputs and scores its logits itself.

Optimisers: torch.optim.Muon for the 2-D weight matrices of the blocks, AdamW for the embedding
and the head. The learning rate follows `data.progress`: short warmup, constant, linear warmdown.
On CUDA: bf16 autocast and torch.compile. On the CPU: float32, deterministic algorithms, no compile,
so the same seed gives the same weights.
"""

from __future__ import annotations

import contextlib
import math
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange
from loguru import logger
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from autoresearch.evaluate import Budget, TrainData
from model import GPT, ModelConfig

# ---------------------------------------------------------------------------------------------
# Hyperparameters

# Model size per budget profile (ModelConfig fields; seq_len comes from the budget).
MODEL_SIZES: dict[str, dict[str, int]] = {
    "smoke": dict(n_layer=4, n_head=4, n_embd=128),
    "cpu": dict(n_layer=4, n_head=4, n_embd=128),
    "cuda": dict(n_layer=8, n_head=8, n_embd=512),  # ~25M params, ~0.2 GFLOP/token at seq 1024
}
# Sequences per optimiser step, per profile (tokens per step = batch * seq_len).
BATCH_SIZES: dict[str, int] = {"smoke": 8, "cpu": 8, "cuda": 64}

MATRIX_LR = 0.02  # Muon, for the blocks' weight matrices
MUON_MOMENTUM = 0.95
EMBEDDING_LR = 0.2  # AdamW; both AdamW rates are scaled by (n_embd / 768) ** -0.5 as in nanochat
HEAD_LR = 0.004
ADAM_BETAS = (0.8, 0.95)
WEIGHT_DECAY = 0.0

WARMUP = 0.02  # fraction of the budget with a linear LR ramp from 0
WARMDOWN = 0.4  # final fraction of the budget with a linear ramp down to FINAL_LR_FRAC
FINAL_LR_FRAC = 0.0

EXPLODE_FACTOR = 2.0  # after warmup, a loss above this times the initial loss is a divergence
MAX_LOSS = 20.0
REPORTS = 10  # log lines over the run when stdout is not a terminal (one per 10% of the budget)


def lr_multiplier(progress: float) -> float:
    if progress < WARMUP:
        return progress / WARMUP
    if progress < 1 - WARMDOWN:
        return 1.0
    return FINAL_LR_FRAC + (1 - FINAL_LR_FRAC) * (1 - progress) / WARMDOWN


# ---------------------------------------------------------------------------------------------
# Setup


def seed_everything(seed: int, device: str) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if device == "cpu":
        torch.use_deterministic_algorithms(True)


def build_optimizers(model: GPT) -> list[torch.optim.Optimizer]:
    matrices = list(model.blocks.parameters())
    assert all(p.ndim == 2 for p in matrices), "Muon takes 2-D matrices only"
    scale = (model.config.n_embd / 768) ** -0.5
    adamw = torch.optim.AdamW(
        [
            dict(params=[model.wte.weight], lr=EMBEDDING_LR * scale),
            dict(params=[model.lm_head.weight], lr=HEAD_LR * scale),
        ],
        betas=ADAM_BETAS,
        eps=1e-10,
        weight_decay=WEIGHT_DECAY,
    )
    muon = torch.optim.Muon(
        matrices,
        lr=MATRIX_LR,
        weight_decay=WEIGHT_DECAY,
        momentum=MUON_MOMENTUM,
        nesterov=True,
        ns_steps=5,
        adjust_lr_fn="original",
    )
    optimizers = [adamw, muon]
    for opt in optimizers:
        for group in opt.param_groups:
            group["initial_lr"] = group["lr"]
    return optimizers


# ---------------------------------------------------------------------------------------------
# The loop


def train(data: TrainData, budget: Budget, seed: int) -> torch.nn.Module:
    """Train a fresh model on `data` until the budget is spent; return it in eval mode."""
    device = budget.device
    seed_everything(seed, device)
    seq_len = budget.spec["seq_len"]
    config = ModelConfig(seq_len=seq_len, vocab_size=budget.spec["vocab_size"], **MODEL_SIZES[budget.profile])
    batch_size = BATCH_SIZES[budget.profile]
    with torch.device(device):
        model = GPT(config)
    optimizers = build_optimizers(model)
    logger.info(
        f"model {config}: {model.num_params() / 1e6:.3f}M params, {model.flops_per_token() / 1e6:.1f} MFLOP/token; "
        f"batch {batch_size} x {seq_len} tokens"
    )
    if device == "cuda":
        torch.set_float32_matmul_precision("high")
        forward = torch.compile(model)
        autocast = torch.autocast("cuda", dtype=torch.bfloat16)
    else:
        forward = model
        autocast = contextlib.nullcontext()  # type: ignore[assignment]  # the same context-manager role as torch.autocast

    bar = None
    if sys.stdout.isatty():
        bar = Progress(
            TextColumn("train"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[info]}"),
        )
        task = bar.add_task("train", total=1.0, info="")
        bar.start()
    model.train()
    t0 = time.perf_counter()
    initial_loss, smooth_loss, reported = None, None, 0
    try:
        while (batch := data.next_batch(batch_size)) is not None:
            x, y = batch
            progress = data.progress
            lr_mult = lr_multiplier(progress)
            for opt in optimizers:
                for group in opt.param_groups:
                    group["lr"] = group["initial_lr"] * lr_mult

            with autocast:
                logits = forward(x)
            loss = F.cross_entropy(rearrange(logits.float(), "b t v -> (b t) v"), rearrange(y, "b t -> (b t)"))
            loss.backward()
            for opt in optimizers:
                opt.step()
            model.zero_grad(set_to_none=True)

            # Fail fast on divergence.
            value = loss.item()
            if initial_loss is None:
                initial_loss = value
            if not math.isfinite(value):
                raise FloatingPointError(
                    f"training loss is {value} at step {data.steps} (progress {progress:.1%}): the run diverged"
                )
            if value > MAX_LOSS or (progress > WARMUP and value > EXPLODE_FACTOR * initial_loss):
                raise FloatingPointError(
                    f"training loss exploded to {value:.3f} at step {data.steps} (progress {progress:.1%}; initial {initial_loss:.3f})"
                )
            smooth_loss = value if smooth_loss is None else 0.9 * smooth_loss + 0.1 * value

            # Report.
            tokens_per_s = data.units_seen / (time.perf_counter() - t0)
            line = f"step {data.steps} | loss {smooth_loss:.4f} | {tokens_per_s:,.0f} tok/s | lr x{lr_mult:.3f}"
            if bar is not None:
                bar.update(task, completed=progress, info=line)
            elif (due := math.floor(progress * REPORTS + 1e-9)) > reported:
                logger.info(f"{progress:6.1%} | {line}")
                reported = due
    finally:
        if bar is not None:
            bar.stop()

    if data.steps == 0:
        raise ValueError(f"the budget is smaller than one batch of {batch_size} x {seq_len} tokens")
    seconds = time.perf_counter() - t0
    logger.info(
        f"trained {data.steps} steps, {data.units_seen:,} tokens in {seconds:.1f} s "
        f"({data.units_seen / seconds:,.0f} tok/s); final train loss {smooth_loss:.4f}"
    )
    return model.eval()
