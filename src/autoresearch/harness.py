"""The machinery behind eval.py: arguments, data, budget, crash capture, integrity checks, summary, row.

eval.py (FROZEN) declares the problem (data source, profiles, metric) and calls `run_eval`; this
module does the rest so that eval.py stays short enough to read at a glance.
"""

from __future__ import annotations

import hashlib
import math
import os
import resource
import signal
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Literal

import numpy as np
import torch
from loguru import logger

from autoresearch import gitinfo, results, stats
from autoresearch.budget import Profile, TrainData
from autoresearch.data import Corpus, load_corpus
from autoresearch.paths import Project
from autoresearch.taxonomy import Taxonomy


@dataclass
class EvalArgs:
    """Train train.py's model under the profile's budget, score it, print the summary, append a row."""

    profile: str | None = None
    """Budget profile: smoke, cpu or cuda. Default: cuda when a GPU is visible, else cpu."""
    seed: int = 0
    """Training seed (model init and batch order). The data and the split never change."""
    seeds: int = 1
    """Run this many seeds (seed, seed+1, ...), one row each."""
    budget: Literal["tokens", "time"] = "tokens"
    """tokens: a fixed token budget (deterministic, comparable across machines). time: a fixed
    wall-clock training budget (karpathy's semantics: faster code trains on more tokens)."""
    description: str = ""
    """What was tried; default: the last commit subject."""
    idea: str = ""
    """Idea slug; default: taken from the exp/<slug> branch."""
    kind: Literal["experiment", "calibration"] = "experiment"
    """calibration rows are written by `autoresearch calibrate`."""


class Crash(Exception):
    """A run that must end as a crash row with this reason."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class _Interrupted(BaseException):
    pass


class _Timeout(BaseException):
    pass


Score = Callable[[torch.nn.Module, torch.Tensor, str], float]


def default_profile() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def run_eval(
    args: EvalArgs, profiles: dict[str, Profile], source: str, data_seed: int, score: Score, started: float
) -> int:
    """Run every requested seed; return the process exit code (0 only when every run is ok)."""
    name = args.profile or default_profile()
    if name not in profiles:
        raise SystemExit(f"eval.py: --profile {name!r} is not one of {sorted(profiles)}")
    profile = profiles[name]
    if profile.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"eval.py: profile {name!r} needs a CUDA GPU and none is visible; use --profile cpu")
    if args.seeds < 1:
        raise SystemExit("eval.py: --seeds must be at least 1")
    project = Project.find()
    # The frozen files as this process loaded them: each row records it, and a change during a run is tampering.
    eval_hash = gitinfo.frozen_hash(project.checkout, Taxonomy.load(project.pyproject))
    logger.info(f"profile {name}: loading {source} data")
    corpus = load_corpus(source, data_seed, _train_bytes(profile), profile.val_docs, profile.seq_len + 1)
    code = 0
    for seed in range(args.seed, args.seed + args.seeds):
        code = max(code, _run_one(args, profile, corpus, seed, score, project, started, eval_hash))
        if code == 130:  # interrupted (Ctrl-C, kill): stop, do not go on to the next seed
            break
        started = time.perf_counter()
    return code


def _train_bytes(profile: Profile) -> int:
    # One pass over fresh bytes in token mode, so the budget never repeats data; at least 4 MB.
    return max(4_000_000, profile.train_tokens + profile.seq_len + 1)


def _run_one(
    args: EvalArgs, profile: Profile, corpus: Corpus, seed: int, score: Score, project: Project, started: float, eval_hash: str
) -> int:
    budget = profile.budget(args.budget)
    record = _record_state(project.results)
    figures: dict[str, float | int | str | None] = {"seed": seed, "profile": profile.name, "device": profile.device}
    reason, message, model, data = "", "", None, None
    if budget.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    old_handlers = _install_signal_handlers()
    try:
        import train  # the checkout's train.py: eval.py's folder is first on sys.path

        data = TrainData(corpus.train, budget, seed)
        signal.setitimer(signal.ITIMER_REAL, budget.cap_seconds)
        t0 = time.perf_counter()
        try:
            model = train.train(data, budget, seed)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        figures["training_seconds"] = time.perf_counter() - t0
        check_budget(data, budget, figures["training_seconds"])
        model.eval()
        check_causal(model, corpus.val, budget.device)
        val = torch.from_numpy(corpus.val.astype(np.int64))
        bpb = float(score(model, val, budget.device))
        if not math.isfinite(bpb):
            raise Crash("nan", f"the metric is {bpb}: the model diverged or made non-finite logits; lower the learning rate, or find where the loss first goes non-finite")
        floor = corpus.floor_bpb
        if floor is not None and bpb < floor - 1e-6:
            raise Crash("leak", f"val_bpb {bpb:.6f} is below the Bayes floor {floor:.6f}: the model sees what it should not (the validation split, or the future); train only on data.next_batch, and keep attention causal")
        figures["val_bpb"] = bpb
    except Crash as e:
        reason, message = e.reason, str(e)
    except _Timeout:
        reason, message = "timeout", f"training passed the {budget.cap_seconds:.0f} s wall-clock cap of profile {profile.name}; make each step cheaper, or stop when data.next_batch returns None"
    except _Interrupted:
        reason, message = "interrupted", "interrupted by a signal"
    except FloatingPointError as e:
        reason, message = "nan", str(e)
    except Exception as e:  # any bug in train.py/model.py becomes a crash row, not a lost run
        logger.exception("the run crashed")
        reason, message = "exception", f"{type(e).__name__}: {e}"
    finally:
        _restore_signal_handlers(old_handlers)
    tampered = check_tamper(project, eval_hash, record)
    if tampered:
        reason, message = "tamper", tampered
        figures.pop("val_bpb", None)  # a number from a tampered run is no result
    if data is not None:
        figures |= {"tokens": data.tokens_seen, "steps": data.steps}
    if model is not None:
        figures["params"] = sum(p.numel() for p in model.parameters())
    figures["total_seconds"] = time.perf_counter() - started
    figures["memory_gb"] = _peak_memory_gb(budget.device)
    figures["floor_bpb"] = corpus.floor_bpb
    if model is not None and budget.device == "cuda" and "training_seconds" in figures:
        figures["mfu_percent"] = _mfu(model, data.tokens_seen, figures["training_seconds"])
    row = _row(args, project, corpus, figures, seed, reason, eval_hash)
    if profile.writes_row:
        results.append_row(project.results, row)
    print_summary(figures, row, message, written=profile.writes_row, path=project.results)
    return 0 if not reason else (130 if reason == "interrupted" else 1)


def check_budget(data: TrainData, budget, seconds: float) -> None:
    """Catch a train.py that silenced the cap's alarm or swapped or reset the budget it was handed."""
    if seconds > budget.cap_seconds:
        raise Crash("timeout", f"training took {seconds:.1f} s, past the {budget.cap_seconds:.0f} s wall-clock cap; make each step cheaper, and leave the alarm (SIGALRM) alone")
    if data.budget is not budget or (budget.max_tokens is not None and data.tokens_seen > budget.max_tokens):
        raise Crash("budget", "train.py changed the budget or the token count of the TrainData it was given; train only on data.next_batch")


def _record_state(path) -> tuple[int, str]:
    """Size and hash of results.tsv, read under its lock so never in the middle of an append."""
    if not path.exists():
        return 0, hashlib.sha256(b"").hexdigest()
    from filelock import FileLock

    with FileLock(str(path) + ".lock"):
        data = path.read_bytes()
    return len(data), hashlib.sha256(data).hexdigest()


def check_tamper(project: Project, eval_hash: str, record: tuple[int, str]) -> str:
    """Why this run looks tampered with ('' if not): frozen files changed, or results.tsv rewritten, while it ran.

    Other evals append rows meanwhile, so results.tsv may grow; its first `size` bytes must not change.
    """
    if gitinfo.frozen_hash(project.checkout, Taxonomy.load(project.pyproject)) != eval_hash:
        return "the FROZEN files (eval.py, the toolkit) changed on disk during the run; `autoresearch check` shows which, and how to restore them"
    size, digest = record
    if size == 0:
        return ""
    from filelock import FileLock

    with FileLock(str(project.results) + ".lock"):
        with project.results.open("rb") as f:
            before = f.read(size)
    if len(before) < size or hashlib.sha256(before).hexdigest() != digest:
        return "results.tsv was rewritten during the run (evals only ever append to it); `autoresearch check`, then restore it from git"
    return ""


def check_causal(model: torch.nn.Module, val: np.ndarray, device: str) -> None:
    """Perturb the bytes after position t; the logits at positions <= t must not move."""
    x = torch.from_numpy(val[:4, :-1].astype(np.int64)).to(device)
    g = torch.Generator().manual_seed(0)
    tol = 1e-4 if device == "cpu" else 2e-2
    with torch.no_grad(), _autocast(device):
        base = model(x).float()
        for t in (x.shape[1] // 3, 2 * x.shape[1] // 3):
            y = x.clone()
            y[:, t + 1 :] = torch.randint(0, 256, y[:, t + 1 :].shape, generator=g).to(device)
            moved = (model(y).float()[:, : t + 1] - base[:, : t + 1]).abs().max().item()
            if moved > tol:
                raise Crash("leak", f"logits at positions <= {t} changed by {moved:.3g} when only later bytes changed: the model reads the future; mask attention (and any mixing across positions) so position t sees only bytes <= t")


def _autocast(device: str):
    return torch.autocast("cuda", dtype=torch.bfloat16) if device == "cuda" else torch.autocast("cpu", enabled=False)


def _peak_memory_gb(device: str) -> float:
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 1e9
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KB on Linux


def _mfu(model: torch.nn.Module, tokens: int, seconds: float) -> float | None:
    flops = getattr(model, "flops_per_token", None)
    if flops is None:
        return None
    peak = float(os.environ.get("AUTORESEARCH_PEAK_FLOPS", 0)) or _bf16_peak(torch.cuda.get_device_name())
    return 100 * flops() * tokens / seconds / peak if peak else None


def _bf16_peak(name: str) -> float:
    # Dense bf16 tensor-core peaks (no sparsity); set AUTORESEARCH_PEAK_FLOPS for other GPUs.
    for key, peak in (("H200", 989e12), ("H100", 989e12), ("A100", 312e12), ("L40S", 362e12), ("4090", 165e12)):
        if key in name:
            return peak
    return 0.0


def _row(args: EvalArgs, project: Project, corpus: Corpus, f: dict, seed: int, reason: str, eval_hash: str) -> dict:
    checkout = project.checkout
    taxonomy = Taxonomy.load(project.pyproject)
    branch = gitinfo.branch(checkout)
    bpb = f.get("val_bpb")
    floor = f.get("floor_bpb")
    return {
        "commit": gitinfo.head_commit(checkout),
        "val_bpb": bpb,
        "memory_gb": f["memory_gb"],
        "status": "crash" if reason else "ok",
        "description": args.description or gitinfo.subject(checkout),
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "branch": branch,
        "idea": args.idea or gitinfo.idea_of_branch(branch),
        "seed": seed,
        "profile": f["profile"],
        "floor_bpb": floor,
        "gap": None if bpb is None or floor is None else bpb - floor,
        "training_seconds": f.get("training_seconds"),
        "total_seconds": f["total_seconds"],
        "tokens": f.get("tokens"),
        "params": f.get("params"),
        "steps": f.get("steps"),
        "reason": reason,
        "verdict": "" if bpb is None else _verdict(project, taxonomy, f["profile"], bpb),
        "label": os.environ.get("AUTORESEARCH_LABEL", ""),
        "kind": args.kind,
        "eval_hash": eval_hash,
        "val_hash": corpus.val_hash,
    }


def _verdict(project: Project, taxonomy: Taxonomy, profile: str, value: float) -> str:
    calibration = stats.load_calibration(project.calibration, profile)
    best = None
    if project.results.exists():
        import polars as pl

        df = results.read_results(project.results).filter((pl.col("profile") == profile) & (pl.col("status") == "ok"))
        if df.height:
            best = df["val_bpb"].min() if taxonomy.direction == "lower" else df["val_bpb"].max()
    return stats.verdict(value, best, None if calibration is None else calibration["threshold"], taxonomy.direction)


def print_summary(f: dict, row: dict, message: str, written: bool, path) -> None:
    """The summary block: `---`, then one `key: value` per line. The one place that prints."""
    lines = ["---"]
    if row["status"] == "crash":
        lines += [f"status:           crash", f"reason:           {row['reason']}", f"error:            {message}"]

    def add(key: str, value, fmt: str = "") -> None:
        if value is not None:
            lines.append(f"{key + ':':<18}{format(value, fmt)}")

    add("val_bpb", f.get("val_bpb"), ".6f")
    add("floor_bpb", f.get("floor_bpb"), ".6f")
    add("gap", row["gap"], ".6f")
    add("verdict", row["verdict"] or None)
    add("training_seconds", f.get("training_seconds"), ".1f")
    add("total_seconds", f["total_seconds"], ".1f")
    add("peak_memory_mb", f["memory_gb"] * 1000, ".1f")
    add("tokens_M", None if f.get("tokens") is None else f["tokens"] / 1e6, ".3f")
    add("params_M", None if f.get("params") is None else f["params"] / 1e6, ".3f")
    add("steps", f.get("steps"))
    if f.get("tokens") and f.get("training_seconds"):
        add("tokens_per_s", f["tokens"] / f["training_seconds"], ".0f")
    add("mfu_percent", f.get("mfu_percent"), ".2f")
    add("seed", f["seed"])
    add("profile", f["profile"])
    add("device", f["device"])
    add("val_hash", row["val_hash"])
    add("val_bpb_exact", f.get("val_bpb"), ".17g")  # round-trips the float: calibrate checks determinism on it
    lines.append(f"{'row:':<18}{'appended to ' + str(path) if written else 'not written (smoke)'}")
    sys.stdout.flush()
    print("\n".join(lines), flush=True)


def _install_signal_handlers() -> dict:
    def interrupted(signum, frame):
        raise _Interrupted()

    def timeout(signum, frame):
        raise _Timeout()

    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM)}
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGALRM, timeout)
    return old


def _restore_signal_handlers(old: dict) -> None:
    for sig, handler in old.items():
        signal.signal(sig, handler)
