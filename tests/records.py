"""Rows for the record tests: well-formed results rows signed as the eval process signs them (results.append),
with the project's real HEAD commit and eval_hash, so that a fresh project with them passes `check`.

    from records import append_row, row
    line = append_row(project, val_bpb=1.8)          # signed, appended; returns the line written
    text = format_line(row(project, status="crash"))  # an unsigned line, as a shell command would write it
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from autoresearch import fingerprints, results
from autoresearch.config import Config
from autoresearch.paths import Project


def row(repo: Path, **overrides: Any) -> dict[str, Any]:
    project = Project.find(repo)
    config = Config.load(project)
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    out: dict[str, Any] = dict.fromkeys(results.columns(config.metric.name)[:-1], "")
    out.update(
        {
            "commit": head,
            config.metric.name: 2.0,
            "memory_gb": 0.5,
            "status": "ok",
            "description": "a try",
            "timestamp": "2025-01-01T00:00:00+00:00",
            "branch": "main",
            "seed": 0,
            "profile": "cpu",
            "budget": "units",
            "used": 1000,
            "unit": "tokens",
            "training_seconds": 1.0,
            "total_seconds": 2.0,
            "params": 10,
            "steps": 5,
            "threads": 1,
            "verdict": "baseline",
            "code": "c0de",
            "parent": "c0de",
            "kind": "experiment",
            "sandbox": "none",
            "eval_hash": fingerprints.frozen_hash(project.root, config),
            "val_hash": "vvvv",
            "data": "synthetic",
            "optimum": None,
            "gap": None,
        }
    )
    out.update(overrides)
    return out


def append_row(repo: Path, **overrides: Any) -> str:
    project = Project.find(repo)
    return results.append(project, Config.load(project).metric.name, row(repo, **overrides))


def format_line(values: dict[str, Any], metric: str = "val_bpb", sig: str = "") -> str:
    """A row as a hand (or a shell command) would write it: the cells, then `sig` (empty: none)."""
    return results.format_cells(values, metric) + "\t" + sig + "\n"


def run_folder(repo: Path, name: str, line: str) -> str:
    """A run folder under 7_runs/ holding `line` as its row.tsv, as the eval process leaves it; its relative path."""
    folder = repo / "7_runs" / name
    folder.mkdir(parents=True)
    (folder / "row.tsv").write_text(line)
    return f"7_runs/{name}"


def calibrate(repo: Path, **thresholds: float) -> None:
    """A signed calibration entry per profile, as `just calibrate` writes it: calibrate(repo, cpu=0.01)."""
    from autoresearch.calibrate import write_record

    project = Project.find(repo)
    for profile, threshold in thresholds.items():
        write_record(project, profile, {"threshold": threshold, "seeds": [0, 1, 2]})
