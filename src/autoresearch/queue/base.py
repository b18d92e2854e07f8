"""What every queue engine shares: the Job record, the Backend interface, labels, the GPUs of
this machine and the JSON-lines ledgers some adapters keep. The settings are config.QueueSettings.

An adapter per engine (pueue.py, tsp.py, slurm.py) implements `Backend`; commands.py drives them.
Usage:

    from autoresearch.queue.base import parse_label
    question, hypothesis = parse_label("Q: does X help? H: -0.02 bpb")
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from autoresearch.errors import UserError

if TYPE_CHECKING:
    from autoresearch.config import QueueSettings
    from autoresearch.paths import Project

ENGINES = ("pueue", "tsp", "slurm")
"""In the order `backend = "auto"` tries them: the first that can take jobs here is used."""
BACKENDS = ("auto", *ENGINES)
STATES = ("queued", "stashed", "running", "paused", "done", "failed", "cancelled", "unknown")
"""Every engine's states map onto these; the engine's own word stays in Job.detail."""
FINISHED = ("done", "failed", "cancelled")
LABEL_ENV = "AUTORESEARCH_LABEL"
"""The job's environment carries its label here; eval.py writes it into the row's label column."""

_LABEL = re.compile(r"\s*Q:\s*(?P<q>.*?)\s*\bH:\s*(?P<h>.*?)\s*", re.DOTALL)


@dataclass
class Job:
    """One queued, running or finished job, as an engine reports it."""

    id: str
    label: str
    state: str
    """one of STATES"""
    start: datetime | None
    """when it started running (timezone-aware); None while queued"""
    runtime: float | None
    """seconds it has run (so far, or in all once finished)"""
    command: str
    """the user's command, without the environment wrapper the queue added"""
    end: datetime | None = None
    detail: str = ""
    """the engine's own word for the state: Failed(1), TIMEOUT, ..."""
    where: str = ""
    """pueue group (gpu0, default), Slurm partition, or task-spooler's checkout (main or a worktree's slug)"""

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


class Backend(ABC):
    """A queue engine. Job ids are the engine's own (pueue task id, Slurm job id)."""

    name: ClassVar[str]

    def __init__(self, project: Project, settings: QueueSettings):
        self.project = project
        self.settings = settings

    @abstractmethod
    def installed(self) -> bool:
        """Whether the engine's commands are on PATH."""

    @abstractmethod
    def unavailable(self) -> str | None:
        """Why jobs cannot be queued right now (not installed, daemon down), or None when they can."""

    @abstractmethod
    def add(self, command: list[str], label: str, gpu: str, cwd: Path) -> str:
        """Queue `command` (run in `cwd` with LABEL_ENV=label) and return the job id."""

    @abstractmethod
    def status(self) -> list[Job]:
        """This project's jobs, oldest first."""

    @abstractmethod
    def log(self, job_id: str) -> int:
        """Print the job's output so far."""

    @abstractmethod
    def follow(self, job_id: str) -> int:
        """Print the job's output as it grows, until the job ends."""

    @abstractmethod
    def wait(self, job_ids: list[str]) -> list[Job]:
        """Block until the jobs (all of this project's unfinished jobs if none are given) end; return them."""

    @abstractmethod
    def kill(self, job_id: str) -> str:
        """Stop a running job or drop a queued one; return what was done, in words."""

    def job(self, job_id: str) -> Job:
        for job in self.status():
            if job.id == str(job_id):
                return job
        raise UserError(f"{self.name}: no job {job_id} of this project; `autoresearch queue status` lists them")


def parse_label(label: str) -> tuple[str, str]:
    """(question, hypothesis) from 'Q: <question> H: <hypothesis>'; UserError otherwise.

    Quotes, $, backslashes and the like are kept verbatim (no shell reads a label). A tab, a
    newline or another control character is refused: results.tsv is one row per line with tabs
    between cells, so the row would hold another label than the queue, and the job would not
    find its row.
    """
    control = sorted({repr(c)[1:-1] for c in label if ord(c) < 32 or ord(c) == 127})
    if control:
        raise UserError(
            f"label holds {', '.join(control)}: results.tsv keeps a row on one line with tabs between cells, "
            "so the row could not carry it as written; write the label on one line with spaces"
        )
    m = _LABEL.fullmatch(label)
    if not m or not m["q"] or not m["h"]:
        raise UserError(
            f"label {label!r} does not read 'Q: <question> H: <hypothesis>'; "
            'e.g. --label "Q: does a rotary base of 50k help? H: -0.01 bpb"'
        )
    return m["q"], m["h"]


def parse_gpu(gpu: str) -> str:
    """'auto', 'none' or a GPU index as a string; UserError otherwise."""
    if gpu in ("auto", "none") or (gpu.isdigit() and gpu == str(int(gpu))):
        return gpu
    raise UserError(f"--gpu {gpu!r}: expected auto, none or a GPU index such as 0")


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    """Run an engine command; UserError with its own message when it fails."""
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        said = (result.stderr.strip() or result.stdout.strip()).splitlines()
        raise UserError(
            f"`{' '.join(args[:3])}` failed (exit {result.returncode}): {said[-1] if said else 'no message'}"
        )
    return result


def which(binary: str) -> str | None:
    return shutil.which(binary)


def gpus_from_nvidia_smi(listing: str) -> list[int]:
    """GPU indices from `nvidia-smi -L` ('GPU 0: NVIDIA H200 (UUID: ...)'); MIG lines are not GPUs."""
    found = []
    for line in listing.splitlines():
        head, _, _ = line.partition(":")
        if head.startswith("GPU ") and head[4:].strip().isdigit():
            found.append(int(head[4:]))
    return found


def detect_gpus() -> list[int]:
    """This machine's GPU indices, from `nvidia-smi -L`; [] without nvidia-smi."""
    if not which("nvidia-smi"):
        return []
    result = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
    return gpus_from_nvidia_smi(result.stdout) if result.returncode == 0 else []


def append_jsonl(path: Path, record: dict) -> None:
    """Append one JSON line to a ledger, under a file lock, in one write."""
    from filelock import FileLock

    data = (json.dumps(record) + "\n").encode()
    with FileLock(str(path) + ".lock"):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)


def read_jsonl(path: Path) -> list[dict]:
    """A ledger's records ([] when it does not exist); UserError naming a line that is not JSON."""
    if not path.exists():
        return []
    records = []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            raise UserError(f"{path} line {n}: not JSON; delete the line (the job itself is unaffected)") from None
    return records


def ignored_dir(path: Path) -> Path:
    """Make the queue's folder of job output and ledgers, with a .gitignore that keeps it out of git."""
    path.mkdir(parents=True, exist_ok=True)
    ignore = path / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# job output, sockets and ledgers of `autoresearch queue`: not part of the record\n*\n")
    return path
