"""A stand-in for `just eval` in the queue tests: it behaves as an eval does towards the queue.

It appends one row to the ROOT results.tsv of the checkout it runs in, through
`autoresearch.results.append_row`, with the label from AUTORESEARCH_LABEL, and exits with a chosen
status; on SIGTERM (`queue kill`) it writes a crash row with reason `interrupted` and exits 130,
as the real eval's harness does. It prints its start and end times (epoch seconds) and its working
directory, so tests can see when and where it ran. Settings come from the environment the job was
queued with:

    FAKE_EVAL_SECONDS  how long it "trains" (default 1)
    FAKE_EVAL_METRIC   the metric value of its row (default 1.5)
    FAKE_EVAL_EXIT     its exit status after writing an ok row (default 0)

Usage: AUTORESEARCH_LABEL="Q: ... H: ..." FAKE_EVAL_METRIC=1.4 python tests/fake_eval.py
"""

from __future__ import annotations

import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from autoresearch.paths import Project
from autoresearch.results import COLUMNS, append_row


class Interrupted(Exception):
    pass


def row(status: str, value: float | None, reason: str) -> dict:
    cells = dict.fromkeys(COLUMNS)
    cells |= {
        "commit": "fake000", COLUMNS[1]: value, "status": status, "description": "fake eval (queue tests)",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"), "profile": "fake", "seed": 0,
        "reason": reason, "verdict": "", "label": os.environ.get("AUTORESEARCH_LABEL", ""), "kind": "experiment",
    }
    return {k: v for k, v in cells.items() if k in COLUMNS}


def main() -> int:
    def interrupted(signum, frame):
        raise Interrupted()

    signal.signal(signal.SIGTERM, interrupted)
    results = Project.find(Path.cwd()).results
    print(f"fake_eval: start {time.time():.6f} in {Path.cwd()}", flush=True)
    try:
        time.sleep(float(os.environ.get("FAKE_EVAL_SECONDS", "1")))
    except Interrupted:
        append_row(results, row("crash", None, "interrupted"))
        print(f"fake_eval: interrupted {time.time():.6f}", flush=True)
        return 130
    append_row(results, row("ok", float(os.environ.get("FAKE_EVAL_METRIC", "1.5")), ""))
    print(f"fake_eval: end {time.time():.6f}", flush=True)
    return int(os.environ.get("FAKE_EVAL_EXIT", "0"))


if __name__ == "__main__":
    sys.exit(main())
