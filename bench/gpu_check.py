"""The GPU benchmark's figures and checks: the cuda eval's summary, its row and run folder, and bf16 against float32 scoring.

Usage: python bench/gpu_check.py [--profile cuda] [--tokens 8388608] [--eval-summary FILE --project DIR] [--out DIR]
       python bench/gpu_check.py --profile cpu --tokens 4096          (a dry run on the CPU)
       (bench/gpu.sh runs it after the eval, on the eval's throwaway project)

1. With --eval-summary (the --summary JSON of `python eval.py --profile cuda` in --project): the
   eval's figures (MFU against the GPU's dense bf16 peak, target >= 45%, issue 8; the overhead share,
   <= 5%; peak memory; tokens/s), its row in the project's results.tsv (present, and its signature
   verifies) and its run folder (log, diff, budget, environment, summary, row).
2. A model trained by train.py on a reduced budget, in this process (LocalData over the eval's
   sampler), scored twice by the eval's own steps (lm.doc_bits, lm.bits_per_byte): with the outputs
   the training process would send (bf16 autocast on CUDA, as child.py predicts) and in float32
   (TF32 off). Target: |bf16 - fp32| / fp32 <= 1e-2. On the CPU, where the eval predicts in float32,
   the bf16 side runs under CPU autocast instead.
Writes DIR/gpu.json (gpu_check_<profile>.json for another profile).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as `python -I`, which leaves this folder off sys.path
from common import OUT, Figure, import_train, isolated, load_problem, metric_name, new_project, report

TARGET_RELATIVE = 1e-2
TARGET_MFU = 45.0
TARGET_SHARE = 5.0
RUN_FILES = ("log.txt", "diff.patch", "budget.json", "environment.json", "summary.json")


class LocalModel:
    """A trained model behind the eval's RemoteModel interface (predict_chunks), so that lm's scoring steps take it."""

    def __init__(self, model: Any, budget: Any, precision: str):
        self.model, self.budget, self.precision = model, budget, precision

    def predict_chunks(self, inputs: Any, out_shape: tuple[int, ...], chunk: int = 16) -> Iterator[Any]:
        import contextlib

        import torch

        from autoresearch.evaluate.child import _predict

        for first in range(0, len(inputs), chunk):
            x = inputs[first : first + chunk]
            if self.precision == "as the eval":
                cpu_bf16 = (
                    torch.autocast("cpu", dtype=torch.bfloat16)
                    if self.budget.device == "cpu"
                    else contextlib.nullcontext()
                )
                with cpu_bf16:
                    out = _predict(
                        self.model, self.budget, x
                    )  # on CUDA: bf16 autocast, as the training process answers
            else:
                with torch.no_grad():
                    out = self.model(torch.from_numpy(x.copy()).to(self.budget.device))
            yield out.detach().float().cpu().numpy()


def agreement(root: Path, profile_name: str, tokens: int, seed: int) -> tuple[list[Figure], list[str]]:
    import torch

    from autoresearch.evaluate.local import LocalData
    from autoresearch.problems import lm

    problem = load_problem(root, profile_name, tokens)
    budget = problem.budget
    if budget.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"gpu_check: profile {profile_name} needs a CUDA GPU and torch sees none; try --profile cpu")
    train = import_train(root)
    data = LocalData(problem.sampler, budget, seed)
    t0 = time.perf_counter()
    model = train.train(data, budget, seed)
    trained = time.perf_counter() - t0
    t0 = time.perf_counter()
    bf16 = lm.bits_per_byte(lm.doc_bits(LocalModel(model, budget, "as the eval"), problem.data.val), problem.data)
    t_bf16 = time.perf_counter() - t0
    torch.set_float32_matmul_precision("highest")  # float32 for real: train.py allows TF32 matmuls on CUDA
    t0 = time.perf_counter()
    fp32 = lm.bits_per_byte(lm.doc_bits(LocalModel(model, budget, "fp32"), problem.data.val), problem.data)
    t_fp32 = time.perf_counter() - t0
    rel = abs(bf16 - fp32) / fp32
    floor = problem.data.floor_bpb
    figures = [
        Figure("check: training (reduced budget)", trained, "s"),
        Figure(
            "check: val_bpb bf16 " + ("(as the eval predicts)" if budget.device == "cuda" else "(CPU autocast)"), bf16
        ),
        Figure("check: val_bpb fp32 (same model)", fp32),
        Figure("check: |bf16 - fp32| / fp32", rel, "", f"<= {TARGET_RELATIVE:g} (issue 8)", rel <= TARGET_RELATIVE),
        Figure("check: the model learned (fp32 val_bpb < 8, uniform)", fp32, "", "< 8", fp32 < 8.0),
        Figure("check: optimum (the Bayes floor)", floor if floor is not None else "n/a"),
        Figure("check: scoring seconds bf16 / fp32", f"{t_bf16:.1f} / {t_fp32:.1f}", "s"),
    ]
    name = torch.cuda.get_device_name() if budget.device == "cuda" else "cpu"
    notes = [
        f"profile {profile_name} model, {data.units_seen:,} training tokens ({data.steps} steps), seed {seed}, "
        f"{problem.data.val.shape[0]} validation docs of {problem.data.val.shape[1]} bytes",
        f"device {name}, torch {torch.__version__}"
        + (f", CUDA {torch.version.cuda}" if budget.device == "cuda" else ""),
    ]
    return figures, notes


def eval_figures(summary: Path, root: Path) -> list[Figure]:
    """The eval's figures from its --summary JSON, and checks of its row and run folder."""
    from autoresearch import signing

    if not summary.exists():
        return [
            Figure(
                "eval",
                f"no summary at {summary} (it timed out or failed before scoring; see its log)",
                "",
                "ran",
                False,
            )
        ]
    s = json.loads(summary.read_text())[-1]
    if s["status"] != "ok":
        return [Figure("eval", f"crash: {s.get('reason')}: {s.get('error', '')}"[:200], "", "status ok", False)]
    metric = metric_name(root)
    training, total = s["training_seconds"], s["total_seconds"]
    share = 100 * (total - training) / total
    cuda = s["device"] == "cuda"
    figures = [
        Figure(f"eval: {metric}", s[metric]),
        Figure("eval: used", f"{s['used']:,} {s['unit']} in {s['steps']} steps (budget: {s['budget']})"),
        Figure("eval: training_seconds", training, "s"),
        Figure("eval: total_seconds", total, "s"),
        Figure(
            "eval: overhead share (total - training) / total",
            share,
            "%",
            f"<= {TARGET_SHARE:g}% (issue 8)" if cuda else "",
            share <= TARGET_SHARE if cuda else None,
        ),
        Figure("eval: tokens/s (used / training_seconds)", s["used"] / training, f"{s['unit']}/s"),
        Figure("eval: peak memory", s["memory_gb"] if s["memory_gb"] is not None else "n/a", "GB"),
        Figure("eval: threads, sandbox", f"{s['threads']} ({s['threads_why']}); {s['sandbox']}"),
    ]
    if cuda:
        mfu = s.get("mfu_percent")
        figures.append(
            Figure(
                "eval: MFU (dense bf16 peak)",
                mfu if mfu is not None else "unknown GPU: set AUTORESEARCH_PEAK_FLOPS",
                "%" if mfu else "",
                f">= {TARGET_MFU:g}% (issue 8)",
                mfu is not None and mfu >= TARGET_MFU,
            )
        )
    folder = root / s["run"]
    expected = [*RUN_FILES, *(["row.tsv"] if s["row_written"] else [])]
    missing = [name for name in expected if not (folder / name).is_file()]
    figures.append(
        Figure(
            "eval: run folder",
            f"{s['run']}" + (f", missing {', '.join(missing)}" if missing else f" ({len(expected)} files)"),
            "",
            "complete",
            not missing,
        )
    )
    if s["writes_row"]:
        lines = (root / "results.tsv").read_text().splitlines()
        text, _, sig = lines[-1].rpartition("\t") if len(lines) > 1 else ("", "", "")
        found = "no row" if not sig else signing.verify(text, sig)
        figures.append(
            Figure("eval: its row in results.tsv (signature)", found, "", "ok", found == "ok" and s["row_written"])
        )
    else:
        figures.append(Figure("eval: row", "none (this profile writes none)"))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--profile", default="cuda", help="eval.py's profile whose model, device and validation split to use"
    )
    parser.add_argument("--tokens", type=int, default=8 * 2**20, help="training tokens for the checked model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-summary", type=Path, default=None, help="the --summary JSON of the eval to report on")
    parser.add_argument(
        "--project", type=Path, default=None, help="the project the eval ran in (default: a throwaway one)"
    )
    parser.add_argument("--out", type=Path, default=OUT, help="folder for gpu.json")
    args = parser.parse_args(argv)
    isolated()

    figures, notes = [], []
    with tempfile.TemporaryDirectory() as tmp:
        root = args.project.resolve() if args.project else new_project(Path(tmp) / "proj")
        if args.eval_summary is not None:
            figures += eval_figures(args.eval_summary, root)
            notes.append(f"eval figures from {args.eval_summary}")
        checked, more = agreement(root, args.profile, args.tokens, args.seed)
    figures += checked
    notes += more
    name = "gpu" if args.profile == "cuda" else f"gpu_check_{args.profile}"
    report(f"GPU benchmark ({args.profile} profile)", figures, args.out, name, notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
