"""eval.py as the benchmarks run it: the same procedure, optionally with a smaller budget, and the time of each step.

Usage (in a throwaway project made by common.new_project; common.run_eval does this):
    AUTORESEARCH_BENCH_UNITS=131072 AUTORESEARCH_BENCH_PHASES=phases.json python bench/timed_eval.py --profile cpu --summary s.json

It loads the project's eval.py as a module and calls its main(): the data, the confined training
process, the checks, the score and the row are eval.py's own. Two things differ, both set by the
environment: AUTORESEARCH_BENCH_UNITS replaces the profile's training budget (so a benchmark can
run the cpu profile's model for fewer tokens), and AUTORESEARCH_BENCH_PHASES names a JSON file that
gets the wall time of each step (timers wrapped around the toolkit's step functions; the clock is
the machine's monotonic clock, so it lines up with the launching process's, which passes its
launch time in AUTORESEARCH_BENCH_LAUNCHED).
"""

import os
import sys

if not sys.flags.isolated:  # as eval.py: nothing in the project folder may shadow the toolkit
    os.execv(sys.executable, [sys.executable, "-I", *sys.argv])

import time

STARTED = time.perf_counter()

import dataclasses  # noqa: E402
import functools  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

PHASES: list[tuple[str, float, float]] = []
_depth = 0


def timer(name: str, fn):
    """fn, timed: its outermost calls go to PHASES as (name, start, end)."""

    @functools.wraps(fn)
    def timed(*args, **kwargs):
        global _depth
        _depth += 1
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _depth -= 1
            if _depth == 0:
                PHASES.append((name, t0, time.perf_counter()))

    return timed


def main() -> int:
    from autoresearch.evaluate import parent
    from autoresearch.problems import lm

    spec = importlib.util.spec_from_file_location("frozen_eval", Path(__file__).resolve().parents[1] / "eval.py")
    frozen_eval = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(frozen_eval)
    imported = time.perf_counter()
    if units := os.environ.get("AUTORESEARCH_BENCH_UNITS"):
        frozen_eval.PROFILES.update(
            {name: dataclasses.replace(p, budget=int(units)) for name, p in frozen_eval.PROFILES.items()}
        )
    where = os.environ.get("AUTORESEARCH_BENCH_PHASES")
    if where:
        frozen_eval.start = timer("start: arguments, record, code lineage", frozen_eval.start)
        for name, what in (
            ("load", "data: load the corpus"),
            ("check_causal", "check: causality (predict)"),
            ("doc_bits", "score: predict the validation split"),
            ("check_floor", "check: floor"),
            ("check_fresh", "check: fresh documents (generate, predict)"),
        ):
            setattr(lm, name, timer(what, getattr(lm, name)))
        parent.Trial.__enter__ = timer("trial: run folder, thread choice, environment", parent.Trial.__enter__)
        parent.Trial.train = timer("train: start the training process, train", parent.Trial.train)
        parent.Trial.__exit__ = timer(
            "row: stop the training process, verdict, append, run folder", parent.Trial.__exit__
        )
    try:
        return frozen_eval.main()
    finally:
        if where:
            launched = float(os.environ.get("AUTORESEARCH_BENCH_LAUNCHED", STARTED))
            record = {
                "launched": launched,
                "started": STARTED,
                "imported": imported,
                "ended": time.perf_counter(),
                "phases": PHASES,
            }
            Path(where).write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
