"""The eval process: the steps eval.py calls, and everything that counts.

eval.py (FROZEN) reads as a procedure over these steps:

    run = start(METRIC, PROFILES)                # the command line, the record's state, the code's lineage
    run.set_data(note, val_hash, files)          # what the validation split is; files the trainer may not read
    for trial in run.trials():                   # one per seed; whatever fails inside becomes its crash row
        with trial:                              # on exit: the row (signed, appended), the run folder, the summary
            model = trial.train(sampler, **spec) # the confined training process, under the budget
            outputs = model.predict(inputs, out_shape)
            trial.score(metric_value, optimum=...)

The training process (child.py) runs the agent's code; this process never imports it. It keeps the
clock and the cap, hands out every batch and counts it, computes the metric from the outputs it
receives, runs the checks and writes the row. Nothing the training process does to itself reaches
any of that.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np

from autoresearch import fingerprints, repo, results, signing, stats
from autoresearch.config import Config
from autoresearch.data import cache_dir
from autoresearch.errors import UserError
from autoresearch.evaluate import machine, runfolder, sandbox
from autoresearch.evaluate.budget import Budget, Profile
from autoresearch.evaluate.channel import (
    ArraySpec,
    Buffer,
    Channel,
    ChannelClosed,
    ChannelTimeout,
    ProtocolError,
    needed,
    pair,
)
from autoresearch.evaluate.samplers import Dispenser, Sampler
from autoresearch.evaluate.summary import print_summary
from autoresearch.metric import Metric
from autoresearch.paths import IDEAS, JOURNALS, REPORTS, RESEARCH_JOURNAL, RESULTS, RUNS, WORKTREES, Project

LABEL_ENV = "AUTORESEARCH_LABEL"
MAX_BATCH = 1 << 24
STARTUP_SECONDS = 300.0
"""How long the training process may take to start (import torch, confine itself, import train.py): a busy
machine makes imports slow, and the budget's cap counts training only."""
RECORD_NAMES = (RESULTS, RESEARCH_JOURNAL, ".autoresearch", ".git", IDEAS, REPORTS, WORKTREES, RUNS)
"""What the training process may not read in its checkout, besides the journals and the data files eval.py names."""
CHILD_ENV = ("PATH", "LANG", "LC_ALL", "CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "NVIDIA_VISIBLE_DEVICES", "TZ")
"""The only variables the training process inherits: no keys, no tokens, nothing of the agent's session."""


class Crash(Exception):
    """A trial that must end as a crash row with this reason (exception, nan, timeout, leak, output, sandbox, ...)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass
class EvalArgs:
    """Train the checkout's train.py under the profile's budget in a confined process, score it, print the summary, append a row."""

    profile: str | None = None
    """budget profile of eval.py; default: cuda when a GPU is visible, else cpu"""
    seed: int = 0
    """training seed (model init and batch order); the data and the split never change"""
    seeds: int = 1
    """run this many seeds (seed, seed+1, ...), one row each"""
    budget: Literal["units", "time"] = "units"
    """units: the profile's fixed number of training units (deterministic, comparable across machines).
    time: its fixed training time (karpathy's semantics: faster code trains on more)"""
    description: str = ""
    """what was tried; default: the last commit subject"""
    idea: str = ""
    """idea slug; default: taken from the exp/<slug> branch"""
    kind: Literal["experiment", "calibration"] = "experiment"
    """calibration rows are written by `autoresearch calibrate`"""
    threads: int | None = None
    """CPU threads of the training process; default: the cores idle at start (AUTORESEARCH_THREADS also sets it)"""
    verbose: bool = False
    """show the training log live (it always goes to the run folder's log.txt)"""
    summary: Path | None = None
    """also write every trial's summary as JSON to this file (calibrate, compare and keep read it)"""


def _fail(message: str) -> SystemExit:
    return SystemExit(f"eval.py: {message}")


def start(
    metric: Metric, profiles: dict[str, Profile], argv: list[str] | None = None, default: str | None = None
) -> Run:
    """Parse the command line and check everything that can be checked before training.

    The profile is --profile, else `default`, else cuda when a GPU is visible (and eval.py has one), else cpu."""
    import tyro

    sandbox.harden_parent()
    started = time.perf_counter()
    args = tyro.cli(EvalArgs, args=argv, prog="eval.py")
    main_file = getattr(sys.modules["__main__"], "__file__", None)
    checkout = Path(main_file).resolve().parent if main_file else Path.cwd()
    try:
        project = Project.find(checkout)
        config = Config.load(project)
    except UserError as e:
        raise _fail(str(e)) from None
    if config.metric != metric:
        raise _fail(
            f"eval.py's metric is {metric.describe()}, but [tool.autoresearch] in pyproject.toml says {config.metric.describe()}; "
            "make them agree (both are FROZEN: META_MODE work)"
        )
    name = args.profile or default or ("cuda" if "cuda" in profiles and _gpu_visible() else "cpu")
    if name not in profiles:
        raise _fail(f"--profile {name!r} is not one of {', '.join(profiles)}")
    profile = profiles[name]
    if profile.device == "cuda" and not _cuda():
        raise _fail(f"profile {name!r} needs a CUDA GPU and none is visible; use --profile cpu")
    if args.seeds < 1:
        raise _fail("--seeds must be at least 1")
    if args.threads is not None and args.threads < 1:
        raise _fail("--threads must be at least 1")
    try:
        results.load(project, config)  # a broken results.tsv is found now, not after minutes of training
    except UserError as e:
        raise _fail(f"{e} (found before training, so nothing was run)") from None
    return Run(metric, profile, args, project, config, started)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _gpu_visible() -> bool:
    """A quick look for a GPU (nvidia-smi), to pick the default profile without importing torch first."""
    import shutil

    return (
        shutil.which("nvidia-smi") is not None
        and subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0
    )


class Run:
    """One invocation of eval.py: its arguments, the code's lineage, and its trials."""

    def __init__(
        self, metric: Metric, profile: Profile, args: EvalArgs, project: Project, config: Config, started: float
    ):
        self.metric, self.profile, self.args, self.project, self.config = metric, profile, args, project, config
        self.clock = started
        checkout, main = project.checkout, config.main_branch
        self.eval_hash = fingerprints.frozen_hash(checkout, config)
        self.record_state = _record_state(project.results)
        self.branch = repo.branch(checkout)
        self.code = fingerprints.code_hash(checkout, config)
        head = repo.resolve(checkout, "HEAD") or "unborn"
        dirty = head != "unborn" and fingerprints.code_hash_at(checkout, "HEAD", config) != self.code
        self.commit = head + ("-dirty" if dirty else "")
        self.parent_commit = repo.merge_base(checkout, main, "HEAD") if repo.rev_exists(checkout, main) else None
        self.parent = fingerprints.code_hash_at(checkout, self.parent_commit, config) if self.parent_commit else ""
        self.subject = repo.subject(checkout) if head != "unborn" else ""
        here = checkout.resolve()
        record = {place / name for place in (checkout, project.root) for name in RECORD_NAMES}
        self.data_note, self.val_hash = "", ""
        self.denied = sorted(p for p in record if p.resolve() != here and p.resolve() not in here.parents)
        """what the training process may never read: the record (of the root and of this checkout), other worktrees, the data files"""
        self.codes: list[int] = []
        self.summaries: list[dict[str, Any]] = []
        self.interrupted = False

    @property
    def idea(self) -> str:
        return self.args.idea or (self.branch.removeprefix("exp/") if self.branch.startswith("exp/") else "")

    def set_data(self, note: str, val_hash: str, files: list[Path] | tuple[Path, ...] = ()) -> None:
        """Describe the data (for the summary and the row) and name the files the training process may not read."""
        self.data_note, self.val_hash = note, val_hash
        self.denied += [Path(f).resolve() for f in files]

    def trials(self) -> Iterator[Trial]:
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            for seed in range(self.args.seed, self.args.seed + self.args.seeds):
                if self.interrupted:
                    break
                yield Trial(self, seed)
        finally:
            signal.signal(signal.SIGTERM, previous)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        return max(self.codes, default=0)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def _record_state(path: Path) -> tuple[int, str]:
    """Size and hash of results.tsv, read under its lock, so never in the middle of an append."""
    if not path.exists():
        return 0, hashlib.sha256(b"").hexdigest()
    with results.lock(path):
        data = path.read_bytes()
    return len(data), hashlib.sha256(data).hexdigest()


def readable(roots: list[Path], denied: list[Path]) -> tuple[list[Path], list[Path]]:
    """The read roots minus the denied paths beneath them, as few rules as cover the rest (Landlock can
    only grant), and the folders split to do so, which stay listable (names only: imports list them)."""
    deny = {d.resolve() for d in denied}
    split: list[Path] = []

    def cover(folder: Path) -> list[Path]:
        split.append(folder)
        out: list[Path] = []
        for child in sorted(folder.iterdir()):
            real = child.resolve()
            if real in deny or child.name.endswith("_journal.md"):
                continue
            if real.is_dir() and any(real in d.parents for d in deny):
                out += cover(real)  # a symlink to such a folder is followed: the rule lands on its target
            else:
                out.append(child)
        return out

    out: list[Path] = []
    for root in roots:
        real = root.resolve()
        if real in deny:
            continue
        out += cover(real) if real.is_dir() and any(real in d.parents for d in deny) else [root]
    return list(dict.fromkeys(out)), list(dict.fromkeys(split))


def toolkit_only_runtime() -> list[Path]:
    """The toolkit's own data generators and problem steps: the training process needs neither, and the
    synthetic language's generator would let it make training data beyond its budget."""
    import autoresearch

    return [Path(autoresearch.__file__).parent / name for name in ("data", "problems", "examples")]


class Trial:
    """One seed: train in a confined child, let eval.py score the outputs, then write the row."""

    def __init__(self, run: Run, seed: int):
        self.run, self.seed = run, seed
        self.secret = secrets.randbits(62)
        """a seed only this process knows (fresh validation data for leak checks)"""
        self.value: float | None = None
        self.optimum: float | None = None
        self.facts: dict[str, Any] = {}
        self.extra: dict[str, Any] = {}
        """figures of eval.py's checks, for summary.json"""
        self.folder: Path = Path()
        self.process: subprocess.Popen[bytes] | None = None
        self.channel: Channel | None = None
        self.confinement = ""
        self.buffers: dict[str, Buffer] = {}
        self.budget: Budget | None = None
        self.units = self.steps = 0
        self.training_seconds: float | None = None
        self.scratch: Path | None = None
        self.log: IO[bytes] | None = None
        self.tee: threading.Thread | None = None

    @property
    def threshold(self) -> float | None:
        calibration = stats.load_calibration(self.run.project.calibration, self.run.profile.name)
        return None if calibration is None else float(calibration["threshold"])

    def __enter__(self) -> Trial:
        run = self.run
        self.folder = runfolder.create(run.project.runs, run.idea or run.branch or "detached", self.seed)
        self.threads, self.threads_why = machine.choose_threads(run.profile.device, run.args.threads)
        self.environment: dict[str, Any] = {}
        self.log = (self.folder / "log.txt").open("ab")
        code = fingerprints.code_files(repo.checkout_files(run.project.checkout), run.config)
        (self.folder / "diff.patch").write_text(runfolder.code_diff(run.project.checkout, run.parent_commit, code))
        if not run.args.verbose:
            print(
                f"eval: seed {self.seed}, profile {run.profile.name}: training; the log is in {self._rel(self.folder / 'log.txt')} (--verbose shows it live)",
                file=sys.stderr,
                flush=True,
            )
        return self

    def _rel(self, path: Path) -> str:
        return os.path.relpath(path, self.run.project.root) if self.run.project.root in path.parents else str(path)

    def note(self, text: str) -> None:
        """A line of the eval process's own in the run log."""
        assert self.log is not None
        self.log.write(f"[eval] {text}\n".encode())
        self.log.flush()

    # ------------------------------------------------------------------------------ training

    def train(self, sampler: Sampler, **spec: Any) -> RemoteModel:
        """Start the confined training process and serve it batches until it has trained; the model handle."""
        run = self.run
        if sampler.unit != run.profile.unit:
            raise Crash(
                "exception",
                f"eval.py: profile {run.profile.name} counts {run.profile.unit} but the sampler hands out {sampler.unit}",
            )
        self.budget = budget = run.profile.for_run(run.args.budget, spec)
        runfolder.write_json(self.folder, "budget.json", {"profile": run.profile.__dict__, "budget": budget.to_json()})
        self._spawn(budget)
        assert self.channel is not None
        # While the training process starts (it imports torch), this one does too: the two overlap.
        self.environment = machine.environment(run.profile.device, self.threads, self.threads_why)
        dispenser = Dispenser(sampler, budget, self.seed)
        hello = self._receive(max(budget.cap_seconds, STARTUP_SECONDS), "starting")
        if hello.get("op") != "hello":
            raise ProtocolError(f"expected hello, got {hello.get('op')!r}")
        self.confinement = str(hello.get("sandbox", "none"))
        self.note(f"training process {hello.get('pid')}: sandbox {self.confinement} ({hello.get('why', '')})")
        self.channel.send({"op": "go"})
        started = time.perf_counter()  # the cap counts from here: model set-up included
        while True:
            message = self._receive(budget.cap_seconds - (time.perf_counter() - started), "training")
            op = message.get("op")
            if op == "trained":
                self.training_seconds = time.perf_counter() - started
                self.facts = {k: message.get(k) for k in ("params", "flops_per_token", "cuda_peak_gb")}
                return RemoteModel(self)
            if op != "batch":
                raise ProtocolError(f"unexpected message {op!r} while training")
            size = message.get("size")
            if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_BATCH:
                raise ProtocolError(f"batch size {size!r}")
            batch = dispenser.next(size)
            self.units, self.steps = batch.units, batch.steps
            counts = {"units": batch.units, "steps": batch.steps, "progress": batch.progress}
            if batch.arrays is None:
                self.channel.send({"op": "end", **counts})
            else:
                self._send_arrays("batch", batch.arrays, {**counts, "slot": 0})
                dispenser.draw_ahead()  # while the trainer computes on this batch

    def _send_arrays(self, op: str, arrays: tuple[np.ndarray, ...], extra: dict[str, Any]) -> None:
        assert self.channel is not None
        fresh = self._buffer("batch", needed(list(arrays)))
        specs = self.buffers["batch"].write(list(arrays))
        message = {"op": op, "arrays": [s.to_json() for s in specs], **extra}
        self.channel.send(message, *([self.buffers["batch"]] if fresh else []))

    def _buffer(self, name: str, size: int) -> bool:
        """Make sure buffer `name` holds `size` bytes; True when a new one was made (it must be sent)."""
        current = self.buffers.get(name)
        if current is not None and current.size >= size:
            return False
        if current is not None:
            current.close()
        self.buffers[name] = Buffer.create(max(size, 1 << 16) * (1 if current is None else 2), f"autoresearch-{name}")
        return True

    def _spawn(self, budget: Budget) -> None:
        run = self.run
        self.scratch = Path(tempfile.mkdtemp(prefix="autoresearch-train-"))
        hidden = [
            *run.denied,
            *toolkit_only_runtime(),
            *[
                place / "src" / "autoresearch" / name
                for place in (run.project.checkout, run.project.root)
                for name in ("data", "problems", "examples")
            ],
        ]
        read, listable = readable([run.project.checkout, *sandbox.default_read_paths()], hidden)
        env = {k: os.environ[k] for k in CHILD_ENV if k in os.environ}
        scratch = str(self.scratch)
        env |= {
            "HOME": scratch,
            "TMPDIR": scratch,
            "AUTORESEARCH_SCRATCH": scratch,
            "XDG_CACHE_HOME": scratch,
            "TORCHINDUCTOR_CACHE_DIR": f"{scratch}/inductor",
            "TRITON_CACHE_DIR": f"{scratch}/triton",
            "MPLCONFIGDIR": scratch,
            "OMP_NUM_THREADS": str(self.threads),
            "MKL_NUM_THREADS": str(self.threads),
            "PYTHONUNBUFFERED": "1",
        }
        channel, theirs = pair()
        self.channel = channel
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-m", "autoresearch.evaluate.child", str(theirs.fileno()), str(os.getpid())],
            pass_fds=[theirs.fileno()],
            env=env,
            cwd=scratch,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        theirs.close()
        self.tee = threading.Thread(target=self._copy_log, daemon=True)
        self.tee.start()
        journals = [place / name for place in {run.project.root, run.project.checkout} for name in JOURNALS]
        protect = [*hidden, *journals, signing.key_dir(), cache_dir()]
        sandbox.check_protected(read, [self.scratch], protect)
        channel.send(
            {
                "op": "start",
                "checkout": str(run.project.checkout),
                "budget": budget.to_json(),
                "seed": self.seed,
                "threads": self.threads,
                "read": [str(p) for p in read],
                "write": [scratch],
                "protect": [str(p) for p in protect],
                "listable": [str(p) for p in listable],
            }
        )

    def _copy_log(self) -> None:
        assert self.process is not None and self.process.stdout is not None and self.log is not None
        fd = self.process.stdout.fileno()
        for chunk in iter(lambda: os.read(fd, 65536), b""):
            self.log.write(chunk)
            self.log.flush()
            if self.run.args.verbose:
                sys.stderr.buffer.write(chunk)
                sys.stderr.flush()

    def _receive(self, timeout: float, phase: str) -> dict[str, Any]:
        """The child's next message; a crash when it fails, dies, or passes the cap."""
        assert self.channel is not None and self.budget is not None
        try:
            message, _ = self.channel.recv(timeout=max(timeout, 0.0))
        except ChannelTimeout:
            raise self._timeout(phase) from None
        except ChannelClosed:
            raise self._died(phase) from None
        if message.get("op") == "error":
            raise self._child_error(message)
        return message

    def _timeout(self, phase: str) -> Crash:
        assert self.process is not None and self.budget is not None
        busy = machine.busy_report(exclude={os.getpid(), self.process.pid})
        self._kill()
        cap = self.budget.cap_seconds
        limit = max(cap, STARTUP_SECONDS) if phase == "starting" else cap
        what = (
            f"training passed the {cap:.0f} s wall-clock cap of profile {self.budget.profile}"
            if phase == "training"
            else f"the training process was still {phase} after {limit:.0f} s"
        )
        return Crash(
            "timeout",
            f"{what}; at the cap: {busy}, and it had {self.threads} thread(s) ({self.threads_why}). If the machine was busy, "
            "rerun when it is quiet (or lower --threads); if it was quiet, make each step cheaper, or stop when data.next_batch returns None",
        )

    def _died(self, phase: str) -> Crash:
        assert self.process is not None
        try:
            code = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._kill()
            code = self.process.wait()
        how = (
            f"was killed by {signal.Signals(-code).name}"
            + (" (often: out of memory)" if code == -signal.SIGKILL else "")
            if code < 0
            else f"exited with code {code}"
        )
        return Crash(
            "exception",
            f"the training process {how} while {phase}, without a word; its output is in {self._rel(self.folder / 'log.txt')}",
        )

    def _child_error(self, message: dict[str, Any]) -> Crash:
        kind, text, where = str(message.get("type")), str(message.get("message")), str(message.get("where") or "")
        located = f" ({where})" if where else ""
        if kind == "FloatingPointError":
            return Crash("nan", f"{text}{located}")
        if message.get("permission") and self.confinement != "none":
            return Crash(
                "sandbox",
                f"{kind}: {text}{located}: the training process may read only its code and the Python environment, and "
                "write only its scratch folder ($AUTORESEARCH_SCRATCH); it never sees the record or the data files",
            )
        return Crash("exception", f"{kind}: {text}{located}")

    def _kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    # ------------------------------------------------------------------------------ scoring

    def score(self, value: float, optimum: float | None = None) -> None:
        """The trial's metric, computed by eval.py from the outputs it received."""
        value = float(value)
        if not math.isfinite(value):
            raise Crash("nan", f"{self.run.metric.name} is {value}: the model made non-finite outputs or diverged")
        self.value, self.optimum = value, optimum

    # ------------------------------------------------------------------------------ the row

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: Any) -> bool:
        reason, message = "", ""
        if isinstance(error, Crash):
            reason, message = error.reason, str(error)
        elif isinstance(error, KeyboardInterrupt):
            reason, message = "interrupted", f"interrupted ({error or 'Ctrl-C'})"
            self.run.interrupted = True
        elif isinstance(error, ProtocolError):
            reason, message = "exception", f"the training process broke the protocol: {error}"
        elif error is not None:
            reason, message = "exception", f"eval.py: {type(error).__name__}: {error}"
        elif self.value is None:
            reason, message = "exception", "eval.py ended the trial without a score"
        if error is not None and not isinstance(error, (Crash, KeyboardInterrupt)):
            self.note("".join(traceback.format_exception(kind, error, tb)))
        memory = self._stop()
        tampered = self._tampered()
        if tampered:
            reason, message = "tamper", tampered
        if reason:
            self.value = None
        self.note(f"status {'crash: ' + reason if reason else 'ok'} {message}")
        row = self._row(reason, memory)
        written, problem = False, ""
        if self.run.profile.writes_row:
            try:
                line = results.append(self.run.project, self.run.metric.name, row)
                (self.folder / "row.tsv").write_text(line)
                written = True
            except (OSError, UserError) as e:
                problem = f"the row was NOT written: {e}"
        figures = self._figures(row, message, written, problem)
        runfolder.write_json(self.folder, "summary.json", figures)
        runfolder.write_json(
            self.folder,
            "environment.json",
            self.environment | {"load_at_end": machine.load(), "gpu_processes_at_end": machine.gpu_processes()},
        )
        assert self.log is not None
        self.log.close()
        print_summary(figures, self.run.metric.name)
        self.run.summaries.append(figures)
        if self.run.args.summary is not None:
            runfolder.write_json(self.run.args.summary.parent, self.run.args.summary.name, self.run.summaries)
        self.run.codes.append(0 if not reason and not problem else 130 if reason == "interrupted" else 1)
        self.run.clock = time.perf_counter()
        return error is None or isinstance(error, Exception | KeyboardInterrupt)

    def _stop(self) -> float | None:
        """End the training process and free everything; the peak memory in GB."""
        memory = None
        if self.process is not None:
            memory = _peak_rss_gb(self.process.pid)
            if self.process.poll() is None and self.channel is not None:
                try:
                    self.channel.send({"op": "exit"})
                    self.process.wait(timeout=3)  # a trainer that ignores it is killed below
                except (ChannelClosed, subprocess.TimeoutExpired):
                    pass
            self._kill()
            if self.tee is not None:
                self.tee.join(timeout=10)
        if self.channel is not None:
            self.channel.close()
        for buffer in self.buffers.values():
            buffer.close()
        if self.scratch is not None:
            import shutil

            shutil.rmtree(self.scratch, ignore_errors=True)
        cuda = self.facts.get("cuda_peak_gb")
        return float(cuda) if isinstance(cuda, (int, float)) else memory

    def _tampered(self) -> str:
        """Why this run looks tampered with ('' if not): FROZEN files or results.tsv rewritten while it ran."""
        run = self.run
        if fingerprints.frozen_hash(run.project.checkout, run.config) != run.eval_hash:
            return "the FROZEN files (eval.py, the toolkit) changed on disk during the run; `autoresearch check` shows which, and how to restore them"
        size, digest = run.record_state
        if size:
            with results.lock(run.project.results), run.project.results.open("rb") as f:
                before = f.read(size)
            if len(before) < size or hashlib.sha256(before).hexdigest() != digest:
                return "results.tsv was rewritten during the run (evals only ever append to it); `autoresearch check`, then restore it from git"
        return ""

    def _row(self, reason: str, memory: float | None) -> dict[str, Any]:
        run, _budget = self.run, self.budget
        value = None if reason else self.value
        metric = run.metric
        gap = None if value is None or self.optimum is None else metric.distance(value, self.optimum)
        return {
            "commit": run.commit,
            metric.name: value,
            "memory_gb": memory,
            "status": "crash" if reason else "ok",
            "description": run.args.description or run.subject,
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "branch": run.branch,
            "idea": run.idea,
            "seed": self.seed,
            "profile": run.profile.name,
            "budget": run.args.budget,
            "used": self.units,
            "unit": run.profile.unit,
            "optimum": self.optimum,
            "gap": gap,
            "training_seconds": self.training_seconds,
            "total_seconds": time.perf_counter() - run.clock,
            "params": self.facts.get("params"),
            "steps": self.steps,
            "threads": self.threads,
            "reason": reason,
            "verdict": "" if value is None else self._verdict(value),
            "code": run.code,
            "parent": run.parent,
            "label": os.environ.get(LABEL_ENV, ""),
            "kind": run.args.kind,
            "sandbox": self.confinement or "none",
            "run": self._rel(self.folder),
            "eval_hash": run.eval_hash,
            "val_hash": run.val_hash,
            "data": run.data_note,
        }

    def _verdict(self, value: float) -> str:
        run = self.run
        record = results.load(run.project, run.config)
        parent_rows = record.of_code(run.parent, run.profile.name, run.args.budget)
        values = [v for v, h in zip(parent_rows[run.metric.name], parent_rows["val_hash"]) if h == run.val_hash]
        return stats.verdict(value, values, self.threshold, run.metric, own=run.code == run.parent)

    def _figures(self, row: dict[str, Any], message: str, written: bool, problem: str) -> dict[str, Any]:
        run = self.run
        training = self.training_seconds
        mfu = None
        flops, peak = self.facts.get("flops_per_token"), _bf16_peak()
        if training and flops and peak and run.profile.device == "cuda":
            mfu = 100 * float(flops) * self.units / training / peak
        return {
            **row,
            "error": message,
            "value_exact": None if row[run.metric.name] is None else repr(self.value),
            "mfu_percent": mfu,
            "threads_why": self.threads_why,
            "row_written": written,
            "row_problem": problem,
            "results": str(run.project.results),
            "writes_row": run.profile.writes_row,
            "device": run.profile.device,
            "window": run.profile.window,
            **self.extra,
        }


class RemoteModel:
    """The trained model, as the eval process sees it: inputs go in, outputs come back, checked."""

    def __init__(self, trial: Trial):
        self.trial = trial

    def predict(self, inputs: np.ndarray, out_shape: tuple[int, ...], chunk: int = 16) -> np.ndarray:
        """The model's outputs (float32, shape (len(inputs), *out_shape)) for every row of `inputs`."""
        return np.concatenate(list(self.predict_chunks(inputs, out_shape, chunk)))

    def predict_chunks(self, inputs: np.ndarray, out_shape: tuple[int, ...], chunk: int = 16) -> Iterator[np.ndarray]:
        """The outputs `chunk` rows at a time (memory stays bounded on a large validation set)."""
        trial = self.trial
        assert trial.channel is not None and trial.budget is not None
        for first in range(0, len(inputs), chunk):
            x = np.ascontiguousarray(inputs[first : first + chunk])
            out = ArraySpec(0, (len(x), *out_shape), "<f4")
            new_in = trial._buffer("inputs", x.nbytes)
            new_out = trial._buffer("outputs", out.nbytes)
            [spec] = trial.buffers["inputs"].write([x])
            message: dict[str, Any] = {"op": "predict", "x": spec.to_json(), "out": out.to_json()}
            sent = []
            if new_in:
                message["input_buffer"] = 1
                sent.append(trial.buffers["inputs"])
            if new_out:
                message["output_buffer"] = 1
                sent.append(trial.buffers["outputs"])
            trial.channel.send(message, *sent)
            reply = trial._receive(trial.budget.cap_seconds, "predicting")
            if reply.get("op") != "outputs":
                raise ProtocolError(f"expected outputs, got {reply.get('op')!r}")
            if reply.get("shape") != list(out.shape):
                raise Crash(
                    "output",
                    f"the model returned {reply.get('dtype')} outputs of shape {reply.get('shape')} for inputs of shape {list(x.shape)}; "
                    f"eval.py expects shape {list(out.shape)}: make model(x) return that",
                )
            values = trial.buffers["outputs"].view(out).copy()
            if not np.isfinite(values).all():
                bad = int(np.argwhere(~np.isfinite(values))[0][0]) + first
                raise Crash(
                    "nan",
                    f"the model's outputs are not finite (NaN or inf) for input row {bad}: the model diverged or overflows",
                )
            yield values


def _peak_rss_gb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1e6  # kB
    except OSError:
        pass
    return None


def _bf16_peak() -> float:
    """Dense bf16 tensor-core peak of the GPU (AUTORESEARCH_PEAK_FLOPS overrides), 0 when unknown."""
    if env := os.environ.get("AUTORESEARCH_PEAK_FLOPS"):
        return float(env)
    if not _cuda():
        return 0.0
    import torch

    name = torch.cuda.get_device_name()
    for key, peak in (("H200", 989e12), ("H100", 989e12), ("A100", 312e12), ("L40S", 362e12), ("4090", 165e12)):
        if key in name:
            return peak
    return 0.0
