"""Benchmark 2, the record at scale: the read commands on a results.tsv of 1,000,000 rows, and the append's cost.

Usage: python bench/results_scale.py [--rows 1000000] [--repeats 3] [--appends 200]   (or: just bench)

Writes the rows into a throwaway project: 10,000 distinct rows of a night's record (common.sample_rows),
each line made by `results.format_cells` plus its signature as the eval process makes them, repeated
to the size. Then times `results best`, `results leaderboard --by idea` and `status` as processes
(issue 14: each at most 1 s), and in this process the functions behind them (`results.read`, the
Record queries, `status.gather`), to tell start-up from work: the commands read the signed Parquet copy of the file (results_cache),
which the eval's own appends keep valid and any other write makes the next reader rebuild. Last, the median time of
`results.append` (signed, locked, fsynced) into a 1-row file and into the big one: the ratio must
stay near 1 (an append may not grow with the file).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from common import (
    OUT,
    Figure,
    champion_code,
    cli,
    last_line,
    median,
    metric_name,
    new_project,
    report,
    sample_rows,
    timed,
)

COMMANDS = {
    "results best": ["results", "best"],
    "results leaderboard --by idea": ["results", "leaderboard", "--by", "idea"],
    "status": ["status"],
}
TARGET_SECONDS = 1.0
TARGET_APPEND_RATIO = 2.0
DISTINCT = 10_000
"""Distinct rows formatted and signed one by one; the file repeats them (signing 1M rows would dominate)."""


def write_rows(root: Path, n: int) -> None:
    from autoresearch import results
    from autoresearch.paths import Project
    from autoresearch.signing import project_key, sign_with

    project, metric = Project.find(root), metric_name(root)
    key = project_key(project)  # once: signing.sign asks git for the project's id on every call
    lines = []
    for row in sample_rows(min(n, DISTINCT), metric, ideas=100, champion=champion_code(root)):
        text = results.format_cells(row, metric)
        lines.append(f"{text}\t{sign_with(key, text)}\n")
    block = "".join(lines)
    with project.results.open("w") as f:
        f.write(results.header(metric))
        for _ in range(n // len(lines)):
            f.write(block)
        f.write("".join(lines[: n % len(lines)]))


def in_process(root: Path, repeats: int) -> list[tuple[str, float | str]]:
    """(what, median seconds or an error) for the functions behind the commands."""
    from autoresearch import results, status
    from autoresearch.config import Config
    from autoresearch.paths import Project

    project = Project.find(root)
    config = Config.load(project)
    record = results.read(project.results, config.metric)

    def load_after_a_foreign_write() -> None:
        os.utime(project.results)  # a touch changes the file's ctime: the copy no longer matches, load rebuilds it
        results.load(project, config)

    steps = {
        "results.read (parse + validate the text)": lambda: results.read(project.results, config.metric),
        "results.load (the signed Parquet copy)": lambda: results.load(project, config),
        "results.load after a foreign write (rebuild)": load_after_a_foreign_write,
        "Record.best_per_profile": record.best_per_profile,
        "Record.leaderboard(by='idea')": lambda: record.leaderboard("idea"),
        "status.gather (all of status's data)": lambda: status.gather(project, config),
    }
    timings: list[tuple[str, float | str]] = []
    for what, step in steps.items():
        times = []
        try:
            for _ in range(repeats):
                t0 = time.perf_counter()
                step()
                times.append(time.perf_counter() - t0)
        except Exception as e:  # a broken function is a figure of its own, not the end of the benchmark
            timings.append((what, f"error: {type(e).__name__}: {e}"[:160]))
            continue
        timings.append((what, median(times)))
    return timings


def append_times(root: Path, appends: int) -> list[float]:
    from autoresearch import results
    from autoresearch.paths import Project

    project, metric = Project.find(root), metric_name(root)
    row = sample_rows(1, metric)[0]
    times = []
    for _ in range(appends):
        t0 = time.perf_counter()
        results.append(project, metric, row)
        times.append(time.perf_counter() - t0)
    return times


def load_time(root: Path) -> float:
    from autoresearch import results
    from autoresearch.config import Config
    from autoresearch.paths import Project

    project = Project.find(root)
    config = Config.load(project)
    t0 = time.perf_counter()
    results.load(project, config)
    return time.perf_counter() - t0


def small_project(dest: Path, metric: str) -> Path:
    """A git repository with one commit, a pyproject naming the metric, and a 1-row results.tsv."""
    from autoresearch.results import header

    dest.mkdir()
    (dest / "results.tsv").write_text(header(metric))
    (dest / "pyproject.toml").write_text(f'[tool.autoresearch]\nmetric = "{metric}"\n')
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-q", "-m", "small"],
    ):
        subprocess.run(["git", *args], cwd=dest, check=True, capture_output=True)  # the signing key is per first commit
    append_times(dest, 1)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each command and function")
    parser.add_argument("--appends", type=int, default=200, help="appends timed into each file")
    parser.add_argument("--quick", action="store_true", help="a dry run: 1,000 rows, 1 repeat, 4 appends")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for results_scale.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.repeats, args.appends = 1000, 1, 4

    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = new_project(Path(tmp) / "proj")
        t0 = time.perf_counter()
        write_rows(root, args.rows)
        figures.append(Figure(f"write {args.rows:,} rows", time.perf_counter() - t0, "s"))
        figures.append(Figure("results.tsv size", (root / "results.tsv").stat().st_size / 1e6, "MB"))
        for name, a in COMMANDS.items():
            timed(cli(*a), root)  # the file cache: not counted
            runs = [timed(cli(*a), root) for _ in range(args.repeats)]
            failed = next((out for _, out in runs if out.returncode != 0), None)
            if failed is not None:
                figures.append(Figure(f"`{name}`: error", last_line(failed), "", "exit 0", False))
                continue
            t = median([s for s, _ in runs])
            figures.append(
                Figure(f"`{name}` (process)", t, "s", f"<= {TARGET_SECONDS:g} s (issue 14)", t <= TARGET_SECONDS)
            )
        for what, value in in_process(root, args.repeats):
            ok = None if not isinstance(value, str) else False
            figures.append(
                Figure(
                    f"in-process {what}",
                    value,
                    "" if isinstance(value, str) else "s",
                    "no error" if ok is False else "",
                    ok,
                )
            )

        small = small_project(Path(tmp) / "small", metric_name(root))
        # Interleaved in chunks, so that disk and cache drift hits both files alike.
        small_times, big_times = [], []
        chunk = max(1, args.appends // 10)
        for _ in range(max(1, args.appends // chunk)):
            small_times += append_times(small, chunk)
            big_times += append_times(root, chunk)
        tail_load = median([load_time(root) for _ in range(args.repeats)])
        copy = root / ".git" / "autoresearch" / "results-cache.parquet"
        copy_size: float | str = copy.stat().st_size / 1e6 if copy.exists() else "none (a small file is parsed)"
    t_small, t_big = median(small_times) * 1e3, median(big_times) * 1e3
    ratio = t_big / t_small
    figures += [
        Figure("results.append into a 1-row file", t_small, "ms"),
        Figure(f"results.append into the {args.rows:,}-row file", t_big, "ms"),
        Figure(
            "append: big / small",
            ratio,
            "x",
            f"<= {TARGET_APPEND_RATIO:g}x (O(1), issue 8)",
            ratio <= TARGET_APPEND_RATIO,
        ),
    ]
    figures += [
        Figure(f"results.load after the {len(big_times)} appends (the copy + the rows after it)", tail_load, "s"),
        Figure("the Parquet copy's size", copy_size, "MB" if isinstance(copy_size, float) else ""),
    ]
    notes = [
        "the repeated rows compress far better than a real record would: the copy's size is a floor",
        f"medians: {args.repeats} run(s) per command and function (after one untimed run of each command), "
        f"{len(small_times)} appends per file (each signed, locked and fsynced)",
        f"the file repeats {min(args.rows, DISTINCT):,} distinct signed rows of 100 ideas, made by results.format_cells",
    ]
    report(f"The record at scale ({args.rows:,} rows)", figures, args.out, "results_scale", notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
