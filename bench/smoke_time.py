"""Benchmark 5, smoke time: the wall time of `just smoke` after set-up (the data cached). Target <= 20 s.

Usage: python bench/smoke_time.py [--repeats 3] [--no-warmup]     (or: just bench)

Runs in a throwaway project, with this interpreter first on PATH (as the project's .venv would
be). A first, untimed run builds the data cache as set-up would; then the median of --repeats
runs. Without `just` on PATH or beside this interpreter, it times what the recipe runs,
`python eval.py --profile smoke`, and says so.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from common import OUT, PY, Figure, median, new_project, parse_summary, report, timed

TARGET_SECONDS = 20.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the median is reported")
    parser.add_argument("--warmup", action=argparse.BooleanOptionalAction, default=True, help="one untimed run first (data cache)")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for smoke_time.json")
    args = parser.parse_args(argv)

    bindir = str(Path(PY).parent)
    path = bindir + os.pathsep + os.environ.get("PATH", "")
    just = shutil.which("just", path=path)
    cmd = [just, "smoke"] if just else [PY, "eval.py", "--profile", "smoke"]
    shown = "just smoke" if just else "python eval.py --profile smoke (no `just` found)"
    with tempfile.TemporaryDirectory() as tmp:
        proj = new_project(Path(tmp) / "proj")
        times, summaries = [], []
        for i in range(args.repeats + args.warmup):
            seconds, out = timed(cmd, proj, PATH=path)
            if out.returncode != 0:
                args.out.mkdir(parents=True, exist_ok=True)
                log = args.out / "smoke_time.log"
                log.write_text(out.stdout + "\n--- stderr ---\n" + out.stderr)
                try:
                    why = parse_summary(out.stdout).get("error", f"exit {out.returncode}")
                except ValueError:
                    why = f"exit {out.returncode}, no summary"
                report("Smoke time", [Figure(shown, f"{why[:100]}; see {log}", "", "exit 0", False)], args.out, "smoke_time")
                return 1
            if i >= args.warmup:
                times.append(seconds)
                summaries.append(parse_summary(out.stdout))
    t = median(times)
    s = summaries[-1]
    figures = [
        Figure(f"`{shown}` wall", t, "s", f"<= {TARGET_SECONDS:g} s", t <= TARGET_SECONDS),
        Figure("of which training_seconds (summary)", float(s["training_seconds"]), "s"),
        Figure("total_seconds (summary)", float(s["total_seconds"]), "s"),
    ]
    notes = [f"median of {len(times)} run(s){', after one untimed run that fills the data cache' if args.warmup else ''}"]
    report("Smoke time", figures, args.out, "smoke_time", notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
