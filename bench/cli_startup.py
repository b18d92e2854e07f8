"""Benchmark 1, CLI start-up: median wall time of each bookkeeping command next to `python -c pass`.

Usage: python bench/cli_startup.py [--repeats 7]        (or: just bench)

Each command runs as a fresh process in a throwaway project with a few ideas, result rows and
journal entries, round-robin with the references so that drift hits all alike. Targets: <= 0.25 s
and <= 3x `python -c pass`. A second pass runs each command under `python -X importtime` and lists
the heavy packages it loaded (with their cumulative import time); none may be torch.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

from common import OUT, PY, Figure, median, new_project, report, sample_rows, timed

COMMANDS: dict[str, list[str]] = {
    "status": ["status"],
    "idea list": ["idea", "list"],
    "idea count": ["idea", "count"],
    # A new title each run: two entries with one heading in the same minute are one entry to the journal.
    "journal add": ["journal", "add", "--title", "bench entry {i}", "--observation", "a fact", "--inference", "a guess"],
    "results best": ["results", "best"],
}
REFERENCES: dict[str, list[str]] = {
    "python -c pass": [PY, "-c", "pass"],
    "python -c 'import tyro'": [PY, "-c", "import tyro"],
}
HEAVY = ("torch", "numpy", "polars", "matplotlib", "rich", "git", "loguru", "jaxtyping", "einops", "filelock", "pygments")
TARGET_SECONDS = 0.25
TARGET_RATIO = 3.0


def populate(proj: Path) -> None:
    """A project mid-night: 12 ideas, 60 result rows, 5 journal entries."""
    from autoresearch import ideas, journal, results
    from autoresearch.paths import Project

    project = Project.find(proj)
    for i in range(12):
        ideas.new_idea(project, f"idea-{i}", f"Idea number {i}", "it will help because of a reason")
    for row in sample_rows(60, ideas=12):
        results.append_row(project.results, row)
    for i in range(5):
        journal.add_entry(project, "research", f"entry {i}", "", "an observation", "an inference", "")


def heavy_imports(stderr: str) -> dict[str, float]:
    """Heavy packages in `-X importtime` output, with the import time of all their modules in ms."""
    found: dict[str, float] = {}
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)$", line)
        top = m[2].split(".")[0] if m else ""
        # polars 1.x+ keeps its compiled core in a sibling package (polars_runtime_32): count it as polars.
        package = next((h for h in HEAVY if top == h or top.startswith(h + "_")), None)
        if package:
            found[package] = found.get(package, 0.0) + int(m[1]) / 1000
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per command (the issue asks for at least 7)")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for cli_startup.json")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        proj = new_project(Path(tmp) / "proj")
        populate(proj)
        cmds = {name: [PY, "-m", "autoresearch", *a] for name, a in COMMANDS.items()} | REFERENCES
        times: dict[str, list[float]] = {name: [] for name in cmds}
        errors: dict[str, str] = {}
        for i in range(args.repeats + 1):  # the first round warms the file cache and is not counted
            for name, cmd in cmds.items():
                seconds, out = timed([a.format(i=i) for a in cmd], proj)
                if out.returncode != 0:
                    errors[name] = (out.stderr.strip().splitlines() or [f"exit {out.returncode}"])[-1][:120]
                elif i > 0:
                    times[name].append(seconds)
        imports = {}
        for name, a in COMMANDS.items():
            _, out = timed([PY, "-X", "importtime", "-m", "autoresearch", *(x.format(i="importtime") for x in a)], proj)
            imports[name] = heavy_imports(out.stderr)

    base = median(times["python -c pass"])
    figures = [Figure(name, median(times[name]), "s") for name in REFERENCES]
    for name in COMMANDS:
        if name in errors:
            figures.append(Figure(f"{name}: error", errors[name], "", "exit 0", False))
            continue
        t = median(times[name])
        heavy = imports[name]
        figures += [
            Figure(f"{name}: median", t, "s", f"<= {TARGET_SECONDS} s", t <= TARGET_SECONDS),
            Figure(f"{name}: / python -c pass", t / base, "x", f"<= {TARGET_RATIO:g}x", t / base <= TARGET_RATIO),
            Figure(
                f"{name}: heavy imports",
                ", ".join(f"{k} {v:.0f} ms" for k, v in sorted(heavy.items(), key=lambda kv: -kv[1])) or "none",
                "", "no torch", "torch" not in heavy,
            ),
        ]
    notes = [
        f"medians of {args.repeats} runs each, fresh processes, `python -m autoresearch ...` in a throwaway project",
        "heavy imports: the `python -X importtime` self-times of each package's modules, summed (one run, so rough)",
    ]
    report("CLI start-up", figures, args.out, "cli_startup", notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
