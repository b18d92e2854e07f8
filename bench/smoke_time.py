"""Benchmark 6, smoke time: the wall time of `just smoke` after set-up (the data cached). Target <= 20 s (issue 8).

Usage: python bench/smoke_time.py [--repeats 3] [--no-warmup]     (or: just bench)

Runs in a throwaway project, with this interpreter's folder first on PATH (as the project's .venv
would be). A first, untimed run fills the data cache as set-up would; then the median of --repeats
runs. Without `just` on PATH or beside this interpreter, it times what the recipe runs,
`python eval.py --profile smoke`, and says so. The figures of the last run come from its
`--summary` JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

from common import OUT, PY, Figure, eval_failure, median, new_project, report, timed

TARGET_SECONDS = 20.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the median is reported")
    parser.add_argument(
        "--warmup", action=argparse.BooleanOptionalAction, default=True, help="one untimed run first (data cache)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a dry run: one run, no warm-up (still a whole smoke eval)"
    )
    parser.add_argument("--out", type=Path, default=OUT, help="folder for smoke_time.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.warmup = 1, False

    bindir = str(Path(PY).parent)
    path = bindir + os.pathsep + os.environ.get("PATH", "")
    just = shutil.which("just", path=path)
    cmd = [just, "smoke"] if just else [PY, "eval.py", "--profile", "smoke"]
    shown = "just smoke" if just else "python eval.py --profile smoke (no `just` found)"
    with tempfile.TemporaryDirectory() as tmp:
        root = new_project(Path(tmp) / "proj")
        summary = Path(tmp) / "summary.json"
        times, trials = [], []
        for i in range(args.repeats + args.warmup):
            summary.unlink(missing_ok=True)
            seconds, out = timed([*cmd, "--summary", str(summary)], root, PATH=path)
            trials = json.loads(summary.read_text()) if summary.exists() else []
            if out.returncode != 0 or not trials:
                report(
                    "Smoke time",
                    [Figure(shown, eval_failure(out, trials), "", "exit 0", False)],
                    args.out,
                    "smoke_time",
                )
                return 1
            if i >= args.warmup:
                times.append(seconds)
    t = median(times)
    last = trials[-1]
    figures = [
        Figure(f"`{shown}` wall", t, "s", f"<= {TARGET_SECONDS:g} s (issue 8)", t <= TARGET_SECONDS),
        Figure("of which training_seconds", last["training_seconds"], "s"),
        Figure("total_seconds (the eval process's clock)", last["total_seconds"], "s"),
        Figure("threads", f"{last['threads']} ({last['threads_why']})"),
    ]
    notes = [
        f"median of {len(times)} run(s){', after one untimed run that fills the data cache' if args.warmup else ''}"
    ]
    report("Smoke time", figures, args.out, "smoke_time", notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
