"""Benchmark 1, CLI start-up: the median wall time of each bookkeeping command, next to what python and its imports cost.

Usage: python bench/cli_startup.py [--repeats 7]        (or: just bench)

Each command runs as a fresh process (`autoresearch ...`, as `just` runs it) in a throwaway project
mid-night: 12 ideas, 2 worktrees, 5 journal entries, a cpu calibration, and a 60-row results.tsv of
signed rows (baselines and experiments of several ideas, cpu and cuda, calibration rows, crashes),
round-robin with the references so that drift hits all alike. Targets: `status`, `idea list`,
`results best` at most 0.25 s each (issue 14); `idea count` and `journal add` too (issue 8). The references say where the time goes: `python -c pass`, and the imports of tyro,
rich, polars and the toolkit's CLI module, each in a fresh process. A second pass runs each command
under `python -X importtime` and lists the heavy packages it loaded; none may be torch.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

from common import (
    OUT,
    PY,
    Figure,
    append_rows,
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

COMMANDS: dict[str, list[str]] = {
    "status": ["status"],
    "idea list": ["idea", "list"],
    "results best": ["results", "best"],
    "idea count": ["idea", "count"],
    # A new title each run: two entries with one heading in the same minute are one entry to the journal.
    "journal add": [
        "journal",
        "add",
        "--title",
        "bench entry {i}",
        "--observation",
        "a fact",
        "--inference",
        "a guess",
    ],
}
REFERENCES: dict[str, list[str]] = {
    "python -c pass": [PY, "-c", "pass"],
    "import tyro": [PY, "-c", "import tyro"],
    "import rich.console, rich.table": [PY, "-c", "import rich.console, rich.table"],
    "import polars": [PY, "-c", "import polars"],
    "import autoresearch.cli": [PY, "-c", "import autoresearch.cli"],
}
HEAVY = (
    "torch",
    "numpy",
    "polars",
    "matplotlib",
    "rich",
    "git",
    "loguru",
    "jaxtyping",
    "einops",
    "filelock",
    "pygments",
    "scipy",
    "sklearn",
    "tomlkit",
    "frontmatter",
    "yaml",
)
TARGET_SECONDS = 0.25
ISSUE = {
    "status": "issue 14",
    "idea list": "issue 14",
    "results best": "issue 14",
    "idea count": "issue 8",
    "journal add": "issue 8",
}
ROWS = 60


def populate(root: Path) -> None:
    """A project mid-night: ideas, worktrees, journal entries, a calibration and 60 signed result rows."""
    from autoresearch import calibrate, ideas, journal, worktrees
    from autoresearch.config import Config
    from autoresearch.paths import Project

    project = Project.find(root)
    config = Config.load(project)
    for i in range(12):
        ideas.new_idea(
            project,
            f"idea-{i}",
            f"Idea number {i}: change part {i} of the model",
            f"it will help because of reason {i}",
        )
    for i in range(2):
        worktrees.new_worktree(project, config, f"idea-{i}")
    for i in range(5):
        journal.add_entry(project, "research", f"entry {i}", f"idea-{i}", "an observation", "an inference")
    calibrate.write_record(
        project,
        "cpu",
        {
            "threshold": 0.0165,
            "mean": 1.1313,
            "std": 0.0036,
            "rel_std": 0.0032,
            "n": 3,
            "seeds": [0, 1, 2],
            "values": [1.1272, 1.1333, 1.1335],
            "repeat_value": 1.1272,
            "deterministic": True,
            "val_hash": "84f88932ac02",
            "runtime_s": 103.1,
            "alpha": 0.05,
            "power": 0.8,
        },
    )
    append_rows(root, sample_rows(ROWS, metric_name(root), ideas=12, champion=champion_code(root)))


def heavy_imports(stderr: str) -> dict[str, float]:
    """Heavy packages in `-X importtime` output, with the import time of all their modules in ms."""
    found: dict[str, float] = {}
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)$", line)
        top = m[2].split(".")[0] if m else ""
        # polars 1.x+ keeps its compiled core in a sibling package (polars_runtime_32): count it as polars.
        package = next((h for h in HEAVY if top == h or top.startswith(h + "_")), None)
        if m and package:
            found[package] = found.get(package, 0.0) + int(m[1]) / 1000
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per command (issue 8 asks for at least 7)")
    parser.add_argument("--quick", action="store_true", help="a dry run: 1 timed run per command")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for cli_startup.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = 1

    with tempfile.TemporaryDirectory() as tmp:
        root = new_project(Path(tmp) / "proj")
        populate(root)
        cmds = {name: cli(*a) for name, a in COMMANDS.items()} | REFERENCES
        times: dict[str, list[float]] = {name: [] for name in cmds}
        errors: dict[str, str] = {}
        for i in range(args.repeats + 1):  # the first round warms the file cache and is not counted
            for name, cmd in cmds.items():
                seconds, out = timed([a.format(i=i) for a in cmd], root)
                if out.returncode != 0:
                    errors[name] = last_line(out)
                elif i > 0:
                    times[name].append(seconds)
        imports = {}
        for name, a in COMMANDS.items():
            _, out = timed([PY, "-X", "importtime", "-m", "autoresearch", *(x.format(i="importtime") for x in a)], root)
            imports[name] = heavy_imports(out.stderr)

    base = median(times["python -c pass"])
    figures = []
    for name in REFERENCES:
        if name in errors:
            figures.append(Figure(f"{name}: error", errors[name], "", "exit 0", False))
            continue
        t = median(times[name])
        figures.append(
            Figure(name, t, "s") if name == "python -c pass" else Figure(f"{name} (over python -c pass)", t - base, "s")
        )
    for name in COMMANDS:
        if name in errors:
            figures.append(Figure(f"{name}: error", errors[name], "", "exit 0", False))
            continue
        t = median(times[name])
        heavy = imports[name]
        figures += [
            Figure(name, t, "s", f"<= {TARGET_SECONDS} s ({ISSUE[name]})", t <= TARGET_SECONDS),
            Figure(f"{name}: / python -c pass", t / base, "x"),
            Figure(
                f"{name}: heavy imports",
                ", ".join(f"{k} {v:.0f} ms" for k, v in sorted(heavy.items(), key=lambda kv: -kv[1])) or "none",
                "",
                "no torch",
                "torch" not in heavy,
            ),
        ]
    notes = [
        f"medians of {args.repeats} run(s) each, fresh processes, `{Path(cli()[0]).name if len(cli()) == 1 else 'python -m autoresearch'} ...` in a throwaway project with {ROWS} result rows",
        "imports: a fresh `python -c 'import X'` less `python -c pass`; heavy imports: the `python -X importtime` self-times "
        "of each package's modules, summed (one run, so rough)",
    ]
    report("CLI start-up", figures, args.out, "cli_startup", notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
