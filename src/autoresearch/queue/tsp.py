"""The task-spooler adapter: a local queue with nothing to install but one small package.

task-spooler (`tsp`; `ts` on some distributions) keeps its queue in a server that the first `tsp`
call starts and that outlives the shell. Each project has its own queue: the socket
`<root>/.autoresearch/queue/tsp.socket` (TS_SOCKET), so jobs queued from any checkout of the
project, in any shell, land in one queue, and other projects' jobs are not in it. The queue runs
one job at a time, or one per GPU when `nvidia-smi -L` lists N (`tsp -S N`); each job then
takes a free GPU as it starts (a lock file per GPU) and sees only that one (CUDA_VISIBLE_DEVICES,
as the pueue adapter sets it).

A job is `tsp -L LABEL python -m autoresearch.queue.tsp [--gpu ...] -- CMD`, run in the checkout it
was queued from, with AUTORESEARCH_LABEL=LABEL in its environment; the small launcher (`launch`,
this module's __main__) picks the GPU, restores TMPDIR (task-spooler writes each job's output to
`ts-out.*` in the queuing client's TMPDIR, here the queue folder) and execs CMD. Each job is
recorded in `tsp.jsonl` beside the socket: its number in this project (the id the queue commands
show: task-spooler's own ids start again at 0 when its server restarts), task-spooler's id and
server, label and command verbatim (task-spooler's listing does not quote them), the kills and
removals this adapter made, and each job's end once seen (exit status, times, output file), so
finished jobs keep their labels and results after the server is gone (a reboot). Usage:

    backend = TaskSpooler(project, settings); job_id = backend.add(["just", "eval"], label, "auto", cwd)
"""

from __future__ import annotations

import argparse
import os
import shlex
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from autoresearch.errors import UserError
from autoresearch.queue.base import (
    LABEL_ENV,
    Backend,
    Job,
    append_jsonl,
    detect_gpus,
    ignored_dir,
    read_jsonl,
    run,
    which,
)

INSTALL = (
    "install task-spooler with `sudo apt-get install task-spooler` (Debian, Ubuntu; "
    "other distributions package it too, some naming its command `ts`)"
)
QUEUE_DIR = ".autoresearch/queue"
SOCKET = "tsp.socket"
LEDGER = "tsp.jsonl"
SOCKET_MAX = 107
"""A unix socket's path holds at most 108 bytes with its terminating NUL (Linux)."""
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_STATES = {
    "queued": "queued",
    "allocating": "queued",
    "running": "running",
    "finished": "finished",
    "skipped": "cancelled",
}


def find_tsp() -> str | None:
    """The task-spooler command: `tsp`, else a `ts` that says it is Task Spooler (moreutils has a `ts` too)."""
    if path := which("tsp"):
        return path
    ts = which("ts")
    if ts is None:
        return None
    try:
        said = subprocess.run([ts, "-V"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=5)
    except (subprocess.TimeoutExpired, OSError):
        return None
    return ts if "task spooler" in (said.stdout + said.stderr).lower() else None


def parse_list(text: str) -> dict[str, str]:
    """Job id -> task-spooler's state word, from `tsp -l` (only the first two columns are read:
    the output path and the command that follow may hold spaces)."""
    states = {}
    for line in text.splitlines()[1:]:
        words = line.split(None, 2)
        if len(words) >= 2 and words[0].isdigit():
            states[words[0]] = words[1]
    return states


def parse_ctime(text: str) -> datetime:
    """A time as task-spooler prints it (C's ctime, local time: 'Tue Dec  1 22:04:12 2026'), timezone-aware."""
    _, month, day, clock, year = text.split()
    hour, minute, second = (int(x) for x in clock.split(":"))
    return datetime(int(year), MONTHS.index(month) + 1, int(day), hour, minute, second).astimezone()


def parse_info(text: str) -> dict[str, Any]:
    """start, end (datetimes), runtime (seconds) and exit ('exit code 3', 'signal 15') from `tsp -i ID`;
    a field the job does not have yet is absent."""
    fields = dict(line.partition(": ")[::2] for line in text.splitlines() if ": " in line)
    info: dict[str, Any] = {}
    for key, name in (("Start time", "start"), ("End time", "end")):
        if fields.get(key, "").strip():
            info[name] = parse_ctime(fields[key])
    if fields.get("Time run", "").strip():
        info["runtime"] = float(fields["Time run"].strip().removesuffix("s"))
    status = fields.get("Exit status", "").strip()
    if status.startswith("died with exit code "):
        code = int(status.removeprefix("died with exit code "))
        info["exit"] = f"exit code {code % 256}"  # task-spooler 1.0 keeps it in a signed char: 130 reads -126
    elif status.startswith("killed by signal "):
        info["exit"] = "signal " + status.removeprefix("killed by signal ")
    elif status:
        info["exit"] = status
    return info


def finished_job(record: dict[str, Any], end: dict[str, Any], killed: bool) -> Job:
    """The Job of a finished run from its ledger record and its end (`ended` event)."""
    start = datetime.fromisoformat(end["start"]) if end.get("start") else None
    stop = datetime.fromisoformat(end["end"]) if end.get("end") else None
    exit_word = end.get("exit", "")
    if killed:
        state, detail = "cancelled", f"killed ({exit_word})" if exit_word else "killed"
    elif exit_word == "exit code 0":
        state, detail = "done", ""
    else:
        state, detail = "failed", exit_word or "no exit status"
    return Job(
        id=record["id"],
        label=record["label"],
        state=state,
        start=start,
        runtime=end.get("runtime"),
        command=record["command"],
        end=stop,
        detail=detail,
    )


def launcher_args(command: list[str], gpu: str, gpus: list[int], locks: Path, tmpdir: str | None) -> list[str]:
    """What task-spooler runs: this module's launcher, then the user's command after `--`."""
    args = [sys.executable, "-m", "autoresearch.queue.tsp", "--gpu", gpu, "--locks", str(locks)]
    if gpus:
        args += ["--gpus", ",".join(map(str, gpus))]
    if tmpdir is not None:
        args += ["--tmpdir", tmpdir]
    return [*args, "--", *command]


def check_gpu(gpu: str, gpus: list[int]) -> None:
    if gpu in ("auto", "none"):
        return
    if not gpus:
        raise UserError(f"--gpu {gpu}: no GPU here (nvidia-smi -L lists none); use --gpu auto or --gpu none")
    if int(gpu) not in gpus:
        raise UserError(f"--gpu {gpu}: no such GPU; nvidia-smi -L lists {', '.join(map(str, gpus))}")


class TaskSpooler(Backend):
    name = "tsp"
    poll_seconds = 0.5

    @property
    def folder(self) -> Path:
        return self.project.root / QUEUE_DIR

    @property
    def socket(self) -> Path:
        return self.folder / SOCKET

    @property
    def ledger(self) -> Path:
        return self.folder / LEDGER

    def installed(self) -> bool:
        return find_tsp() is not None

    def unavailable(self) -> str | None:
        if not self.installed():
            return f"task-spooler is not installed: {INSTALL}"
        length = len(os.fsencode(self.socket))
        if length > SOCKET_MAX:
            return (
                f"task-spooler's socket {self.socket} would be {length} bytes long, over the {SOCKET_MAX} a unix socket "
                "allows: move the project to a shorter path"
            )
        return None

    def _binary(self) -> str:
        tsp = find_tsp()
        if tsp is None:
            raise UserError(f"task-spooler is not installed: {INSTALL}")
        return tsp

    def _tsp(self, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "TS_SOCKET": str(self.socket), **kwargs.pop("env", {})}
        return run([self._binary(), *args], env=env, **kwargs)

    def _server(self) -> str | None:
        """The running server's identity (its socket's inode and ctime), or None when none answers.

        Read-only commands never start a server (a `tsp` call would), so they check here first.
        """
        try:
            st = os.stat(self.socket)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                # blocking: a busy server's full backlog makes a non-blocking connect fail (EAGAIN) though it is alive
                s.connect(str(self.socket))
        except (FileNotFoundError, ConnectionRefusedError):
            return None
        return f"{st.st_ino}:{st.st_ctime_ns}"

    def add(self, command: list[str], label: str, gpu: str, cwd: Path) -> str:
        from filelock import FileLock

        gpus = detect_gpus()
        check_gpu(gpu, gpus)
        ignored_dir(self.folder)
        args = launcher_args(command, gpu, gpus, self.folder, os.environ.get("TMPDIR"))
        env = {"TMPDIR": str(self.folder), LABEL_ENV: label}
        # The first call starts the server: from the queue folder, so its working directory is not a worktree.
        self._tsp(
            "-S", str(max(1, len(gpus))), env={"TMPDIR": str(self.folder)}, cwd=self.folder, start_new_session=True
        )
        with FileLock(str(self.ledger) + ".add.lock"):  # one job number per job, however many queue at once
            number = str(len(self._records()[0]))
            # The client that queues stays behind to run the job: its own session, so that closing
            # the terminal (SIGHUP) or Ctrl-C there later does not take the job with it.
            out = self._tsp("-L", label, *args, env=env, cwd=cwd, start_new_session=True).stdout.strip()
            if not out.isdigit():
                raise UserError(f"tsp printed {out!r}, expected a job id")
            append_jsonl(
                self.ledger,
                {
                    "id": number,
                    "tsp": out,
                    "server": self._server(),
                    "label": label,
                    "command": shlex.join(command),
                    "cwd": str(cwd),
                    "gpu": gpu,
                    "queued": datetime.now().astimezone().isoformat(timespec="seconds"),
                },
            )
        return number

    def _records(self) -> tuple[list[dict[str, Any]], dict[str, dict[str, dict[str, Any]]]]:
        """(queued jobs in order, {job id: {event: record}}) from the ledger."""
        jobs: list[dict[str, Any]] = []
        events: dict[str, dict[str, dict[str, Any]]] = {}
        for r in read_jsonl(self.ledger):
            if "event" in r:
                events.setdefault(r["id"], {})[r["event"]] = r
            else:
                jobs.append(r)
        return jobs, events

    def status(self) -> list[Job]:
        records, events = self._records()
        if not records:
            return []
        server = self._server()
        listed = parse_list(self._tsp("-l").stdout) if server else {}
        jobs = []
        for r in records:
            mine = events.get(r["id"], {})
            if "ended" in mine:
                jobs.append(finished_job(r, mine["ended"], "killed" in mine))
            elif "removed" in mine:
                jobs.append(
                    Job(
                        id=r["id"],
                        label=r["label"],
                        state="cancelled",
                        start=None,
                        runtime=None,
                        command=r["command"],
                        detail="removed before it ran",
                    )
                )
            else:
                jobs.append(self._live(r, listed.get(r["tsp"]) if r["server"] == server else None, "killed" in mine))
            jobs[-1].where = self._checkout(r.get("cwd", ""))
        return jobs

    def _checkout(self, cwd: str) -> str:
        """Where a job runs: `main` (the root checkout), a worktree's slug, or the folder."""
        path = Path(cwd)
        if path == self.project.root:
            return "main"
        return path.name if path.parent == self.project.worktrees else cwd

    def _live(self, record: dict[str, Any], word: str | None, killed: bool) -> Job:
        """The Job of a record task-spooler may still hold; `word` is its state in `tsp -l` (None: not listed)."""
        job = Job(
            id=record["id"], label=record["label"], state="unknown", start=None, runtime=None, command=record["command"]
        )
        if word is None:
            job.detail = "task-spooler no longer has it: its server stopped (a reboot?) or the job was cleared"
            return job
        state = _STATES.get(word, "unknown")
        if state == "finished":
            info = parse_info(self._tsp("-i", record["tsp"]).stdout)
            end = {
                "id": record["id"],
                "event": "ended",
                "exit": info.get("exit", ""),
                "start": info["start"].isoformat() if "start" in info else None,
                "end": info["end"].isoformat() if "end" in info else None,
                "runtime": info.get("runtime"),
                "output": self._tsp("-o", record["tsp"]).stdout.strip(),
            }
            append_jsonl(self.ledger, end)  # kept: the server forgets its jobs when it stops
            return finished_job(record, end, killed)
        job.state = state
        if state == "running":
            job.start = parse_info(self._tsp("-i", record["tsp"]).stdout).get("start")
            if job.start is not None:
                job.runtime = max(0.0, (datetime.now().astimezone() - job.start).total_seconds())
        elif state == "unknown":
            job.detail = f"task-spooler says {word!r}"
        return job

    def _record(self, job_id: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """The job's ledger record and its events."""
        records, events = self._records()
        for r in records:
            if r["id"] == str(job_id):
                return r, events.get(r["id"], {})
        raise UserError(
            f"tsp: no job {job_id} of this project in {self.ledger}; `autoresearch queue status` lists them"
        )

    def _output(self, job: Job) -> Path | None:
        record, events = self._record(job.id)
        if "ended" in events:
            return Path(events["ended"]["output"]) if events["ended"].get("output") else None
        if job.state == "running" and self._server() == record["server"]:
            return Path(self._tsp("-o", record["tsp"]).stdout.strip())
        return None

    def log(self, job_id: str) -> int:
        job = self.job(job_id)
        path = self._output(job)
        if path is not None and path.exists():
            sys.stdout.write(path.read_text(errors="replace"))
        elif job.state in ("queued", "running"):
            print(f"job {job.id} is {job.state}: no output yet")
        else:
            print(f"job {job.id}: its output file is gone ({path or 'task-spooler never made one'})")
        ended = f"{job.state} ({job.detail})" if job.detail else job.state
        print(
            f"--- job {job.id}: {ended}"
            + (f", {job.runtime:.1f} s" if job.finished and job.runtime is not None else "")
        )
        sys.stdout.flush()
        return 0

    def follow(self, job_id: str) -> int:
        job = self.job(job_id)
        if job.state == "queued":
            print(f"job {job.id} is queued; its output follows once it starts", flush=True)
        while job.state == "queued":  # `tsp -c` refuses a job that has not started
            time.sleep(self.poll_seconds)
            job = self.job(job_id)
        if job.finished or job.state == "unknown":
            self.log(job_id)
        else:
            record, _ = self._record(job_id)
            sys.stdout.flush()
            # streams the output of a running job until it ends
            subprocess.run([self._binary(), "-c", record["tsp"]], env={**os.environ, "TS_SOCKET": str(self.socket)})
            job = self.job(job_id)
            print(f"--- job {job.id}: {job.state}" + (f" ({job.detail})" if job.detail else ""), flush=True)
        return 0 if job.state == "done" else 1

    def wait(self, job_ids: list[str]) -> list[Job]:
        jobs = {j.id: j for j in self.status()}
        missing = [i for i in job_ids if i not in jobs]
        if missing:
            raise UserError(f"tsp: no job {', '.join(missing)} of this project; `autoresearch queue status` lists them")
        ids = job_ids or [i for i, j in jobs.items() if not j.finished and j.state != "unknown"]
        for i in ids:
            if not jobs[i].finished and jobs[i].state != "unknown":
                record, _ = self._record(i)
                # exits with the job's own status, which status() reads again below
                subprocess.run(
                    [self._binary(), "-w", record["tsp"]],
                    env={**os.environ, "TS_SOCKET": str(self.socket)},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
        ended = {j.id: j for j in self.status()}
        return [ended[i] for i in ids]

    def kill(self, job_id: str) -> str:
        job = self.job(job_id)
        record, _ = self._record(job_id)
        if job.finished:
            raise UserError(f"tsp: job {job_id} already ended ({job.state})")
        if job.state == "unknown":
            raise UserError(f"tsp: job {job_id} is not in task-spooler's queue any more ({job.detail})")
        event = {"id": job.id, "at": datetime.now().astimezone().isoformat(timespec="seconds")}
        if job.state == "running":
            self._tsp("-k", record["tsp"])
            append_jsonl(self.ledger, event | {"event": "killed"})
            return f"killed job {job.id} (SIGTERM to its processes; an eval writes a crash row, reason interrupted)"
        self._tsp("-r", record["tsp"])
        append_jsonl(self.ledger, event | {"event": "removed"})
        return f"removed job {job.id} from the queue (it had not started)"


def take_gpu(gpus: list[int], gpu: str, locks: Path, poll: float = 1.0) -> tuple[int, int]:
    """(GPU index, fd of its lock) once a GPU is free: `gpu` itself, or any of `gpus` for auto.

    The lock is an flock on `<locks>/gpuK.lock`, held by the open fd: the job keeps it across exec
    and drops it when its last process exits, so a GPU runs one job of this queue at a time.
    """
    import fcntl

    wanted = gpus if gpu == "auto" else [int(gpu)]
    said = False
    while True:
        for k in wanted:
            fd = os.open(locks / f"gpu{k}.lock", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return k, fd
            except BlockingIOError:
                os.close(fd)
        if not said:
            print(f"autoresearch: waiting for GPU {' or '.join(map(str, wanted))} to be free", flush=True)
            said = True
        time.sleep(poll)


def launch(argv: list[str] | None = None) -> None:
    """The job side: set the GPU and TMPDIR, then become the user's command."""
    parser = argparse.ArgumentParser(prog="python -m autoresearch.queue.tsp", description=launch.__doc__)
    parser.add_argument("--gpu", default="auto")
    parser.add_argument("--gpus", default="")
    parser.add_argument("--locks", type=Path, required=True)
    parser.add_argument("--tmpdir")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    env = os.environ
    env.pop("TS_SOCKET", None)
    if args.tmpdir is None:
        env.pop("TMPDIR", None)
    else:
        env["TMPDIR"] = args.tmpdir
    if args.gpu == "none":
        env["CUDA_VISIBLE_DEVICES"] = ""  # an empty list hides every GPU
    elif args.gpus:
        k, fd = take_gpu([int(g) for g in args.gpus.split(",")], args.gpu, args.locks)
        os.set_inheritable(fd, True)
        env |= {"CUDA_DEVICE_ORDER": "PCI_BUS_ID", "CUDA_VISIBLE_DEVICES": str(k)}
        print(f"autoresearch: job on GPU {k} (CUDA_VISIBLE_DEVICES={k})", flush=True)
    try:
        os.execvp(command[0], command)
    except OSError as e:
        print(f"autoresearch: cannot run {command[0]!r}: {e.strerror}", file=sys.stderr)
        raise SystemExit(127) from None


if __name__ == "__main__":
    launch()
