"""`autoresearch calibrate`: is the metric sound? Run the committed baseline on N seeds plus one repeat, check the seed's requirements.

Usage: autoresearch calibrate [--seeds 3] [--profile cpu]      (or: just calibrate --seeds 3)

Each run is a real `python eval.py --seed S --kind calibration` in the ROOT checkout (its rows are
marked `calibration`; smoke writes none). The checks, one table row each, are the "Metric design
requirements" of program.md: the runtime inside the profile's window, the spread across seeds, the
minimum detectable effect against the project's meaningful effect, determinism (the first seed run
twice), and a fixed validation split (its hash). The figures go to .autoresearch/calibration.json
(`threshold`, the minimum detectable effect, is what every verdict uses: see `stats`; each entry
is signed with the project key) and to a dated entry of RESEARCH_JOURNAL.md, whether the checks
pass or not, so the agent may run calibration and commit its record. On a failure the remedies are
printed and the exit code is 1.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from autoresearch import stats
from autoresearch.errors import UserError

if TYPE_CHECKING:
    from autoresearch.config import Config
    from autoresearch.paths import Project


@dataclass(frozen=True)
class Window:
    min_seconds: float
    max_seconds: float
    why: str


# The runtime window of one whole eval.py run (process start to exit), by profile name; a profile
# eval.py adds under another name gets the window of its device ("cpu" or "cuda").
WINDOWS: dict[str, Window] = {
    "smoke": Window(0, 120, "a sanity check of the whole path: seconds, under its cap"),
    "cpu": Window(60, 600, "the CPU main job: 1-10 min a run on 2 cores"),
    "cuda": Window(300, 2400, "the seed's GPU window: 5-40 min"),
}
CUDA_REPEAT_TOLERANCE = 1e-3
"""Relative tolerance between two CUDA runs of one seed (bf16 kernels and atomics are not bit-exact); the CPU must repeat exactly."""
REMEDIES = (
    "more eval data: raise val_docs of the profile in eval.py (a larger validation split averages out more noise)",
    "a smaller model, or more training tokens for it, so every seed converges to the same place",
    "a proxy metric with less noise",
    "a unit budget instead of a time budget (--budget units, the default): the machine's load then cannot move the number",
)


@dataclass(frozen=True)
class Run:
    """One eval.py run, as its summary block reports it."""

    seed: int
    value: float
    """the metric with full precision"""
    seconds: float
    """wall time of the whole eval.py process"""
    val_hash: str
    profile: str
    device: str
    window: list[float] | None = None


@dataclass(frozen=True)
class Check:
    requirement: str
    figure: str
    criterion: str
    passed: bool
    remedy: str = ""


def window_for(profile: str, device: str, declared: list[float] | None = None) -> Window:
    if declared:
        return Window(declared[0], declared[1], f"profile {profile}'s window in eval.py")
    if profile in WINDOWS:
        return WINDOWS[profile]
    if device in WINDOWS:
        return WINDOWS[device]
    raise UserError(
        f"profile {profile!r} runs on device {device!r}, which has no runtime window; give the profile one in eval.py (window=(min_s, max_s))"
    )


def assess(
    runs: list[Run],
    repeat: Run,
    meaningful: float,
    previous: dict | None,
    alpha: float = stats.ALPHA,
    power: float = stats.POWER,
) -> tuple[list[Check], dict]:
    """The checks of the seed's requirements, and the figures of the calibration record (no date or commit)."""
    if len(runs) < 2:
        raise UserError(f"calibration needs at least 2 seeds for a spread, got {len(runs)}; use --seeds 3")
    first, profile, device = runs[0], runs[0].profile, runs[0].device
    everything = [*runs, repeat]
    for run in everything:
        if (run.profile, run.device) != (profile, device):
            raise UserError(
                f"calibration runs disagree on the profile: {run.profile}/{run.device} vs {profile}/{device}"
            )
    values = [r.value for r in runs]
    n, m, s = len(values), stats.mean(values), stats.std(values)
    rel = s / abs(m)
    mde = stats.min_detectable_effect(s, n, alpha, power)
    window = window_for(profile, device, first.window)
    seconds = [r.seconds for r in everything]
    checks = [
        Check(
            "runtime inside the window",
            f"{min(seconds):.1f}-{max(seconds):.1f} s a run",
            f"{window.min_seconds:.0f}-{window.max_seconds:.0f} s ({window.why})",
            all(window.min_seconds <= x <= window.max_seconds for x in seconds),
            "too slow: a smaller model, fewer tokens or fewer val_docs in eval.py's profile; too fast: more tokens",
        ),
        Check(
            "spread across seeds",
            f"mean {m:.6f}, std {s:.6f} ({rel:.3%}) over seeds {', '.join(str(r.seed) for r in runs)}",
            f"std < meaningful effect {meaningful:g}",
            s < meaningful,
            "the seeds disagree by more than the gain you hope to detect",
        ),
        Check(
            "minimum detectable effect",
            f"{mde:.6f} = (t[{1 - alpha:g}; {n - 1}] + t[{power:g}; {n - 1}]) * std * sqrt(1 + 1/{n})",
            f"< meaningful effect {meaningful:g} (one run vs the mean of {n}; alpha {alpha:g}, power {power:g})",
            mde < meaningful,
            "a single run cannot tell a meaningful gain from noise; more seeds shrink the t-quantiles, less noise shrinks std",
        ),
    ]
    delta = repeat.value - first.value
    if device == "cuda":
        deterministic = abs(delta) <= CUDA_REPEAT_TOLERANCE * abs(first.value)
        criterion = f"|difference| <= {CUDA_REPEAT_TOLERANCE:g} * value (CUDA kernels are not bit-exact)"
    else:
        deterministic = delta == 0
        criterion = "bit-identical (CPU), compared at full float precision"
    checks.append(
        Check(
            "determinism",
            f"seed {first.seed} twice: {first.value!r} then {repeat.value!r} (difference {delta:.3g})",
            criterion,
            deterministic,
            "fix every source of randomness to the seed (data order, init, dropout); on the CPU keep torch.use_deterministic_algorithms",
        )
    )
    hashes = sorted({r.val_hash for r in everything})
    before = previous.get("val_hash") if previous else None
    same_split = len(hashes) == 1 and before in (None, hashes[0])
    if len(hashes) > 1:
        figure = f"{len(hashes)} different hashes: {', '.join(hashes)}"
    else:
        figure = hashes[0] + ("" if before is None else f" (previous calibration: {before})")
    checks.append(
        Check(
            "fixed eval split",
            figure,
            f"one hash over all {len(everything)} runs"
            + ("" if before is None else ", equal to the previous calibration's"),
            same_split,
            "the validation split changed: restore DATA, DATA_SEED and val_docs in eval.py; rows made on another split are not comparable",
        )
    )
    record = {
        "threshold": mde,
        "mean": m,
        "std": s,
        "rel_std": rel,
        "n": n,
        "seeds": [r.seed for r in runs],
        "values": values,
        "repeat_value": repeat.value,
        "deterministic": deterministic,
        "val_hash": hashes[0] if len(hashes) == 1 else None,
        "runtime_s": max(seconds),
        "alpha": alpha,
        "power": power,
        "meaningful_effect": meaningful,
        "device": device,
        "passed": all(c.passed for c in checks),
    }
    return checks, record


def run_one(project: Project, seed: int, profile: str | None, budget: str) -> Run:
    """`python eval.py --seed SEED --kind calibration` in the root checkout; its JSON summary read back."""
    args = [
        "--seed",
        str(seed),
        "--kind",
        "calibration",
        "--description",
        f"calibration seed {seed}",
        "--budget",
        budget,
    ]
    if profile:
        args += ["--profile", profile]
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp) / "summary.json"
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "eval.py", *args, "--summary", str(summary)], cwd=project.root, stdout=subprocess.DEVNULL
        )
        seconds = time.perf_counter() - started
        figures = json.loads(summary.read_text())[-1] if summary.exists() else {}
    if done.returncode != 0 or not figures.get("value_exact"):
        why = figures.get("error") or f"exit code {done.returncode}, no summary"
        raise UserError(
            f"calibration run of seed {seed} failed ({why}); the baseline must run cleanly: fix it, check with `just smoke`, then calibrate again"
        )
    return Run(
        int(figures["seed"]),
        float(figures["value_exact"]),
        seconds,
        figures["val_hash"],
        figures["profile"],
        figures["device"],
        figures.get("window"),
    )


def check_committed(project: Project, config: Config) -> None:
    from autoresearch import fingerprints

    if fingerprints.code_hash(project.root, config) != fingerprints.code_hash_at(project.root, "HEAD", config):
        raise UserError(
            f"calibration must describe committed code, but the agent's code in {project.root} has uncommitted changes; "
            "commit them (or `git stash`), then calibrate again"
        )


def write_record(project: Project, profile: str, entry: dict) -> None:
    """Set this profile's entry in .autoresearch/calibration.json; other profiles' entries are kept."""
    from filelock import FileLock

    from autoresearch.fileio import write_atomic
    from autoresearch.signing import sign

    path = project.calibration
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = entry | {"sig": sign(project, entry_text(profile, entry))}
    with FileLock(str(path) + ".lock"):
        record = json.loads(path.read_text()) if path.exists() else {}
        record.setdefault("profiles", {})[profile] = entry
        write_atomic(path, json.dumps(record, indent=2, sort_keys=True) + "\n")


def entry_text(profile: str, entry: dict) -> str:
    """What a calibration entry's signature covers: the profile and every field but the signature."""
    return json.dumps({"profile": profile, **{k: v for k, v in entry.items() if k != "sig"}}, sort_keys=True)


def calibrate(
    project: Project, config: Config, seeds: int = 3, profile: str | None = None, budget: str = "units"
) -> int:
    """Run, check, print, record; 0 when every check passes, else 1."""
    from autoresearch import fingerprints, journal, repo

    if seeds < 2:
        raise UserError(f"--seeds {seeds}: a spread needs at least 2 seeds (3 is the default)")
    if profile == "smoke":
        print(
            "calibrate: smoke writes no results rows; its calibration checks the path, not the metric you will optimise"
        )
    meaningful = config.need_meaningful_effect()
    metric = config.metric.name
    check_committed(project, config)
    commit = repo.resolve(project.root, "HEAD") or "?"
    if project.in_worktree:
        print(f"calibrate: calibrating the root checkout {project.root}, not this worktree")
    order = [*range(seeds), 0]
    runs: list[Run] = []
    for i, seed in enumerate(order, start=1):
        what = "the repeat of seed 0" if i == len(order) else f"seed {seed}"
        print(
            f"calibrate: run {i}/{len(order)}: {what} at {commit} (profile {profile or 'eval.py default'})", flush=True
        )
        runs.append(run_one(project, seed, profile, budget))
        print(f"calibrate: {metric} {runs[-1].value:.6f} in {runs[-1].seconds:.1f} s", flush=True)
    name = runs[0].profile
    previous = stats.load_calibration(project.calibration, name)
    checks, figures = assess(runs[:-1], runs[-1], meaningful, previous)
    entry = figures | {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "code": fingerprints.code_hash(project.root, config),
        "budget": budget,
        "runtimes_s": [r.seconds for r in runs],
        "checks": {c.requirement: c.passed for c in checks},
    }
    print_table(name, metric, checks, runs)
    write_record(project, name, entry)
    journal.add_entry(project, "research", *journal_text(name, metric, entry, checks))
    print(
        f"calibrate: recorded in {project.calibration} and {project.research_journal.name} (commit both on main); "
        f"verdicts of profile {name} now use threshold {entry['threshold']:.6f}"
    )
    if entry["passed"]:
        return 0
    print_remedies(checks)
    return 1


def journal_text(profile: str, metric: str, e: dict, checks: list[Check]) -> tuple[str, str, str, str]:
    """(title, slug, observation, inference) of the RESEARCH_JOURNAL.md entry."""
    verdict = "pass" if e["passed"] else "FAIL"
    title = f"calibrate {profile}: {verdict}, std {e['std']:.4f}, threshold {e['threshold']:.4f}"
    observation = (
        f"Baseline at {e['commit']}, profile {profile}, seeds {e['seeds']}: {metric} mean {e['mean']:.6f}, "
        f"std {e['std']:.6f} ({e['rel_std']:.3%}); minimum detectable effect {e['threshold']:.6f} "
        f"(alpha {e['alpha']:g}, power {e['power']:g}); repeat of seed {e['seeds'][0]}: {e['repeat_value']!r} "
        f"({'deterministic' if e['deterministic'] else 'NOT deterministic'}); slowest run {e['runtime_s']:.0f} s; "
        f"val_hash {e['val_hash']}."
    )
    failed = [c.requirement for c in checks if not c.passed]
    if failed:
        inference = f"The metric is not yet sound on {profile}: {', '.join(failed)} failed. Fix the metric (META_MODE) before experiments."
    else:
        inference = (
            f"The metric is sound on {profile}: a single run gaining more than {e['threshold']:.4f} over the mean of its parent's rows "
            f"is a real gain (the verdict threshold); the meaningful effect is {e['meaningful_effect']:g}."
        )
    return title, "", observation, inference


def print_table(profile: str, metric: str, checks: list[Check], runs: list[Run]) -> None:
    from autoresearch import ui

    per_run = ui.table("run", "seed", metric, "seconds", "val_hash", title=f"calibration runs: profile {profile}")
    for i, r in enumerate(runs, start=1):
        per_run.add_row(
            str(i) + (" (repeat)" if i == len(runs) else ""),
            str(r.seed),
            f"{r.value:.6f}",
            f"{r.seconds:.1f}",
            r.val_hash,
        )
    ui.show(per_run)
    table = ui.table(
        "requirement", "figure", "criterion", "result", title=f"metric design requirements: profile {profile}"
    )
    for c in checks:
        table.add_row(c.requirement, c.figure, c.criterion, "[green]pass[/green]" if c.passed else "[red]FAIL[/red]")
    ui.show(table)


def print_remedies(checks: list[Check]) -> None:
    print("calibrate: FAILED. What failed, and why:")
    for c in checks:
        if not c.passed:
            print(f"  - {c.requirement}: {c.remedy}")
    print("The seed's remedies for a noisy metric (META_MODE work on eval.py, then `just calibrate` again):")
    for remedy in REMEDIES:
        print(f"  - {remedy}")
