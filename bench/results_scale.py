"""Benchmark 2, results at scale: the read commands on a results.tsv of 1,000,000 rows, and the append's cost.

Usage: python bench/results_scale.py [--rows 1000000] [--repeats 3] [--appends 200]   (or: just bench)

Writes the rows (each line made by `results.format_row`) into a throwaway project, then times
`results best`, `results leaderboard --by idea` and `status` as processes (target: each <= 1 s),
and the functions behind them in this process, to tell start-up from work. Last, the median time
of `results.append_row` into a 1-row file and into the big one: an append must not grow with the file.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from pathlib import Path

from common import OUT, PY, Figure, median, new_project, report, sample_rows, timed

COMMANDS = {
    "results best": ["results", "best"],
    "results leaderboard --by idea": ["results", "leaderboard", "--by", "idea"],
    "status": ["status"],
}
TARGET_SECONDS = 1.0
DISTINCT = 10_000
"""Distinct rows formatted one by one; the file repeats them (formatting 1M dicts would dominate)."""


def write_rows(path: Path, n: int) -> None:
    from autoresearch.results import HEADER, format_row

    block = [format_row(r) for r in sample_rows(min(n, DISTINCT))]
    lines = (block * (n // len(block) + 1))[:n]
    path.write_text(HEADER + "".join(lines))


def in_process(proj: Path, repeats: int) -> list[tuple[str, float | str]]:
    """(what, median seconds or an error) for the functions behind the commands."""
    from autoresearch import leaderboard, status
    from autoresearch.paths import Project
    from autoresearch.results import read_results

    project = Project.find(proj)
    df = read_results(project.results)
    steps = {
        "read_results (parse + validate)": lambda: read_results(project.results),
        "leaderboard.best_rows": lambda: leaderboard.best_rows(df, "lower"),
        "leaderboard.leaderboard by idea": lambda: leaderboard.leaderboard(df, "idea", 20, "lower"),
        "status.print_status (all of it)": lambda: status.print_status(project),
    }
    timings = []
    for what, step in steps.items():
        times = []
        try:
            for _ in range(repeats):
                t0 = time.perf_counter()
                with contextlib.redirect_stdout(io.StringIO()):
                    step()
                times.append(time.perf_counter() - t0)
        except Exception as e:  # a broken command is a figure of its own, not the end of the benchmark
            timings.append((what, f"error: {type(e).__name__}: {e}"[:120]))
            continue
        timings.append((what, median(times)))
    return timings


def append_times(path: Path, appends: int) -> list[float]:
    from autoresearch.results import append_row

    row = sample_rows(1)[0]
    times = []
    for _ in range(appends):
        t0 = time.perf_counter()
        append_row(path, row)
        times.append(time.perf_counter() - t0)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each command and function")
    parser.add_argument("--appends", type=int, default=200, help="appends timed into each file")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for results_scale.json")
    args = parser.parse_args(argv)

    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        proj = new_project(Path(tmp) / "proj")
        t0 = time.perf_counter()
        write_rows(proj / "results.tsv", args.rows)
        figures.append(Figure(f"write {args.rows:,} rows", time.perf_counter() - t0, "s"))
        figures.append(Figure("results.tsv size", (proj / "results.tsv").stat().st_size / 1e6, "MB"))

        for name, a in COMMANDS.items():
            runs = [timed([PY, "-m", "autoresearch", *a], proj) for _ in range(args.repeats)]
            failed = next((out for _, out in runs if out.returncode != 0), None)
            if failed is not None:
                last = (failed.stderr.strip().splitlines() or [f"exit {failed.returncode}"])[-1][:120]
                figures.append(Figure(f"{name}: error", last, "", "exit 0", False))
                continue
            t = median([s for s, _ in runs])
            figures.append(Figure(f"`{name}` process", t, "s", f"<= {TARGET_SECONDS:g} s", t <= TARGET_SECONDS))
        for what, value in in_process(proj, args.repeats):
            if isinstance(value, str):
                figures.append(Figure(f"in-process {what}", value, "", "no error", False))
            else:
                figures.append(Figure(f"in-process {what}", value, "s"))

        small = Path(tmp) / "small" / "results.tsv"
        small.parent.mkdir()
        write_rows(small, 1)
        # Interleaved in chunks, so that disk and cache drift hits both files alike.
        small_times, big_times = [], []
        chunk = max(1, args.appends // 10)
        for _ in range(max(1, args.appends // chunk)):
            small_times += append_times(small, chunk)
            big_times += append_times(proj / "results.tsv", chunk)
    t_small, t_big = median(small_times) * 1e3, median(big_times) * 1e3
    ratio = t_big / t_small
    figures += [
        Figure("append_row into a 1-row file", t_small, "ms"),
        Figure(f"append_row into the {args.rows:,}-row file", t_big, "ms"),
        Figure("append: big / small", ratio, "x", "<= 2x (O(1))", ratio <= 2.0),
    ]
    notes = [
        f"medians: {args.repeats} runs per command and function, {len(small_times)} appends per file (each append is locked and fsynced)",
        f"the file repeats {min(args.rows, DISTINCT):,} distinct rows made by results.format_row",
    ]
    report(f"Results at scale ({args.rows:,} rows)", figures, args.out, "results_scale", notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
