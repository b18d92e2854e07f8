"""The training loop (editable): train model.py's ConvNet on the examples eval.py hands out, until the budget is spent.

Usage: python eval.py [--profile smoke|cpu|cuda]   (or: just smoke, just eval)
eval.py starts a confined training process that imports this file and calls `train(data, budget,
seed)`; it has no CLI of its own. eval.py sends the returned model the validation images and
computes the accuracy itself.

AdamW with a linear warmup and a linear decay to zero, both driven by `data.progress`. On the CPU:
float32 and deterministic algorithms, so the same seed gives the same weights.
"""

from __future__ import annotations

import math
import random

import numpy as np
import torch
import torch.nn.functional as F
from loguru import logger

from autoresearch.evaluate import Budget, TrainData
from model import ConvNet, ModelConfig

# ---------------------------------------------------------------------------------------------
# Hyperparameters

BATCH_SIZE = 64
LR = 3e-3
WEIGHT_DECAY = 1e-4
WARMUP = 0.05  # fraction of the budget with a linear LR ramp from 0
REPORTS = 10  # log lines over the run


def lr_multiplier(progress: float) -> float:
    return progress / WARMUP if progress < WARMUP else (1 - progress) / (1 - WARMUP)


# ---------------------------------------------------------------------------------------------
# The loop


def train(data: TrainData, budget: Budget, seed: int) -> torch.nn.Module:
    """Train a fresh model on `data` until the budget is spent; return it in eval mode."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if budget.device == "cpu":
        torch.use_deterministic_algorithms(True)
    with torch.device(budget.device):
        model = ConvNet(ModelConfig(n_classes=budget.spec["n_classes"]))
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    logger.info(
        f"ConvNet {model.num_params():,} params; batch {BATCH_SIZE}; budget {budget.max_units or budget.max_seconds} {budget.unit}"
    )
    model.train()
    reported, loss_value = 0, math.nan
    while (batch := data.next_batch(BATCH_SIZE)) is not None:
        images, labels = batch
        for group in opt.param_groups:
            group["lr"] = LR * lr_multiplier(data.progress)
        loss = F.cross_entropy(model(images), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            raise FloatingPointError(f"training loss is {loss_value} at step {data.steps}: the run diverged")
        if (due := math.floor(data.progress * REPORTS + 1e-9)) > reported:
            logger.info(f"{data.progress:6.1%} | step {data.steps} | loss {loss_value:.4f}")
            reported = due
    logger.info(f"trained {data.steps} steps, {data.units_seen:,} examples; final loss {loss_value:.4f}")
    return model.eval()
