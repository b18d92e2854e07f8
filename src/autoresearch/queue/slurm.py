"""The Slurm adapter: the same queue on a cluster, through sbatch, scontrol, sacct and scancel.

A job is `sbatch --parsable --job-name=autoresearch-<project> --comment=<label>
--output=<output>/slurm-%j.out --chdir=<checkout> --export=ALL [--partition] [--time] [--gres]
[extra flags] --wrap '<command>'`, with the settings of `[tool.autoresearch.queue.slurm]`. The
label reaches the job through sbatch's own environment (--export=ALL): a label may hold commas,
which `--export=ALL,AUTORESEARCH_LABEL=...` would split. Each submission is recorded in
`<output>/jobs.jsonl` (id, label, command, output file), so `status` lists this project's jobs
only, with their labels even after Slurm has forgotten them. Live jobs come from
`scontrol -o show job`; jobs that left slurmctld (MinJobAge) from `sacct`, or `sacct -c`
where only completion logging (JobCompType=jobcomp/filetxt) is on. Usage:

    backend = Slurm(project, settings); job_id = backend.add(["just", "eval"], label, "auto", cwd)
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autoresearch.config import SlurmSettings
from autoresearch.errors import UserError
from autoresearch.queue.base import LABEL_ENV, Backend, Job, append_jsonl, ignored_dir, read_jsonl, run, which

BINARIES = ("sbatch", "scontrol", "scancel", "sacct")
LEDGER = "jobs.jsonl"
SACCT_FIELDS = ("JobID", "State", "Start", "End", "ExitCode", "Partition")
_STATES = {
    "PENDING": "queued",
    "CONFIGURING": "queued",
    "REQUEUED": "queued",
    "REQUEUE_HOLD": "queued",
    "REQUEUE_FED": "queued",
    "RESV_DEL_HOLD": "queued",
    "SPECIAL_EXIT": "queued",
    "RUNNING": "running",
    "COMPLETING": "running",
    "STAGE_OUT": "running",
    "SIGNALING": "running",
    "RESIZING": "running",
    "SUSPENDED": "paused",
    "STOPPED": "paused",
    "COMPLETED": "done",
    "CANCELLED": "cancelled",
    "FAILED": "failed",
    "TIMEOUT": "failed",
    "NODE_FAIL": "failed",
    "OUT_OF_MEMORY": "failed",
    "BOOT_FAIL": "failed",
    "DEADLINE": "failed",
    "PREEMPTED": "failed",
    "REVOKED": "failed",
}


def sbatch_args(
    command: list[str], label: str, settings: SlurmSettings, gpu: str, output: Path, cwd: Path, job_name: str
) -> list[str]:
    if gpu not in ("auto", "none"):
        raise UserError(
            f"--gpu {gpu}: Slurm assigns the GPUs itself; use --gpu auto (GRES {settings.gres!r}) or --gpu none"
        )
    args = [
        "sbatch",
        "--parsable",
        f"--job-name={job_name}",
        f"--comment={label}",
        f"--output={output / 'slurm-%j.out'}",
        f"--chdir={cwd}",
        "--export=ALL",
    ]
    if settings.partition:
        args.append(f"--partition={settings.partition}")
    if settings.time:
        args.append(f"--time={settings.time}")
    if gpu == "auto" and settings.gres:
        args.append(f"--gres={settings.gres}")
    return [*args, *settings.extra, "--wrap", shlex.join(command)]


def parse_scontrol(line: str, comment: str = "") -> dict[str, str]:
    """The Key=Value fields of one `scontrol -o show job` line.

    Values may hold spaces (Comment, WorkDir), so a word without '=' joins the previous value.
    `comment`, when given, is cut out first: a label such as 'H: lr=3e-4 wins' would read as fields.
    """
    if comment:
        line = line.replace(f"Comment={comment}", "Comment=", 1)
    fields: dict[str, str] = {}
    key = None
    for word in line.strip().split(" "):
        k, eq, v = word.partition("=")
        if eq and k and k[0].isalpha():
            key, fields[k] = k, v
        elif key is not None:
            fields[key] += " " + word
    if comment:
        fields["Comment"] = comment
    return fields


def parse_sacct(text: str) -> dict[str, dict[str, str]]:
    """JobID -> scontrol-style fields from `sacct -P -n -o JobID,State,Start,End,ExitCode,Partition` (the last line of an id wins)."""
    jobs = {}
    for line in text.splitlines():
        cells = line.split("|")
        if len(cells) != len(SACCT_FIELDS) or not cells[0].isdigit():
            continue  # job steps (12.batch) and anything unexpected
        job_id, state, start, end, exit_code, partition = cells
        jobs[job_id] = {
            "JobId": job_id,
            "JobState": state.split()[0] if state else "",
            "StartTime": start,
            "EndTime": end,
            "ExitCode": exit_code,
            "Partition": partition,
        }
    return jobs


def _time(value: str | None) -> datetime | None:
    """Slurm prints local time without a zone; 'Unknown', 'None' and 'N/A' mean no time."""
    if not value or not value[0].isdigit():
        return None
    return datetime.fromisoformat(value).astimezone()


def fields_to_job(fields: dict[str, str], record: dict[str, Any], now: datetime | None = None) -> Job:
    """A Job from scontrol (or sacct) fields and the job's ledger record (label, command)."""
    word = fields.get("JobState", "")
    state = _STATES.get(word, "unknown")
    start = _time(fields.get("StartTime")) if state not in ("queued", "unknown") else None
    end = _time(fields.get("EndTime")) if state in ("done", "failed", "cancelled") else None
    detail = word
    if state == "queued" and fields.get("Reason", "None") != "None":
        detail += f" ({fields['Reason']})"
    if state == "failed" and fields.get("ExitCode"):
        detail += f" exit {fields['ExitCode']}"
    runtime = None
    if start is not None:
        runtime = max(0.0, ((end or now or datetime.now(UTC)) - start).total_seconds())
    return Job(
        id=record["id"],
        label=record["label"],
        state=state,
        start=start,
        runtime=runtime,
        command=record["command"],
        end=end,
        detail=detail,
        where=fields.get("Partition", ""),
    )


class Slurm(Backend):
    name = "slurm"
    poll_seconds = 1.0

    @property
    def output(self) -> Path:
        return self.project.root / self.settings.slurm.output

    @property
    def ledger(self) -> Path:
        return self.output / LEDGER

    def installed(self) -> bool:
        return all(which(b) for b in BINARIES)

    def unavailable(self) -> str | None:
        missing = [b for b in BINARIES if not which(b)]
        if missing:
            return (
                f"Slurm's {', '.join(missing)} not on PATH: queue from a login node of the cluster, "
                'or set [tool.autoresearch.queue] backend = "tsp" or "pueue" in pyproject.toml to queue on this machine'
            )
        ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True)
        if ping.returncode != 0 or "is UP" not in ping.stdout:
            said = (ping.stdout.strip() or ping.stderr.strip()).splitlines()
            return f"Slurm's controller is not answering (`scontrol ping`: {said[-1] if said else 'no answer'})"
        return None

    def add(self, command: list[str], label: str, gpu: str, cwd: Path) -> str:
        args = sbatch_args(
            command, label, self.settings.slurm, gpu, self.output, cwd, f"autoresearch-{self.project.root.name}"
        )
        ignored_dir(self.output)
        env = {**os.environ, LABEL_ENV: label}
        if gpu == "none":
            env["CUDA_VISIBLE_DEVICES"] = ""
        out = run(args, env=env, cwd=cwd).stdout.strip()
        job_id = out.split(";")[0]
        if not job_id.isdigit():
            raise UserError(f"sbatch --parsable printed {out!r}, expected a job id")
        record = {
            "id": job_id,
            "label": label,
            "command": shlex.join(command),
            "cwd": str(cwd),
            "output": str(self.output / f"slurm-{job_id}.out"),
            "submitted": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self._append(record)
        return job_id

    def _append(self, record: dict[str, Any]) -> None:
        append_jsonl(self.ledger, record)

    def records(self) -> list[dict[str, Any]]:
        return read_jsonl(self.ledger)

    def _live(self, records: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
        """Fields of the recorded jobs slurmctld still knows, from one `scontrol -o show job`."""
        labels = {r["id"]: r["label"] for r in records}
        out = run(["scontrol", "-o", "show", "job"]).stdout
        live = {}
        for line in out.splitlines():
            job_id = line.partition(" ")[0].removeprefix("JobId=")
            if job_id in labels:
                live[job_id] = parse_scontrol(line, labels[job_id])
        return live

    def _accounted(self, ids: list[str]) -> dict[str, dict[str, str]]:
        """Finished jobs from the accounting database (sacct), else from completion logging (sacct -c)."""
        for source in ("-X", "-c"):
            result = subprocess.run(
                ["sacct", source, "-P", "-n", "-j", ",".join(ids), "-o", ",".join(SACCT_FIELDS)],
                capture_output=True,
                text=True,
            )
            if result.returncode == 0:
                return parse_sacct(result.stdout)
        return {}

    def status(self) -> list[Job]:
        records = self.records()
        if not records:
            return []
        fields = self._live(records)
        gone = [r["id"] for r in records if r["id"] not in fields]
        if gone:
            fields |= self._accounted(gone)
        jobs = []
        for r in records:
            job = fields_to_job(fields.get(r["id"], {}), r)
            if r["id"] not in fields:
                job.detail = "gone from slurmctld, and neither sacct nor sacct -c knows it"
            jobs.append(job)
        return jobs

    def _record(self, job_id: str) -> dict[str, Any]:
        for r in self.records():
            if r["id"] == str(job_id):
                return r
        raise UserError(
            f"slurm: no job {job_id} of this project in {self.ledger}; `autoresearch queue status` lists them"
        )

    def log(self, job_id: str) -> int:
        path = Path(self._record(job_id)["output"])
        if not path.exists():
            job = self.job(job_id)
            print(f"job {job_id} is {job.state}{' (' + job.detail + ')' if job.detail else ''}: no output yet ({path})")
            return 0
        sys.stdout.write(path.read_text(errors="replace"))
        sys.stdout.flush()
        return 0

    def follow(self, job_id: str) -> int:
        path = Path(self._record(job_id)["output"])
        offset = 0
        while True:
            job = self.job(job_id)  # the state first: output written before the job ended is read below
            if path.exists():
                with path.open("rb") as f:
                    f.seek(offset)
                    chunk = f.read()
                offset += len(chunk)
                sys.stdout.write(chunk.decode(errors="replace"))
                sys.stdout.flush()
            if job.finished or job.state == "unknown":
                return 0 if job.state == "done" else 1
            time.sleep(self.poll_seconds)

    def wait(self, job_ids: list[str]) -> list[Job]:
        jobs = {j.id: j for j in self.status()}
        missing = [i for i in job_ids if i not in jobs]
        if missing:
            raise UserError(
                f"slurm: no job {', '.join(missing)} of this project; `autoresearch queue status` lists them"
            )
        ids = job_ids or [i for i, j in jobs.items() if not j.finished and j.state != "unknown"]
        while True:
            waiting = [jobs[i] for i in ids if not jobs[i].finished and jobs[i].state != "unknown"]
            if not waiting:
                return [jobs[i] for i in ids]
            time.sleep(self.poll_seconds)
            jobs = {j.id: j for j in self.status()}

    def kill(self, job_id: str) -> str:
        job = self.job(job_id)
        if job.finished:
            raise UserError(f"slurm: job {job_id} already ended ({job.state})")
        run(["scancel", job.id])
        return f"cancelled job {job.id}"
