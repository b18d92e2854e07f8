"""GPU correctness check: the bf16 metric eval.py reports agrees with a float32 eval of the same model.

Usage: python bench/gpu_check.py [--tokens 8388608] [--eval-log LOG] [--out DIR]     (bench/gpu.sh runs it)
       python bench/gpu_check.py --profile cpu --tokens 4096                          (a dry run on the CPU)

Trains the profile's model with train.py on a reduced token budget, then scores that one model
twice with eval.py's own `val_bpb` on the profile's validation split: as eval.py does (bf16
autocast on CUDA) and in float32 (TF32 off). Target: |bf16 - fp32| / fp32 <= 1e-2. On the CPU,
where eval.py scores in float32, the bf16 side runs under CPU autocast instead. With --eval-log
(the output of `python eval.py --profile cuda`), its summary's MFU, peak memory and overhead share
join the figures. Writes DIR/gpu.json (or gpu_check_cpu.json for a CPU run).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

from common import OUT, Figure, load_problem, parse_summary, report

TARGET_RELATIVE = 1e-2
TARGET_MFU = 45.0
TARGET_SHARE = 5.0


def agreement(profile_name: str, tokens: int, seed: int) -> tuple[list[Figure], list[str]]:
    import numpy as np
    import torch

    from autoresearch.budget import TrainData

    profile, corpus, train, _, frozen_eval = load_problem(profile_name, tokens)
    budget = profile.budget("tokens")
    device = budget.device
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"gpu_check: profile {profile_name} needs a CUDA GPU and torch sees none; try --profile cpu")
    data = TrainData(corpus.train, budget, seed)
    t0 = time.perf_counter()
    model = train.train(data, budget, seed)
    trained = time.perf_counter() - t0
    val = torch.from_numpy(corpus.val.astype(np.int64))

    t0 = time.perf_counter()
    if device == "cuda":
        bf16 = frozen_eval.val_bpb(model, val, "cuda")  # exactly eval.py's scoring: bf16 autocast on "cuda"
    else:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            bf16 = frozen_eval.val_bpb(model, val, "cpu")
    t_bf16 = time.perf_counter() - t0
    # Float32 for real: train.py allowed TF32 matmuls on CUDA, and val_bpb autocasts only when device == "cuda".
    torch.set_float32_matmul_precision("highest")
    t0 = time.perf_counter()
    fp32 = frozen_eval.val_bpb(model, val, "cuda:0" if device == "cuda" else "cpu")
    t_fp32 = time.perf_counter() - t0
    rel = abs(bf16 - fp32) / fp32
    figures = [
        Figure("check: training (reduced budget)", trained, "s"),
        Figure("check: val_bpb bf16 " + ("(as eval.py scores)" if device == "cuda" else "(CPU autocast)"), bf16),
        Figure("check: val_bpb fp32 (same model)", fp32),
        Figure("check: |bf16 - fp32| / fp32", rel, "", f"<= {TARGET_RELATIVE:g}", rel <= TARGET_RELATIVE),
        Figure("check: the model learned (fp32 val_bpb < 8, uniform)", fp32, "", "< 8", fp32 < 8.0),
        Figure("check: floor_bpb (Bayes)", corpus.floor_bpb if corpus.floor_bpb is not None else "n/a"),
        Figure("check: scoring seconds bf16 / fp32", f"{t_bf16:.1f} / {t_fp32:.1f}", "s"),
    ]
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    notes = [
        f"profile {profile_name} model, {data.tokens_seen:,} training tokens ({data.steps} steps), seed {seed}, "
        f"{corpus.val.shape[0]} validation docs of {corpus.val.shape[1]} bytes",
        f"device {name}, torch {torch.__version__}" + (f", CUDA {torch.version.cuda}" if device == "cuda" else ""),
    ]
    return figures, notes


def eval_figures(log: Path) -> list[Figure]:
    """MFU, peak memory and overhead share from the summary block of a cuda-profile eval's output."""
    if not log.exists():
        return [Figure("cuda eval", f"no log at {log}", "", "ran", False)]
    try:
        s = parse_summary(log.read_text())
    except ValueError:
        return [Figure("cuda eval", f"no summary block in {log} (timed out or crashed before it)", "", "ran", False)]
    if s.get("status") == "crash":
        return [Figure("cuda eval", f"crash: {s.get('reason')}: {s.get('error', '')}"[:120], "", "status ok", False)]
    training, total = float(s["training_seconds"]), float(s["total_seconds"])
    share = 100 * (total - training) / total
    figures = [
        Figure("eval: val_bpb", float(s["val_bpb"])),
        Figure("eval: training_seconds", training, "s"),
        Figure("eval: total_seconds", total, "s"),
        Figure("eval: overhead share (total - training) / total", share, "%", f"<= {TARGET_SHARE:g}%", share <= TARGET_SHARE),
        Figure("eval: peak memory", float(s["peak_memory_mb"]) / 1000, "GB"),
        Figure("eval: tokens_per_s", float(s["tokens_per_s"]), "tokens/s"),
    ]
    if "mfu_percent" in s:
        mfu = float(s["mfu_percent"])
        figures.append(Figure("eval: MFU (bf16 dense peak)", mfu, "%", f">= {TARGET_MFU:g}%", mfu >= TARGET_MFU))
    else:
        figures.append(Figure("eval: MFU", "not in the summary (unknown GPU: set AUTORESEARCH_PEAK_FLOPS)", "", f">= {TARGET_MFU:g}%", False))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cuda", help="eval.py's profile whose model, device and validation split to use")
    parser.add_argument("--tokens", type=int, default=8 * 2**20, help="training tokens for the checked model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-log", type=Path, default=None, help="output of `python eval.py --profile cuda` to summarise")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for gpu.json")
    args = parser.parse_args(argv)

    figures, notes = [], []
    if args.eval_log is not None:
        figures += eval_figures(args.eval_log)
        notes.append(f"eval figures from {args.eval_log}")
    with contextlib.redirect_stdout(sys.stderr):  # train.py's progress goes with the log, not between the tables
        checked, more = agreement(args.profile, args.tokens, args.seed)
    figures += checked
    notes += more
    name = "gpu" if args.profile == "cuda" else f"gpu_check_{args.profile}"
    report(f"GPU benchmarks ({args.profile} profile)", figures, args.out, name, notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
