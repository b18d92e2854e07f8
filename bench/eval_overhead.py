"""Benchmark 4, eval overhead: the share of a real eval spent outside training, (total - training) / total.

Usage: python bench/eval_overhead.py [--profile cpu]     (or: just bench; the cpu profile takes minutes)
       python bench/eval_overhead.py --quick            (the smoke profile: seconds, no target)

Runs `python eval.py --profile cpu` once in a throwaway project (its row goes to that copy's
results.tsv) and reads training_seconds and total_seconds from its summary block. Target <= 5%
(karpathy's reference spends 8% of a 5-minute run outside training). Also shown: the share with
the interpreter's start and exit counted (the process's wall time), and the full output in out/.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import OUT, PY, Figure, new_project, parse_summary, report, timed

TARGET_SHARE = 5.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu", help="eval.py's budget profile (the target is for cpu and cuda)")
    parser.add_argument("--quick", action="store_true", help="use the smoke profile (for tests; its share is shown without a target)")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for eval_overhead.json and the eval's output")
    args = parser.parse_args(argv)
    profile = "smoke" if args.quick else args.profile

    with tempfile.TemporaryDirectory() as tmp:
        proj = new_project(Path(tmp) / "proj")
        wall, out = timed([PY, "eval.py", "--profile", profile], proj)
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / f"eval_overhead_{profile}.log"
    log.write_text(out.stdout + "\n--- stderr ---\n" + out.stderr)
    if out.returncode != 0:
        try:
            why = parse_summary(out.stdout).get("error", f"exit {out.returncode}")
        except ValueError:
            why = f"exit {out.returncode}, no summary"
        figures = [Figure(f"eval.py --profile {profile}", f"{why[:100]}; see {log}", "", "exit 0", False)]
        report(f"Eval overhead ({profile} profile)", figures, args.out, "eval_overhead")
        return 1
    s = parse_summary(out.stdout)
    training, total = float(s["training_seconds"]), float(s["total_seconds"])
    share = 100 * (total - training) / total
    has_target = profile != "smoke"
    figures = [
        Figure("training_seconds (summary)", training, "s"),
        Figure("total_seconds (summary)", total, "s"),
        Figure("process wall time", wall, "s"),
        Figure("outside training", total - training, "s"),
        Figure("overhead share (total - training) / total", share, "%",
               f"<= {TARGET_SHARE:g}%" if has_target else "", share <= TARGET_SHARE if has_target else None),
        Figure("overhead share with process start and exit", 100 * (wall - training) / wall, "%"),
        Figure("val_bpb", float(s["val_bpb"])),
        Figure("tokens_per_s", float(s["tokens_per_s"]), "tokens/s"),
    ]
    notes = [f"one run of `python eval.py --profile {profile}` in a throwaway project; output in {log}"]
    if not has_target:
        notes.append("the smoke profile trains for seconds, so its fixed costs (torch import, data, scoring) weigh far more; the target is for cpu")
    report(f"Eval overhead ({profile} profile)", figures, args.out, "eval_overhead", notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
