"""FROZEN: the problem's ground truth. Data, split, budget profiles and the metric live here.

Usage: python eval.py [--profile smoke|cpu|cuda] [--seed N] [--seeds N] [--budget tokens|time]
       (or: just smoke, just eval)

It calls train.train(...) under the profile's budget, scores the returned model itself on the
held-out validation split, prints a summary block and appends one row to the ROOT results.tsv
(smoke writes none). Editing this file needs META_MODE=1 (see program.md).
"""

import time

STARTED = time.perf_counter()

import math  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import tyro  # noqa: E402
from einops import rearrange  # noqa: E402
from jaxtyping import Int  # noqa: E402
from torch import Tensor  # noqa: E402

from autoresearch.budget import Profile  # noqa: E402
from autoresearch.harness import EvalArgs, run_eval  # noqa: E402

DATA = "synthetic"  # or "text:PATH" (a .txt/.md file or a folder of them)
DATA_SEED = 1337  # fixes the corpus and the validation split; never change it mid-project

PROFILES = {
    "smoke": Profile("smoke", "cpu", seq_len=256, train_tokens=20_480, time_seconds=5, cap_seconds=120, val_docs=16, writes_row=False),
    "cpu": Profile("cpu", "cpu", seq_len=256, train_tokens=1_048_576, time_seconds=150, cap_seconds=420, val_docs=256),
    "cuda": Profile("cuda", "cuda", seq_len=1024, train_tokens=400_000_000, time_seconds=300, cap_seconds=900, val_docs=512),
}


@torch.no_grad()
def val_bpb(model: torch.nn.Module, val: Int[Tensor, "n l"], device: str) -> float:
    """Bits per byte over bytes 1.. of every validation document, accumulated in float64."""
    total_bits, count = 0.0, 0
    for docs in val.split(16):
        docs = docs.to(device)
        x, y = docs[:, :-1], docs[:, 1:]
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device == "cuda"):
            logits = model(x)
        nll = F.cross_entropy(rearrange(logits.double(), "b t v -> (b t) v"), rearrange(y, "b t -> (b t)"), reduction="sum")
        total_bits += nll.item() / math.log(2)
        count += y.numel()
    return total_bits / count


if __name__ == "__main__":
    raise SystemExit(run_eval(tyro.cli(EvalArgs), PROFILES, DATA, DATA_SEED, val_bpb, STARTED))
