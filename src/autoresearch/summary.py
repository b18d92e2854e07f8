"""Read the summary block that eval.py prints: a `---` line, then one `key: value` per line.

The block is the last `---` section of a run's stdout (training logs go to stderr, but a train.py
may print too). `run_eval` runs eval.py as a subprocess (calibrate and compare do) and reads it. Usage:

    figures = parse_summary(completed.stdout)     # {"val_bpb": "1.912345", "profile": "cpu", ...}
    run = run_eval(checkout, ["--seed", "1"])     # .returncode, .figures, .seconds, .stdout
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


def parse_summary(stdout: str) -> dict[str, str]:
    """The key: value pairs of the last summary block, values stripped; {} when there is none."""
    lines = stdout.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == "---"]
    if not starts:
        return {}
    figures = {}
    for line in lines[starts[-1] + 1 :]:
        key, sep, value = line.partition(":")
        if not sep or not key.strip() or " " in key.strip():
            break
        figures[key.strip()] = value.strip()
    return figures


@dataclass(frozen=True)
class EvalRun:
    returncode: int
    figures: dict[str, str]
    """the summary block of the last seed"""
    seconds: float
    """wall time of the whole process"""
    stdout: str


def run_eval(checkout: Path, args: list[str]) -> EvalRun:
    """`python eval.py ARGS` in `checkout` with this interpreter; its stderr (the training log) passes through."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "eval.py", *args], cwd=checkout, stdout=subprocess.PIPE, text=True)
    return EvalRun(out.returncode, parse_summary(out.stdout), time.perf_counter() - started, out.stdout)
