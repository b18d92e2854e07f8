"""Benchmark 3, the process boundary: train.py's tokens/s through the real eval against the same training in-process.

Usage: python bench/boundary.py [--profile cpu] [--tokens N | --full] [--repeats 3] [--threads N]   (or: just bench)
       python bench/boundary.py --quick                                                (smoke profile, 4,096 tokens)

Issue 11: "the boundary must cost <= 3% of training throughput on the cpu profile". In a throwaway
project, with the same seed and the same number of CPU threads on both sides, alternating:
  (a) in-process: train.py's train() on autoresearch.evaluate.local.LocalData, the eval's own sampler
      (lm.windows of the same synthetic data) and budget, in a fresh `python -I` process;
  (b) the real eval: `python eval.py` (through bench/timed_eval.py, which only shrinks the budget
      with --tokens and times each step), its training_seconds and used read from the --summary JSON.
Both clocks include building the model. Also: the eval's overhead (total_seconds - training_seconds)
and where it goes, and a micro-benchmark of one batch through the channel (a second process asking
for batches as the training process does) against LocalData in this process, set against a step's
compute. By default each run trains a quarter of the profile's budget, three times a side: one run of
each differs by up to 9% on this 2-core machine from run to run, which drowns a 3% target. The share
target (issue 8: <= 5%) holds only for the profile's full budget (--full).
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as `python -I`, which leaves this folder off sys.path
from common import (
    OUT,
    PY,
    Figure,
    env,
    eval_failure,
    import_train,
    isolated,
    last_line,
    load_problem,
    median,
    new_project,
    quiet_training_log,
    report,
    run_eval,
)

TARGET_RATIO = 0.97
TARGET_SHARE = 5.0
QUICK = {"profile": "smoke", "tokens": 4096, "micro_steps": 20, "threads": 1, "repeats": 1}


# ------------------------------------------------------------------------------------------- (a) in-process


def local_side(root: Path, profile: str, tokens: int | None, seed: int, threads: int) -> dict:
    """train.py on LocalData in this process: seconds (model set-up included), units, steps."""
    import torch

    from autoresearch.evaluate.local import LocalData

    torch.set_num_threads(threads)  # as the training process does
    problem = load_problem(root, profile, tokens)
    train = import_train(root)
    quiet_training_log()
    data = LocalData(problem.sampler, problem.budget, seed)
    t0 = time.perf_counter()
    train.train(data, problem.budget, seed)
    return {"seconds": time.perf_counter() - t0, "units": data.units_seen, "steps": data.steps}


def run_local(root: Path, profile: str, tokens: int | None, seed: int, threads: int) -> dict:
    """local_side in a fresh process, as the eval's training process is fresh."""
    cmd = [
        PY,
        "-I",
        str(Path(__file__).resolve()),
        "--side",
        "local",
        "--project",
        str(root),
        "--profile",
        profile,
        "--seed",
        str(seed),
        "--threads",
        str(threads),
    ]
    cmd += ["--tokens", str(tokens)] if tokens is not None else []
    out = subprocess.run(
        cmd,
        check=False,
        cwd=root,
        env=env(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads)),
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the in-process side failed: {last_line(out)}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------- micro-benchmark


def channel_child(fd: int) -> None:
    """The training process's side of the channel: ask for batches as child.TrainData does, time each."""
    from autoresearch.evaluate.budget import Budget
    from autoresearch.evaluate.channel import Channel
    from autoresearch.evaluate.child import TrainData

    channel = Channel(socket.socket(fileno=fd))
    start, _ = channel.recv(timeout=120)
    data = TrainData(channel, Budget(**start["budget"]))
    times = []
    while True:
        t0 = time.perf_counter()
        if data.next_batch(int(start["batch"])) is None:
            break
        times.append(time.perf_counter() - t0)
    channel.send({"op": "done", "us": median(times) * 1e6, "batches": len(times)})


def serve(problem, budget, seed: int) -> dict:
    """The eval process's side, as parent.Trial.train serves batches: Dispenser, a shared-memory slot, one message each."""
    from autoresearch.evaluate.channel import Buffer, needed, pair
    from autoresearch.evaluate.samplers import Dispenser

    channel, theirs = pair()
    process = subprocess.Popen(
        [PY, "-I", str(Path(__file__).resolve()), "--side", "channel-child", "--fd", str(theirs.fileno())],
        pass_fds=[theirs.fileno()],
        env=env(OMP_NUM_THREADS="1"),
    )
    theirs.close()
    buffer = None
    try:
        channel.send({"op": "start", "budget": budget.to_json(), "batch": budget.spec["batch"]})
        dispenser = Dispenser(problem.sampler, budget, seed)
        while True:
            message, _ = channel.recv(timeout=120)
            if message["op"] == "done":
                return message
            batch = dispenser.next(int(message["size"]))
            counts = {"units": batch.units, "steps": batch.steps, "progress": batch.progress}
            if batch.arrays is None:
                channel.send({"op": "end", **counts})
                continue
            fresh = buffer is None or buffer.size < needed(list(batch.arrays))
            if fresh:
                buffer = Buffer.create(max(needed(list(batch.arrays)), 1 << 16), "bench-batch")
            specs = buffer.write(list(batch.arrays))
            channel.send(
                {"op": "batch", "arrays": [s.to_json() for s in specs], "slot": 0, **counts},
                *([buffer] if fresh else []),
            )
    finally:
        process.wait(timeout=60)
        channel.close()
        if buffer is not None:
            buffer.close()


def micro(root: Path, profile: str, batch_size: int, steps: int, seed: int) -> dict:
    """Median microseconds per batch: through the channel, through LocalData, and the sampler alone."""
    import dataclasses

    import torch

    from autoresearch.evaluate.local import LocalData

    problem = load_problem(root, profile, 1)  # the smallest corpus eval.py makes: the micro-benchmark needs few batches
    budget = dataclasses.replace(
        problem.budget,
        max_units=steps * problem.sampler.units(batch_size),
        spec=problem.budget.spec | {"batch": batch_size},
    )
    through_channel = serve(problem, budget, seed)
    data = LocalData(problem.sampler, budget, seed)
    local = []
    while True:
        t0 = time.perf_counter()
        if data.next_batch(batch_size) is None:
            break
        local.append(time.perf_counter() - t0)
    generator = torch.Generator().manual_seed(seed)
    sample = []
    for _ in range(steps):
        t0 = time.perf_counter()
        problem.sampler.sample(generator, batch_size)
        sample.append(time.perf_counter() - t0)
    return {
        "channel_us": through_channel["us"],
        "local_us": median(local) * 1e6,
        "sample_us": median(sample) * 1e6,
        "batches": len(local),
    }


# ------------------------------------------------------------------------------------------- the eval's steps


def breakdown(phases: dict, wall: float, training: float) -> list[Figure]:
    """Where the eval process's time went, step by step, from timed_eval's phase file."""
    launched, started, imported, ended = phases["launched"], phases["started"], phases["imported"], phases["ended"]
    figures = [
        Figure("  python start (and the -I rerun)", started - launched, "s"),
        Figure("  imports (eval.py, the toolkit)", imported - started, "s"),
    ]
    spent = imported - launched
    for name, t0, t1 in phases["phases"]:
        if name.startswith("train:"):
            figures.append(
                Figure("  training process start-up (python, torch, train.py, confinement)", t1 - t0 - training, "s")
            )
            figures.append(Figure("  training (training_seconds)", training, "s"))
        else:
            figures.append(Figure(f"  {name}", t1 - t0, "s"))
        spent += t1 - t0
    figures.append(Figure("  between steps (eval.py's own lines)", ended - launched - spent, "s"))
    figures.append(Figure("  interpreter exit", wall - (ended - launched), "s"))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu", help="eval.py's budget profile (the 3%% target is for cpu)")
    parser.add_argument(
        "--tokens", type=int, default=None, help="training budget of each run (default: a quarter of the profile's)"
    )
    parser.add_argument("--full", action="store_true", help="the profile's full budget (the overhead share's target)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each side, alternating; medians reported")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads of both sides (default: every core, as the eval takes on a quiet machine)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--micro-steps", type=int, default=200, help="batches timed in the channel micro-benchmark")
    parser.add_argument("--quick", action="store_true", help=f"a dry run: {QUICK}")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for boundary.json")
    parser.add_argument("--side", choices=("local", "channel-child"), default=None, help=argparse.SUPPRESS)
    parser.add_argument("--project", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--fd", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    isolated()
    if args.side == "local":
        print(json.dumps(local_side(args.project, args.profile, args.tokens, args.seed, args.threads)))
        return 0
    if args.side == "channel-child":
        channel_child(args.fd)
        return 0
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    from autoresearch.evaluate.machine import cores

    threads = args.threads or cores()

    with tempfile.TemporaryDirectory() as tmp:
        root = new_project(Path(tmp) / "proj")
        train = import_train(root)
        batch_size = train.BATCH_SIZES[args.profile]
        if args.tokens is None and not args.full:
            args.tokens = load_problem(root, args.profile, None).budget.max_units // 4
        local, remote, phases, wall = [], [], {}, 0.0
        for _ in range(args.repeats):
            local.append(run_local(root, args.profile, args.tokens, args.seed, threads))
            wall, trials, out = run_eval(
                root,
                "--profile",
                args.profile,
                "--seed",
                str(args.seed),
                units=args.tokens,
                phases=Path(tmp) / "phases.json",
                AUTORESEARCH_THREADS=str(threads),
            )
            if out.returncode != 0 or not trials or trials[-1]["status"] != "ok":
                report(
                    f"Process boundary ({args.profile} profile)",
                    [Figure("eval", eval_failure(out, trials), "", "status ok", False)],
                    args.out,
                    "boundary",
                )
                return 1
            remote.append(trials[-1])
            phases = json.loads((Path(tmp) / "phases.json").read_text())
        small = micro(root, args.profile, batch_size, args.micro_steps, args.seed)

    local_tps = median([r["units"] / r["seconds"] for r in local])
    eval_tps = median([t["used"] / t["training_seconds"] for t in remote])
    ratio = eval_tps / local_tps
    last = remote[-1]
    training, total = last["training_seconds"], last["total_seconds"]
    share = 100 * (total - training) / total
    full = args.full
    step_us = 1e6 * median([r["seconds"] / r["steps"] for r in local])
    cost_us = small["channel_us"] - small["local_us"]
    figures = [
        Figure("(a) in-process, LocalData", local_tps, "tokens/s"),
        Figure("(b) through the eval (training_seconds)", eval_tps, "tokens/s"),
        Figure("(b) / (a)", ratio, "x", f">= {TARGET_RATIO:g} (boundary <= 3%, issue 11)", ratio >= TARGET_RATIO),
        Figure(
            "same budget spent on both sides",
            f"{local[-1]['units']:,} / {last['used']:,} {last['unit']}, {local[-1]['steps']} / {last['steps']} steps",
            "",
            "equal",
            local[-1]["units"] == last["used"] and local[-1]["steps"] == last["steps"],
        ),
        Figure("eval: total_seconds - training_seconds", total - training, "s"),
        Figure(
            "eval: overhead share of total_seconds",
            share,
            "%",
            f"<= {TARGET_SHARE:g}% (issue 8; full budget only)" if full else "",
            share <= TARGET_SHARE if full else None,
        ),
        Figure("eval: process wall - training_seconds", wall - training, "s"),
        *breakdown(phases, wall, training),
        Figure("one batch through the channel (round trip)", small["channel_us"], "us"),
        Figure("one batch from LocalData (in-process)", small["local_us"], "us"),
        Figure("  of which the sampler's draw", small["sample_us"], "us"),
        Figure("boundary cost per batch (channel - LocalData)", cost_us, "us"),
        Figure("one training step's compute (from (a))", step_us / 1000, "ms"),
        Figure("boundary cost / step", 100 * cost_us / step_us, "%"),
    ]
    notes = [
        f"profile {args.profile}, {'its full budget' if full else f'{args.tokens:,} tokens'}, seed {args.seed}, {threads} thread(s) on both sides "
        f"(AUTORESEARCH_THREADS for the eval), batch {batch_size}; {args.repeats} run(s) of each, alternating, medians",
        f"eval: {last['threads']} thread(s), sandbox {last['sandbox']}; the step breakdown is of the last eval run",
        f"micro-benchmark: {small['batches']} batches of {batch_size}; the channel side is a second process asking for batches back to back",
    ]
    if not full:
        notes.append(
            "the overhead share is only held to its target at the profile's full budget: fixed costs weigh more on a shorter run"
        )
    report(f"Process boundary ({args.profile} profile)", figures, args.out, "boundary", notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
