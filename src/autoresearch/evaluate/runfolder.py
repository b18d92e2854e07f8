"""The run folder: one per eval or smoke run, in the ROOT checkout's 7_runs/, outliving its worktree.

`7_runs/{YYYYmmdd-HHMMSS}_{idea}_s{seed}/` holds `log.txt` (the training process's whole output),
`diff.patch` (the agent's code against the parent it branched from, uncommitted edits included),
`budget.json`, `environment.json` (python, torch, CUDA and GPU, threads, load at start and end,
other GPU processes), `summary.json` (the figures and the row) and `row.tsv` (the signed line).
The folder is git-ignored: logs are per machine and large; the row in results.tsv points here.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autoresearch import repo


def create(runs: Path, name: str, seed: int) -> Path:
    runs.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}_{re.sub(r'[^A-Za-z0-9._-]+', '-', name).strip('-') or 'run'}_s{seed}"
    for n in range(1000):
        folder = runs / (base if n == 0 else f"{base}-{n}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise RuntimeError(f"{runs}: cannot make a fresh run folder for {base}")


def write_json(folder: Path, name: str, data: Any) -> None:
    (folder / name).write_text(json.dumps(data, indent=2, default=str) + "\n")


def code_diff(checkout: Path, base: str | None, code_files: list[str]) -> str:
    """The agent's code against `base` (a commit), including uncommitted and untracked files."""
    if base is None:
        return "# no parent commit on main to diff against\n"
    tracked = set(repo.lines(checkout, "ls-files", "-z"))
    text = repo.run(
        checkout, "diff", "--no-ext-diff", base, "--", *[f for f in code_files if f in tracked]
    ).stdout.decode(errors="replace")
    for rel in code_files:
        if rel not in tracked:
            extra = repo.run(checkout, "diff", "--no-index", "--no-ext-diff", "/dev/null", rel, ok=(0, 1))
            text += extra.stdout.decode(errors="replace")
    return text or f"# the agent's code is the same as the parent's ({base[:12]})\n"
