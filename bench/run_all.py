"""All the benchmarks, one after another, then one summary table of every figure that has a target.

Usage: python bench/run_all.py [--only NAME ...] [--skip NAME ...] [--quick] [--strict]   (or: just bench)

Each benchmark runs as its own process (its table streams through) and writes out/<name>.json;
the summary is read back from those files. Takes about 10 minutes on 2 quiet CPU cores, most of it
the two cpu-profile trainings of `boundary`. --quick passes each its --quick: tiny sizes (a few
minutes; the figures mean nothing, the scripts run end to end). Exit 1 when a benchmark could
not run, and with --strict also when a figure misses its target. The GPU benchmark is apart:
`bash bench/gpu.sh` (BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from common import OUT, PY, REPO, Figure, busy_warning, console, env, verdict

BENCH = Path(__file__).resolve().parent
BENCHMARKS = ("cli_startup", "results_scale", "boundary", "train_throughput", "threads", "smoke_time", "check_scale")


def summary(out: Path, names: list[str]) -> tuple[list[tuple[str, str, str, str, str]], int]:
    """(benchmark, figure, value, target, verdict) for every figure with a target, and the number missed."""
    rows, missed = [], 0
    for name in names:
        path = out / f"{name}.json"
        if not path.exists():
            rows.append((name, "(no figures written)", "", "", "FAIL"))
            missed += 1
            continue
        for f in json.loads(path.read_text())["figures"]:
            figure = Figure(**f)
            if figure.ok is not None:
                rows.append((name, figure.name, figure.shown(), figure.target, verdict(figure.ok)))
                missed += not figure.ok
    return rows, missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), default=None, help="run only these")
    parser.add_argument("--skip", nargs="+", choices=list(BENCHMARKS), default=[], help="leave these out")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the scripts run, figures meaningless")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any figure misses its target")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the <name>.json files")
    args = parser.parse_args(argv)
    names = [n for n in (args.only or BENCHMARKS) if n not in args.skip]

    if warning := busy_warning():
        print(f"warning: {warning}", file=sys.stderr)
    failed = []
    for name in names:
        (args.out / f"{name}.json").unlink(missing_ok=True)  # a failed run must not show an earlier run's figures
        print(f"\n== {name} ==", flush=True)
        t0 = time.perf_counter()
        cmd = [PY, str(BENCH / f"{name}.py"), *(["--quick"] if args.quick else []), "--out", str(args.out)]
        code = subprocess.run(cmd, check=False, cwd=REPO, env=env()).returncode
        print(f"({name}: {time.perf_counter() - t0:.0f} s)", flush=True)
        if code != 0:
            failed.append(name)

    from rich.table import Table

    rows, missed = summary(args.out, names)
    title = "\nSummary: every figure with a target" + (
        " (--quick: sizes too small to mean anything)" if args.quick else ""
    )
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for column in ("benchmark", "figure", "value", "target", ""):
        table.add_column(column, justify="right" if column == "value" else "left", no_wrap=column != "value")
    for row in rows:
        table.add_row(*row, style="green" if row[-1] == "pass" else "bold red")
    c = console()
    c.print(table)
    c.print(
        f"{len(rows) - missed} of {len(rows)} targets met; figures in {args.out}/; record them in BENCHMARKS.md",
        highlight=False,
    )
    if failed:
        print(f"benchmarks that could not run: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
