"""Benchmark 5, the thread choice on a busy machine: the eval's automatic CPU threads next to torch's default (one per core).

Usage: python bench/threads.py [--profile smoke] [--tokens N] [--busy 1] [--repeats 1]   (or: just bench)
       python bench/threads.py --profile cpu --tokens 131072     (a short cpu-profile run instead of the smoke)

Issue 13: on a shared CPU, torch's default thread count oversubscribes the cores (the smoke took
55.8 s instead of 4.2 s beside one busy core); the eval now gives the training process the cores
idle at start, and the same seed must give the same number whatever the count. In a throwaway
project, with --busy CPU-bound processes spinning beside it (a python busy loop each), the same
eval runs (a) with the automatic choice and (b) with AUTORESEARCH_THREADS set to the core count
(torch's default), alternating. Shown: the wall time and training_seconds of each, the threads
each ran with, and whether the metric is identical to the last bit.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from common import OUT, PY, Figure, eval_failure, median, metric_name, new_project, report, run_eval

QUICK = {"profile": "smoke", "tokens": 4096, "warmup": False, "nice": 19}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="smoke", help="eval.py's budget profile")
    parser.add_argument("--tokens", type=int, default=None, help="training budget of each run (default: the profile's)")
    parser.add_argument("--busy", type=int, default=1, help="CPU-bound processes to run beside the evals")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness of the busy processes (--quick: 19, so a dry run takes only idle CPU)",
    )
    parser.add_argument("--repeats", type=int, default=1, help="runs of each side, alternating; medians reported")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--warmup",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="one untimed tiny eval first (data cache, file cache)",
    )
    parser.add_argument("--quick", action="store_true", help=f"a dry run: {QUICK}")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for threads.json")
    args = parser.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    from autoresearch.evaluate.machine import cores

    n = cores()
    sides = {"automatic": {}, f"AUTORESEARCH_THREADS={n} (torch's default)": {"AUTORESEARCH_THREADS": str(n)}}
    runs: dict[str, list[tuple[float, dict]]] = {name: [] for name in sides}
    eval_args = ["--profile", args.profile, "--seed", str(args.seed)]
    with tempfile.TemporaryDirectory() as tmp:
        root = new_project(Path(tmp) / "proj")
        metric = metric_name(root)
        if args.warmup:
            run_eval(root, *eval_args, units=2048)
        spinners = [
            subprocess.Popen([PY, "-c", f"import os; os.nice({args.nice})\nwhile True: pass"]) for _ in range(args.busy)
        ]
        try:
            time.sleep(1.0)  # the spinners' load shows in /proc/stat before the first thread choice
            for i in range(args.repeats):
                names = list(sides) if i % 2 == 0 else list(sides)[::-1]
                for name in names:
                    wall, trials, out = run_eval(root, *eval_args, units=args.tokens, **sides[name])
                    if out.returncode != 0 or not trials or trials[-1]["status"] != "ok":
                        report(
                            "Thread choice on a busy machine",
                            [Figure(name, eval_failure(out, trials), "", "status ok", False)],
                            args.out,
                            "threads",
                        )
                        return 1
                    runs[name].append((wall, trials[-1]))
        finally:
            for spinner in spinners:
                spinner.kill()
                spinner.wait()

    figures = []
    for name, done in runs.items():
        last = done[-1][1]
        figures += [
            Figure(f"{name}: wall", median([w for w, _ in done]), "s"),
            Figure(f"{name}: training_seconds", median([t["training_seconds"] for _, t in done]), "s"),
            Figure(f"{name}: threads", f"{last['threads']} ({last['threads_why']})"),
        ]
    auto, default = (median([w for w, _ in done]) for done in runs.values())
    values = {t["value_exact"] for done in runs.values() for _, t in done}
    figures += [
        Figure("default wall / automatic wall", default / auto, "x"),
        Figure(
            f"{metric} of every run, to the last bit",
            ", ".join(sorted(values)),
            "",
            "identical (issue 13)",
            len(values) == 1,
        ),
    ]
    notes = [
        f"profile {args.profile}, {'its full budget' if args.tokens is None else f'{args.tokens:,} tokens'}, seed {args.seed}; {args.busy} busy "
        f"process(es) (nice {args.nice}) beside the evals on {n} core(s); {args.repeats} run(s) of each, alternating, medians",
    ]
    if n == 1:
        notes.append("on 1 core the automatic choice and the default are both 1 thread: nothing to compare")
    report("Thread choice on a busy machine", figures, args.out, "threads", notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
