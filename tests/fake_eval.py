"""A stand-in for `just eval` in the queue tests: it behaves as an eval does towards the queue.

It appends one signed row to the ROOT results.tsv of the checkout it runs in, through
`autoresearch.results.append` (the new row shape: the project's metric column, the code hash of
the checkout and of its parent on main, the label from AUTORESEARCH_LABEL), and exits with a
chosen status; on SIGTERM (`queue kill`) it writes a crash row with reason `interrupted` and
exits 130, as the real eval does. It prints its start and end times (epoch seconds) and its
working directory, so tests can see when and where it ran. Settings come from the environment
the job was queued with:

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
from typing import Any

from autoresearch import fingerprints, repo, results
from autoresearch.config import Config
from autoresearch.paths import Project


class Interrupted(Exception):
    pass


def row(project: Project, config: Config, status: str, value: float | None, reason: str) -> dict[str, Any]:
    checkout, main = project.checkout, config.main_branch
    fork = repo.merge_base(checkout, main, "HEAD")
    branch = repo.branch(checkout)
    cells: dict[str, Any] = dict.fromkeys(results.columns(config.metric.name)[:-1])
    return cells | {
        "commit": repo.resolve(checkout, "HEAD"),
        config.metric.name: value,
        "status": status,
        "description": "fake eval (queue tests)",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "branch": branch,
        "idea": branch.removeprefix("exp/") if branch.startswith("exp/") else "",
        "seed": 0,
        "profile": "fake",
        "budget": "units",
        "reason": reason,
        "verdict": "",
        "kind": "experiment",
        "sandbox": "none",
        "code": fingerprints.code_hash(checkout, config),
        "parent": fingerprints.code_hash_at(checkout, fork, config) if fork else "",
        "label": os.environ.get("AUTORESEARCH_LABEL", ""),
    }


def main() -> int:
    def interrupted(signum, frame):
        raise Interrupted()

    signal.signal(signal.SIGTERM, interrupted)
    project = Project.find(Path.cwd())
    config = Config.load(project)
    print(f"fake_eval: start {time.time():.6f} in {Path.cwd()}", flush=True)
    try:
        time.sleep(float(os.environ.get("FAKE_EVAL_SECONDS", "1")))
    except Interrupted:
        results.append(project, config.metric.name, row(project, config, "crash", None, "interrupted"))
        print(f"fake_eval: interrupted {time.time():.6f}", flush=True)
        return 130
    results.append(
        project, config.metric.name, row(project, config, "ok", float(os.environ.get("FAKE_EVAL_METRIC", "1.5")), "")
    )
    print(f"fake_eval: end {time.time():.6f}", flush=True)
    return int(os.environ.get("FAKE_EVAL_EXIT", "0"))


if __name__ == "__main__":
    sys.exit(main())
