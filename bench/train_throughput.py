"""Benchmark 3, training throughput: train.py's tokens/s on the CPU profile next to a plain reference loop.

Usage: python bench/train_throughput.py [--profile cpu] [--tokens 131072] [--repeats 3]   (or: just bench)

Both train the model train.py builds for the profile (model.py's GPT, train.py's MODEL_SIZES and
BATCH_SIZES), on the batches of the same `TrainData`, for the same number of steps, in this process:
train.py with its optimisers and schedule, the reference with plain AdamW and nothing else. Target:
train.py / reference >= 1.0. The achieved FLOP/s (model.flops_per_token() x tokens/s) is set
against this machine's peak, measured here with a large float32 torch.matmul.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from common import OUT, Figure, load_problem, median, report

TARGET_RATIO = 1.0


def run_train(train, profile, corpus, seed: int) -> tuple[float, int, float]:
    """(seconds, tokens, flops per token) of one train.train call, model construction included."""
    from autoresearch.budget import TrainData

    budget = profile.budget("tokens")
    data = TrainData(corpus.train, budget, seed)
    t0 = time.perf_counter()
    net = train.train(data, budget, seed)
    return time.perf_counter() - t0, data.tokens_seen, net.flops_per_token()


def run_reference(train, model, profile, corpus, seed: int) -> tuple[float, int, float]:
    """The same model and batches with plain AdamW: no schedule, no Muon, no checks, no logging."""
    import torch
    import torch.nn.functional as F

    from autoresearch.budget import TrainData

    budget = profile.budget("tokens")
    data = TrainData(corpus.train, budget, seed)
    batch_size = train.BATCH_SIZES[budget.profile]
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    with torch.device(budget.device):
        net = model.GPT(model.ModelConfig(seq_len=budget.seq_len, **train.MODEL_SIZES[budget.profile]))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    net.train()
    while (batch := data.next_batch(batch_size)) is not None:
        x, y = batch
        loss = F.cross_entropy(net(x).flatten(0, 1), y.flatten())
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    loss.item()
    return time.perf_counter() - t0, data.tokens_seen, net.flops_per_token()


def peak_matmul_flops(n: int, repeats: int = 5) -> float:
    """The best float32 FLOP/s of an n x n matmul on this machine, with torch's default threads."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.matmul(a, b)  # warm-up
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.matmul(a, b)
        best = max(best, 2 * n**3 / (time.perf_counter() - t0))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu", help="eval.py's budget profile whose model and batch size to use")
    parser.add_argument("--tokens", type=int, default=131_072, help="token budget of each timed run (the cpu profile's is 1,048,576)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each, alternating (so load drift hits both); medians reported")
    parser.add_argument("--warmup", action=argparse.BooleanOptionalAction, default=True, help="two untimed steps of each loop first")
    parser.add_argument("--peak-size", type=int, default=2048, help="n of the n x n float32 matmul that measures the peak")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for train_throughput.json")
    args = parser.parse_args(argv)

    from loguru import logger

    logger.remove()  # train.py's progress lines would bury the table
    logger.add(sys.stderr, level="WARNING")
    import torch

    profile, corpus, train, model, _ = load_problem(args.profile, args.tokens)
    small = dataclasses.replace(profile, train_tokens=2 * train.BATCH_SIZES[args.profile] * profile.seq_len)
    if args.warmup:  # allocator, thread pool, first-call costs
        run_train(train, small, corpus, 0)
        run_reference(train, model, small, corpus, 0)
    ours, ref = [], []
    for i in range(args.repeats):
        ref.append(run_reference(train, model, profile, corpus, i))
        ours.append(run_train(train, profile, corpus, i))
    tokens, flops_per_token = ours[0][1], ours[0][2]
    assert all(r[1] == tokens for r in ours + ref), "both loops must see the same number of tokens"
    ours_tps = median([tokens / s for s, _, _ in ours])
    ref_tps = median([tokens / s for s, _, _ in ref])
    peak = peak_matmul_flops(args.peak_size)
    ratio = ours_tps / ref_tps
    figures = [
        Figure("train.py", ours_tps, "tokens/s"),
        Figure("reference loop (plain AdamW)", ref_tps, "tokens/s"),
        Figure("train.py / reference", ratio, "x", f">= {TARGET_RATIO:g}", ratio >= TARGET_RATIO),
        Figure("model FLOPs per token (fwd + bwd)", flops_per_token / 1e6, "MFLOP"),
        Figure("train.py achieved", ours_tps * flops_per_token / 1e9, "GFLOP/s"),
        Figure("reference achieved", ref_tps * flops_per_token / 1e9, "GFLOP/s"),
        Figure(f"peak fp32 matmul ({args.peak_size}^2)", peak / 1e9, "GFLOP/s"),
        Figure("train.py / peak", 100 * ours_tps * flops_per_token / peak, "%"),
    ]
    notes = [
        f"profile {args.profile}: batch {train.BATCH_SIZES[args.profile]} x {profile.seq_len} tokens, "
        f"{tokens:,} tokens ({tokens // (train.BATCH_SIZES[args.profile] * profile.seq_len)} steps) per run, {args.repeats} run(s) each",
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; deterministic algorithms on for both "
        "(train.py turns them on for the CPU)",
    ]
    report(f"Training throughput ({args.profile} profile)", figures, args.out, "train_throughput", notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
