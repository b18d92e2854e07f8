"""Noise-aware statistics: the verdict rule, calibration records. No torch, no polars at import.

THE VERDICT RULE (the one place it is defined): a new row is compared with the best earlier ok row
of the same profile. With the calibrated threshold d (the minimum detectable effect, see
`min_detectable_effect`), an improvement over that best of more than d is `better`; a loss of more
than d is `worse`; anything in between is `within-noise`. With no earlier row it is `baseline`;
with no calibration for the profile it is `uncalibrated`.
"""

from __future__ import annotations

import json
from pathlib import Path


def load_calibration(path: Path, profile: str) -> dict | None:
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise SystemExit(f"{path}: not valid JSON ({e}); rerun `just calibrate` or restore it with git checkout")
    return record.get("profiles", {}).get(profile)


def verdict(value: float, best: float | None, threshold: float | None, direction: str = "lower") -> str:
    if threshold is None:
        return "uncalibrated"
    if best is None:
        return "baseline"
    gain = (best - value) if direction == "lower" else (value - best)
    if gain > threshold:
        return "better"
    if gain < -threshold:
        return "worse"
    return "within-noise"
