"""Benchmark 6, determinism and noise: a pointer to the calibration figures, which `just calibrate` measures.

Usage: python bench/calibration.py        (or: just bench)

Reads .autoresearch/calibration.json of this checkout (written by `just calibrate`: seed spread,
same-seed repeatability and the noise threshold per profile) and shows each profile's figures.
Measuring them takes several full evals, so this benchmark does not rerun them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common import OUT, REPO, Figure, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=None, help="calibration.json to read (default: this checkout's)")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for calibration.json's summary")
    args = parser.parse_args(argv)
    from autoresearch.paths import Project

    path = args.path or Project.find(REPO).calibration
    figures = []
    if not path.exists():
        figures.append(Figure("calibration", f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path} not found: run `just calibrate`"))
    else:
        record = json.loads(path.read_text())
        for profile, values in record.get("profiles", {}).items():
            for key, value in values.items():
                if key == "checks" and isinstance(value, dict):  # calibrate's own requirements, each passed or not
                    figures += [Figure(f"{profile}: {req}", "met" if ok else "not met", "", "met", bool(ok)) for req, ok in value.items()]
                elif isinstance(value, list):
                    figures.append(Figure(f"{profile}: {key}", ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in value)))
                elif isinstance(value, (int, float, str)):
                    figures.append(Figure(f"{profile}: {key}", str(value).lower() if isinstance(value, bool) else value))
        if not figures:
            figures.append(Figure("calibration", f"{path} has no profiles: run `just calibrate`"))
    report("Determinism and noise (from `just calibrate`)", figures, args.out, "calibration", [f"source: {path}"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
