"""Benchmark 4, the training loop: train.py's tokens/s next to the same loop without its extras, and next to plain AdamW.

Usage: python bench/train_throughput.py [--profile cpu] [--tokens 131072] [--repeats 5] [--threads N]   (or: just bench)

Issue 14: "train.py at least 0.95x the same loop with the same optimisers and none of the extras
(logging, checks, schedule), measured side by side; today's comparison is against plain AdamW and
reads 0.77x, which mixes optimiser cost with loop overhead. Report both." Three loops, in this
process, alternating, each on its own autoresearch.evaluate.local.LocalData over the eval's sampler
and budget (the same batches, no process boundary: that is bench/boundary.py's):
  train.py   train.train(data, budget, seed), as the training process calls it;
  bare loop  the model train.py builds, train.build_optimizers, forward, loss, backward, step,
             zero_grad: no LR schedule, no loss.item() or checks, no logging or progress bar;
  AdamW loop the bare loop with one torch.optim.AdamW(lr=1e-3) instead of train.py's optimisers.
Each clock includes building the model. Also the achieved FLOP/s against a float32 matmul's.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as `python -I`, which leaves this folder off sys.path
from common import OUT, Figure, import_train, isolated, load_problem, median, new_project, quiet_training_log, report

TARGET_BARE = 0.95
QUICK = {"profile": "smoke", "tokens": 2048, "repeats": 1, "peak_size": 256, "warmup": False, "threads": 1}


def build(train, budget, seed: int):
    """The model train.py builds for this budget, seeded as train.py seeds."""
    import torch

    train.seed_everything(seed, budget.device)
    config = train.ModelConfig(
        seq_len=budget.spec["seq_len"], vocab_size=budget.spec["vocab_size"], **train.MODEL_SIZES[budget.profile]
    )
    with torch.device(budget.device):
        return train.GPT(config)


def run_train(train, problem, seed: int) -> tuple[float, int, object]:
    from autoresearch.evaluate.local import LocalData

    data = LocalData(problem.sampler, problem.budget, seed)
    t0 = time.perf_counter()
    model = train.train(data, problem.budget, seed)
    return time.perf_counter() - t0, data.units_seen, model


def run_loop(train, problem, seed: int, optimiser: str) -> tuple[float, int, object]:
    """The bare loop: train.py's model and batch size, its optimisers (or plain AdamW), nothing else.

    On CUDA it compiles and autocasts as train.py does, so that only the extras differ."""
    import torch
    import torch.nn.functional as F

    from autoresearch.evaluate.local import LocalData

    budget = problem.budget
    data = LocalData(problem.sampler, budget, seed)
    batch_size = train.BATCH_SIZES[budget.profile]
    t0 = time.perf_counter()
    model = build(train, budget, seed)
    optimizers = (
        train.build_optimizers(model) if optimiser == "train.py" else [torch.optim.AdamW(model.parameters(), lr=1e-3)]
    )
    cuda = budget.device == "cuda"
    forward = torch.compile(model) if cuda else model
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else contextlib.nullcontext()
    model.train()
    while (batch := data.next_batch(batch_size)) is not None:
        x, y = batch
        with autocast:
            logits = forward(x)
        loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten())
        loss.backward()
        for opt in optimizers:
            opt.step()
        model.zero_grad(set_to_none=True)
    if cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - t0, data.units_seen, model


def peak_matmul_flops(n: int, device: str, repeats: int = 5) -> float:
    """The best float32 FLOP/s of an n x n matmul on this device, with this process's threads."""
    import torch

    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    torch.matmul(a, b)  # warm-up
    best = 0.0
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        torch.matmul(a, b)
        if device == "cuda":
            torch.cuda.synchronize()
        best = max(best, 2 * n**3 / (time.perf_counter() - t0))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--profile", default="cpu", help="eval.py's budget profile whose model, batch size and device to use"
    )
    parser.add_argument(
        "--tokens",
        type=int,
        default=131_072,
        help="training tokens of each timed run (the cpu profile's budget is 1,048,576)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="timed runs of each loop, in turns (so load drift hits all); medians reported (3 varied 0.92-0.98 here)",
    )
    parser.add_argument(
        "--warmup", action=argparse.BooleanOptionalAction, default=True, help="two untimed steps of each loop first"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads (default: every core, as the eval takes on a quiet machine)",
    )
    parser.add_argument(
        "--peak-size", type=int, default=2048, help="n of the n x n float32 matmul that measures the peak"
    )
    parser.add_argument("--quick", action="store_true", help=f"a dry run: {QUICK}")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for train_throughput.json")
    args = parser.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    from autoresearch.evaluate.machine import cores

    threads = args.threads or cores()
    isolated(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))  # as the training process gets them
    import tempfile

    import torch

    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as tmp:
        root = new_project(Path(tmp) / "proj")
        train = import_train(root)
        missing = [
            n
            for n in (
                "train",
                "build_optimizers",
                "seed_everything",
                "MODEL_SIZES",
                "BATCH_SIZES",
                "GPT",
                "ModelConfig",
            )
            if not hasattr(train, n)
        ]
        if missing:
            raise SystemExit(
                f"train_throughput: train.py has no {', '.join(missing)}; the bare loop is built from them, so adapt bench/train_throughput.py"
            )
        quiet_training_log()
        problem = load_problem(root, args.profile, args.tokens)
        batch_tokens = problem.sampler.units(train.BATCH_SIZES[args.profile])
        if args.warmup:  # allocator, thread pool, first-call costs (and compilation on CUDA)
            small = load_problem(root, args.profile, 2 * batch_tokens)
            with contextlib.redirect_stdout(io.StringIO()):
                run_train(train, small, 0)
                run_loop(train, small, 0, "train.py")
                run_loop(train, small, 0, "adamw")
        times: dict[str, list[float]] = {"train.py": [], "bare": [], "adamw": []}
        tokens = set()
        model = None
        for i in range(args.repeats):
            names = list(times)
            for name in names[i % 3 :] + names[: i % 3]:  # each loop takes each place in the order in turn
                # stdout as the training process has it (a pipe): train.py draws no progress bar there
                with contextlib.redirect_stdout(io.StringIO()):
                    seconds, units, model = (
                        run_train(train, problem, i)
                        if name == "train.py"
                        else run_loop(train, problem, i, "train.py" if name == "bare" else "adamw")
                    )
                times[name].append(seconds)
                tokens.add(units)
    assert len(tokens) == 1, f"the loops saw different numbers of tokens: {tokens}"
    used = tokens.pop()
    tps = {name: median([used / s for s in seconds]) for name, seconds in times.items()}
    flops_per_token = float(model.flops_per_token()) if hasattr(model, "flops_per_token") else None
    peak = peak_matmul_flops(args.peak_size, problem.budget.device)
    bare, adamw = tps["train.py"] / tps["bare"], tps["train.py"] / tps["adamw"]
    figures = [
        Figure("train.py", tps["train.py"], "tokens/s"),
        Figure("bare loop (train.py's optimisers, no extras)", tps["bare"], "tokens/s"),
        Figure("AdamW loop (plain AdamW, no extras)", tps["adamw"], "tokens/s"),
        Figure(
            "train.py / bare loop (the extras' cost)", bare, "x", f">= {TARGET_BARE:g} (issue 14)", bare >= TARGET_BARE
        ),
        Figure("train.py / AdamW loop (issue 8's comparison)", adamw, "x"),
        Figure("bare loop / AdamW loop (the optimisers' cost)", tps["bare"] / tps["adamw"], "x"),
    ]
    if flops_per_token:
        figures += [
            Figure("model FLOPs per token (fwd + bwd)", flops_per_token / 1e6, "MFLOP"),
            Figure("train.py achieved", tps["train.py"] * flops_per_token / 1e9, "GFLOP/s"),
            Figure(f"peak fp32 matmul ({args.peak_size}^2, same threads)", peak / 1e9, "GFLOP/s"),
            Figure("train.py / peak", 100 * tps["train.py"] * flops_per_token / peak, "%"),
        ]
    steps = used // batch_tokens
    notes = [
        f"profile {args.profile}: batch {train.BATCH_SIZES[args.profile]} x {problem.budget.spec['seq_len']} tokens, {used:,} tokens ({steps} steps) "
        f"per run, {args.repeats} run(s) of each in rotating order, seeds 0..{args.repeats - 1}",
        f"torch {torch.__version__}, {threads} thread(s), device {problem.budget.device}; train.py's seed_everything for all three "
        "(deterministic algorithms on the CPU)",
    ]
    report(f"Training loop ({args.profile} profile)", figures, args.out, "train_throughput", notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
