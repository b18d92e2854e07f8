"""Shared pieces of the benchmarks: a throwaway project copy, timed subprocesses, the figures table.

Not a benchmark itself. Every benchmark runs real commands, with this interpreter (`sys.executable`)
and this checkout's package (src/ first on PYTHONPATH), in a temporary copy of the project, so the
real record (results.tsv, journals, ideas) is never touched. Usage (in a benchmark):

    from common import Figure, new_project, report, run, timed
    with tempfile.TemporaryDirectory() as tmp:
        proj = new_project(Path(tmp) / "proj")
        seconds, out = timed([PY, "-m", "autoresearch", "status"], proj)
    report("CLI start-up", [Figure("status", seconds, "s", "<= 0.25 s", seconds <= 0.25)], args.out, "cli_startup")
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
PY = sys.executable
OUT = Path(os.environ.get("BENCH_OUT", REPO / "bench" / "out"))
"""Where each benchmark writes <name>.json (git-ignored); --out overrides it."""

if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))  # measure this checkout's package, installed or not

# Never copied into a throwaway project: git state, environments, outputs, and this repo's own record.
_SKIP_NAMES = {".git", ".venv", "__pycache__", ".pytest_cache", ".autoresearch", "out", "build", "dist"}
_KEEP_ONLY = {"1_ideas": "_TEMPLATE.md", "9_reports": "_TEMPLATE.md", "5_worktrees": ".gitkeep"}


def env(**extra: str) -> dict[str, str]:
    """The environment of every subprocess: this checkout's src/ first, plain (uncoloured) output."""
    path = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)
    base = {k: v for k, v in os.environ.items() if k not in ("META_MODE", "AUTORESEARCH_LABEL", "FORCE_COLOR")}
    return base | {"PYTHONPATH": path, "NO_COLOR": "1"} | extra


def new_project(dest: Path) -> Path:
    """A copy of this repo's template in dest with an empty record (results.tsv header only), committed on main.

    A plain copy rather than `autoresearch init`, so that it also works where the checkout has no .git
    (a copy of the tree on a lent GPU machine); it needs the git binary, as eval.py does.
    """
    from autoresearch.results import HEADER

    def ignore(folder: str, names: list[str]) -> set[str]:
        rel = Path(folder).resolve().relative_to(REPO).as_posix()
        skipped = {n for n in names if n in _SKIP_NAMES or n.endswith((".lock", ".egg-info"))}
        if rel in _KEEP_ONLY:
            skipped |= {n for n in names if n != _KEEP_ONLY[rel]}
        return skipped

    shutil.copytree(REPO, dest, ignore=ignore, symlinks=True)
    (dest / "results.tsv").write_text(HEADER)
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.name", "autoresearch bench"],
        ["config", "user.email", "bench@localhost"],
        ["add", "-A"],
        ["commit", "-q", "--no-verify", "-m", "bench: throwaway copy of the template"],
    ):
        subprocess.run(["git", *args], cwd=dest, check=True, capture_output=True)
    return dest


def run(cmd: list[str], cwd: Path, check: bool = True, **extra_env: str) -> subprocess.CompletedProcess:
    """Run a command to completion, output captured; with check, a failure raises with its stderr tail."""
    out = subprocess.run(cmd, cwd=cwd, env=env(**extra_env), capture_output=True, text=True)
    if check and out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {out.returncode}:\n{out.stderr[-2000:]}")
    return out


def timed(cmd: list[str], cwd: Path, **extra_env: str) -> tuple[float, subprocess.CompletedProcess]:
    """Wall seconds of one run of cmd (not checked: the caller decides what a failure means)."""
    t0 = time.perf_counter()
    out = run(cmd, cwd, check=False, **extra_env)
    return time.perf_counter() - t0, out


def median(values: list[float]) -> float:
    return statistics.median(values)


def sample_rows(n: int, ideas: int = 100) -> list[dict]:
    """n well-formed results rows with some variety: ideas, seeds, both profiles, a crash in every 20."""
    rows = []
    for i in range(n):
        crash = i % 20 == 19
        profile = "cuda" if i % 4 == 3 else "cpu"
        bpb = None if crash else 1.3 + 0.5 * ((i * 7919) % 1000) / 1000
        rows.append({
            "commit": f"{(i * 2654435761) % 16**7:07x}", "val_bpb": bpb, "memory_gb": 0.55, "status": "crash" if crash else "ok",
            "description": f"try number {i} of idea {i % ideas}", "timestamp": "2025-01-01T00:00:00+00:00",
            "branch": f"exp/idea-{i % ideas}", "idea": f"idea-{i % ideas}", "seed": i % 3, "profile": profile,
            "floor_bpb": 0.962418, "gap": None if bpb is None else bpb - 0.962418, "training_seconds": 118.2,
            "total_seconds": 123.9, "tokens": 1_048_576, "params": 851_968, "steps": 512,
            "reason": "exception" if crash else "", "verdict": "" if crash else "within-noise", "label": "",
            "kind": "experiment", "eval_hash": "0123456789ab", "val_hash": "ba9876543210",
        })
    return rows


def load_problem(profile_name: str, tokens: int):
    """eval.py's profile with a token budget of `tokens`, its corpus, and the modules train and model.

    The corpus is what eval.py loads for such a budget (the same cache), with the profile's validation split.
    """
    import dataclasses

    sys.path.insert(0, str(REPO))  # eval.py, train.py and model.py live at the top of the checkout
    import eval as frozen_eval
    import model
    import train

    from autoresearch.data import load_corpus
    from autoresearch.harness import _train_bytes

    profile = dataclasses.replace(frozen_eval.PROFILES[profile_name], train_tokens=tokens)
    corpus = load_corpus(frozen_eval.DATA, frozen_eval.DATA_SEED, _train_bytes(profile), profile.val_docs, profile.seq_len + 1)
    return profile, corpus, train, model, frozen_eval


def parse_summary(text: str) -> dict[str, str]:
    """The `key: value` lines after eval.py's last `---` line."""
    lines = text.splitlines()
    if "---" not in lines:
        raise ValueError("no summary block (a line '---') in the output")
    start = len(lines) - lines[::-1].index("---")
    return {m[1]: m[2].strip() for line in lines[start:] if (m := re.match(r"^(\w+):\s+(.*)$", line))}


@dataclass
class Figure:
    """One measured figure: its value, the target it is held to (if any) and whether it meets it."""

    name: str
    value: float | int | str
    unit: str = ""
    target: str = ""
    ok: bool | None = None
    """None: a figure shown for information, without a target."""

    def shown(self) -> str:
        if isinstance(self.value, float):
            v = self.value
            text = f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
        elif isinstance(self.value, int):
            text = f"{self.value:,}"
        else:
            text = str(self.value)
        return f"{text} {self.unit}".strip()


def verdict(ok: bool | None) -> str:
    return "" if ok is None else "pass" if ok else "FAIL"


def _shown(path: Path) -> str:
    path = path.resolve()
    return path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else str(path)


def busy_warning() -> str | None:
    """A warning when other work loads the machine: every timing here would be skewed by it."""
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    if load > 0.5 * cpus:
        return f"load average {load:.1f} on {cpus} CPUs before starting: other work will skew these timings"
    return None


def report(title: str, figures: list[Figure], out: Path, name: str, notes: list[str] = ()) -> None:
    """Print the figures as a table (value, target, pass/FAIL side by side) and write out/<name>.json."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("figure", no_wrap=True)
    table.add_column("value", justify="right")
    table.add_column("target", no_wrap=True)
    table.add_column("", no_wrap=True)
    for f in figures:
        style = "" if f.ok is None else "green" if f.ok else "bold red"
        table.add_row(f.name, f.shown(), f.target, verdict(f.ok), style=style)
    console = Console() if Console().is_terminal else Console(width=140)  # piped (just bench | tee): no wrapping at 80
    console.print(table)
    for note in [*notes, f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (1 min) at the end"]:
        console.print(f"  note: {note}", highlight=False)
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": name,
        "title": title,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["python", _shown(Path(sys.argv[0])), *sys.argv[1:]]),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],  # other work on the machine skews every figure
        "figures": [asdict(f) for f in figures],
        "notes": list(notes),
    }
    (out / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
