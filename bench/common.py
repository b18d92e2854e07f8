"""Shared pieces of the benchmarks: a throwaway project, timed subprocesses, the problem as eval.py states it, the figures table.

Not a benchmark itself. Every benchmark runs real commands, with this interpreter (`sys.executable`)
and this checkout's package, in a throwaway project made from this checkout's template files (as
`autoresearch init` would render them: no research, empty records), so the real record (results.tsv,
journals, ideas, the signing key) is never touched. Usage (in a benchmark):

    from common import Figure, new_project, report, timed
    with tempfile.TemporaryDirectory() as tmp:
        proj = new_project(Path(tmp) / "proj")
        seconds, out = timed(cli("status"), proj)
    report("CLI start-up", [Figure("status", seconds, "s", "<= 0.25 s", seconds <= 0.25)], args.out, "cli_startup")
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
PY = sys.executable
OUT = Path(os.environ.get("BENCH_OUT", REPO / "bench" / "out"))
"""Where each benchmark writes <name>.json (git-ignored); --out overrides it."""

if str(SRC) not in sys.path:
    sys.path.insert(
        0, str(SRC)
    )  # this checkout's package, installed or not (eval.py runs isolated: it needs it installed)

# Never copied into a throwaway project when the checkout has no .git to ask (a copy of the tree on a lent GPU machine).
_SKIP_NAMES = {
    ".git",
    ".venv",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "out",
    "build",
    "dist",
    "7_runs",
    ".whl",
    ".gl",
}
_DROPPED_ENV = ("META_MODE", "AUTORESEARCH_LABEL", "AUTORESEARCH_THREADS", "FORCE_COLOR", "CLAUDECODE")


def env(**extra: str) -> dict[str, str]:
    """The environment of every subprocess: this checkout's src/ first, plain output, no META_MODE, label or thread override.

    AUTORESEARCH_KEYS comes from os.environ: new_project points it at the throwaway project's own folder."""
    path = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)
    base = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
    return base | {"PYTHONPATH": path, "NO_COLOR": "1"} | extra


def isolated(**extra_env: str) -> None:
    """Rerun this script as `python -I` (as eval.py reruns itself), with extra environment, unless it is already.

    Needed by the benchmarks that read eval.py's problem in-process: eval.py reruns any process that imports it
    without -I. The script must put its own folder on sys.path itself (-I leaves it out)."""
    if not sys.flags.isolated:
        os.execve(PY, [PY, "-I", *sys.argv], os.environ | extra_env)


def cli(*args: str) -> list[str]:
    """The command line of `autoresearch ARGS` as `just` runs it: the console script beside this python, else -m."""
    script = Path(PY).parent / "autoresearch"
    return [str(script), *args] if script.exists() else [PY, "-m", "autoresearch", *args]


def _template_files() -> list[str]:
    """This checkout's files that a rendering of the template takes (scaffold.taken), records included."""
    from autoresearch.scaffold import RECORDS, taken

    if (REPO / ".git").exists():
        listed = subprocess.run(
            ["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=REPO, check=True, capture_output=True, text=True
        )
        files = [rel for rel in listed.stdout.split("\0") if rel and (REPO / rel).is_file()]
    else:
        files = []
        for folder, dirs, names in os.walk(REPO):
            dirs[:] = [d for d in dirs if d not in _SKIP_NAMES and not d.endswith(".egg-info")]
            files += [
                (Path(folder) / n).relative_to(REPO).as_posix() for n in names if not n.endswith((".lock", ".pyc"))
            ]
    return sorted(rel for rel in files if taken(rel) or rel in RECORDS)


def new_project(dest: Path) -> Path:
    """A project in dest from this checkout's template files with empty records, committed on main.

    Like `autoresearch init`, but from the working files (so uncommitted changes are measured) and without
    needing .git (a copy of the tree on a lent GPU machine); it needs the git binary, as eval.py does. The
    signing key of its rows goes to dest/../keys (AUTORESEARCH_KEYS, set for this process and its children)."""
    from autoresearch.journal import JOURNALS, parse
    from autoresearch.results import header

    for rel in _template_files():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, dest / rel, follow_symlinks=False)
    (dest / "results.tsv").write_text(header(metric_name(dest)))
    for name in JOURNALS.values():
        head, _ = parse((dest / name).read_text())
        (dest / name).write_text(head.rstrip("\n") + "\n")
    os.environ["AUTORESEARCH_KEYS"] = str(dest.parent / "keys")
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.name", "autoresearch bench"],
        ["config", "user.email", "bench@localhost"],
        ["add", "-A"],
        ["commit", "-q", "--no-verify", "-m", "bench: throwaway project from the template"],
    ):
        subprocess.run(["git", *args], cwd=dest, check=True, capture_output=True)
    return dest


def metric_name(root: Path) -> str:
    import tomllib

    return tomllib.loads((root / "pyproject.toml").read_text())["tool"]["autoresearch"].get("metric", "val_bpb")


def run(cmd: list[str], cwd: Path, check: bool = True, **extra_env: str) -> subprocess.CompletedProcess:
    """Run a command to completion, output captured; with check, a failure raises with its output's tail."""
    out = subprocess.run(cmd, check=False, cwd=cwd, env=env(**extra_env), capture_output=True, text=True)
    if check and out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {out.returncode}:\n{out.stdout[-1500:]}\n{out.stderr[-2000:]}")
    return out


def timed(cmd: list[str], cwd: Path, **extra_env: str) -> tuple[float, subprocess.CompletedProcess]:
    """Wall seconds of one run of cmd (not checked: the caller decides what a failure means)."""
    t0 = time.perf_counter()
    out = run(cmd, cwd, check=False, **extra_env)
    return time.perf_counter() - t0, out


def median(values: list[float]) -> float:
    return statistics.median(values)


def last_line(out: subprocess.CompletedProcess) -> str:
    """The last line of a failed command's stderr (or stdout), for a one-line figure."""
    lines = (out.stderr.strip() or out.stdout.strip()).splitlines()
    return (lines[-1] if lines else f"exit {out.returncode}")[:160]


# ------------------------------------------------------------------------------------------- the record


def sample_rows(
    n: int, metric: str = "val_bpb", ideas: int = 12, champion: str = "c0de00000000"
) -> list[dict[str, Any]]:
    """n well-formed rows of a night's record: baselines of the champion's code and experiments of several
    ideas, mostly cpu with some cuda, a calibration run in every 20, a crash (exception, timeout, nan) in every 10."""
    reasons = ("exception", "timeout", "nan")
    rows = []
    for i in range(n):
        crash = i % 10 == 9
        baseline = i % 5 == 0
        idea = "" if baseline else f"idea-{i % ideas}"
        profile = "cuda" if i % 7 == 6 else "cpu"
        value = None if crash else round(1.08 + 0.1 * ((i * 7919) % 1000) / 1000, 6)
        code = champion if baseline else f"{(i * 2654435761) % 16**12:012x}"
        verdict = "" if crash else "baseline" if baseline else ("better", "within-noise", "worse")[i % 3]
        rows.append(
            {
                "commit": f"{(i * 40503) % 16**7:07x}",
                metric: value,
                "memory_gb": 0.56,
                "status": "crash" if crash else "ok",
                "description": "baseline" if baseline else f"try {i} of idea {i % ideas}",
                "timestamp": f"2026-11-30T{(i // 60) % 24:02d}:{i % 60:02d}:00+00:00",
                "branch": f"exp/{idea}" if idea else "main",
                "idea": idea,
                "seed": i % 3,
                "profile": profile,
                "budget": "units",
                "used": 1_048_576,
                "unit": "tokens",
                "optimum": 0.959247,
                "gap": None if value is None else value - 0.959247,
                "training_seconds": 98.4,
                "total_seconds": 103.1,
                "params": 851_968,
                "steps": 512,
                "threads": 2,
                "reason": reasons[i % 3] if crash else "",
                "verdict": verdict,
                "code": code,
                "parent": champion,
                "label": "",
                "kind": "calibration" if i % 20 == 10 else "experiment",
                "sandbox": "landlock-abi6",
                "run": f"7_runs/2026-11-30_{idea or 'main'}_s{i % 3}",
                "eval_hash": "eeeeeeeeeeee",
                "val_hash": "84f88932ac02",
                "data": "synthetic (seed 1337)",
            }
        )
    return rows


def append_rows(root: Path, rows: list[dict[str, Any]]) -> None:
    """Append rows as the eval process does: signed, under the lock, one write each."""
    from autoresearch import results
    from autoresearch.paths import Project

    project, metric = Project.find(root), metric_name(root)
    for row in rows:
        results.append(project, metric, row)


def champion_code(root: Path) -> str:
    from autoresearch import fingerprints
    from autoresearch.config import Config
    from autoresearch.paths import Project

    project = Project.find(root)
    return fingerprints.code_hash(project.root, Config.load(project))


# ------------------------------------------------------------------------------------------- the problem


@dataclass
class Problem:
    """eval.py's default problem for one profile, as an eval hands it to train.py: the budget, the sampler, the data."""

    profile: Any
    """eval.py's Profile, with the budget of the benchmark"""
    budget: Any
    """the Budget train.py sees"""
    sampler: Any
    data: Any
    """lm.LMData: train stream, validation docs, floor"""
    frozen_eval: Any
    """eval.py as a module"""


def load_problem(root: Path, profile_name: str, units: int | None = None) -> Problem:
    """What eval.py's main() builds for `profile_name` (its budget replaced by `units` when given), in this process.

    Only for the language-modelling problem eval.py ships (DATA, DATA_SEED, SEQ_LEN, VAL_DOCS, PROFILES, lm.load,
    lm.windows). The process must be isolated (see `isolated`), or importing eval.py reruns it."""
    import importlib.util

    from autoresearch.problems import lm

    assert sys.flags.isolated, "call common.isolated() first: importing eval.py reruns a process that is not isolated"
    spec = importlib.util.spec_from_file_location("frozen_eval", root / "eval.py")
    assert spec is not None and spec.loader is not None
    frozen_eval = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(frozen_eval)
    missing = [n for n in ("DATA", "DATA_SEED", "SEQ_LEN", "VAL_DOCS", "PROFILES") if not hasattr(frozen_eval, n)]
    if missing:
        raise SystemExit(
            f"bench: {root / 'eval.py'} has no {', '.join(missing)}: these benchmarks need the language-modelling eval.py"
        )
    profile = frozen_eval.PROFILES[profile_name]
    if units is not None:
        profile = dataclasses.replace(profile, budget=units)
    seq_len, val_docs = (
        frozen_eval.SEQ_LEN[profile_name] if isinstance(frozen_eval.SEQ_LEN, dict) else frozen_eval.SEQ_LEN,
        frozen_eval.VAL_DOCS[profile_name] if isinstance(frozen_eval.VAL_DOCS, dict) else frozen_eval.VAL_DOCS,
    )
    data = lm.load(frozen_eval.DATA, frozen_eval.DATA_SEED, seq_len, val_docs, profile.budget, root)
    budget = profile.for_run("units", {"seq_len": data.seq_len, "vocab_size": lm.VOCAB})
    return Problem(profile, budget, lm.windows(data), data, frozen_eval)


def import_train(root: Path) -> Any:
    """The project's train.py as a module (its folder first on sys.path, as the training process does)."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    import train

    return train


def quiet_training_log() -> None:
    """train.py's progress lines (loguru) would bury the table: warnings only."""
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")


def run_eval(
    root: Path, *args: str, units: int | None = None, phases: Path | None = None, **extra_env: str
) -> tuple[float, list[dict[str, Any]], subprocess.CompletedProcess]:
    """`python bench/timed_eval.py ARGS` in the project (eval.py, its budget replaced by `units` when given):
    (process wall seconds, the trials' JSON summaries, the process). With `phases`, the eval writes its phase timings there."""
    summary = root.parent / f"summary-{time.monotonic_ns()}.json"
    bench_env = extra_env | ({"AUTORESEARCH_BENCH_UNITS": str(units)} if units is not None else {})
    bench_env |= {"AUTORESEARCH_BENCH_PHASES": str(phases)} if phases is not None else {}
    launched = time.perf_counter()
    seconds, out = timed(
        [PY, "bench/timed_eval.py", *args, "--summary", str(summary)],
        root,
        AUTORESEARCH_BENCH_LAUNCHED=repr(launched),
        **bench_env,
    )
    trials = json.loads(summary.read_text()) if summary.exists() else []
    summary.unlink(missing_ok=True)
    return seconds, trials, out


def eval_failure(out: subprocess.CompletedProcess, trials: list[dict[str, Any]]) -> str:
    """One line on why an eval did not give a number."""
    if trials and trials[-1].get("error"):
        return f"{trials[-1].get('reason')}: {trials[-1]['error']}"[:200]
    return f"exit {out.returncode}: {last_line(out)}"


# ------------------------------------------------------------------------------------------- the table


@dataclass
class Figure:
    """One measured figure: its value, the target it is held to (if any) and whether it meets it."""

    name: str
    value: float | int | str
    unit: str = ""
    target: str = ""
    ok: bool | None = None
    """None: a figure shown for information, without a target."""

    def shown(self) -> str:
        if isinstance(self.value, bool):
            text = str(self.value).lower()
        elif isinstance(self.value, float):
            v = self.value
            text = f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
        elif isinstance(self.value, int):
            text = f"{self.value:,}"
        else:
            text = str(self.value)
        return f"{text} {self.unit}".strip()


def verdict(ok: bool | None) -> str:
    return "" if ok is None else "pass" if ok else "FAIL"


def _shown(path: Path) -> str:
    path = path.resolve()
    return path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else str(path)


def busy_warning() -> str | None:
    """A warning when other work loads the machine: every timing here would be skewed by it."""
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    if load > 0.5 * cpus:
        return f"load average {load:.1f} on {cpus} CPUs before starting: other work will skew these timings"
    return None


def console() -> Any:
    from rich.console import Console

    return Console() if Console().is_terminal else Console(width=160)  # piped (just bench | tee): no wrapping at 80


def report(title: str, figures: list[Figure], out: Path, name: str, notes: list[str] | tuple[str, ...] = ()) -> None:
    """Print the figures as a table (value, target, pass/FAIL side by side) and write out/<name>.json."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("figure", no_wrap=True)
    table.add_column("value", justify="right")
    table.add_column("target", no_wrap=True)
    table.add_column("", no_wrap=True)
    for f in figures:
        style = "" if f.ok is None else "green" if f.ok else "bold red"
        table.add_row(f.name, f.shown(), f.target, verdict(f.ok), style=style)
    c = console()
    c.print(table)
    omp = os.environ.get("OMP_NUM_THREADS")
    machine = f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (1 min) at the end" + (
        f"; OMP_NUM_THREADS={omp} in the environment" if omp else ""
    )
    for note in [*notes, machine]:
        c.print(f"  note: {note}", highlight=False, soft_wrap=True)
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": name,
        "title": title,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", _shown(Path(sys.argv[0])), *sys.argv[1:]]),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],  # other work on the machine skews every figure
        "omp_num_threads": omp,
        "figures": [asdict(f) for f in figures],
        "notes": list(notes),
    }
    (out / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
