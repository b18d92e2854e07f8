"""The summary block an eval prints: `---`, then one `key: value` per line (karpathy's format, grep-able).

It is the whole of what `just eval` prints for a run besides one line saying where the log is:
an agent's context should not fill with training lines. The same figures, with more, are in the
run folder's summary.json, which calibrate, compare and keep read instead of this text.
"""

from __future__ import annotations

import sys
from typing import Any


def summary_lines(f: dict[str, Any], metric: str) -> list[str]:
    lines = ["---"]

    def add(key: str, value: Any, fmt: str = "") -> None:
        if value is not None and value != "":
            lines.append(f"{key + ':':<18}{format(value, fmt)}")

    if f["status"] == "crash":
        add("status", "crash")
        add("reason", f["reason"])
        add("error", f["error"])
    add(metric, f[metric], ".6f")
    add("optimum", f["optimum"], ".6f")
    add("gap", f["gap"], ".6f")
    add("verdict", f["verdict"])
    add("training_seconds", f["training_seconds"], ".1f")
    add("total_seconds", f["total_seconds"], ".1f")
    add("peak_memory_mb", None if f["memory_gb"] is None else f["memory_gb"] * 1000, ".1f")
    add("used", f"{f['used']:,} {f['unit']} in {f['steps']} steps (budget: {f['budget']})")
    add("params_M", None if f["params"] is None else f["params"] / 1e6, ".3f")
    add("mfu_percent", f["mfu_percent"], ".2f")
    add("seed", f["seed"])
    add("profile", f"{f['profile']} ({f['device']})")
    add("threads", f"{f['threads']} ({f['threads_why']}); sandbox {f['sandbox']}")
    add("data", f["data"])
    add("run", f["run"])
    if f["row_written"]:
        add("row", f"appended to {f['results']}")
    else:
        add("row", f["row_problem"] or "not written (this profile writes none)")
    return lines


def print_summary(figures: dict[str, Any], metric: str) -> None:
    sys.stderr.flush()
    print("\n".join(summary_lines(figures, metric)), flush=True)
