"""The pueue adapter: the local queue, one pueue group per GPU, each running one job at a time.

Built on pueue's CLI (v3 and v4): `add --label --print-task-id --group -w`, `status --json`,
`log --full`, `follow`, `wait`, `kill`, `remove`, `group add --parallel`, `parallel -g`.
The GPUs come from `nvidia-smi -L`: GPU k gets group `gpuk` (parallel 1), and its jobs see only
that GPU (CUDA_VISIBLE_DEVICES=k). Without a GPU every job goes to pueue's `default` group.
pueue has no flag for a task's environment that works in v3, so the command is wrapped:
`env CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES=1 AUTORESEARCH_LABEL='Q: ...' just eval`.
One pueue daemon serves every project of a user; this project's jobs are those whose working
directory is inside its root checkout. Usage:

    backend = Pueue(project, settings); job_id = backend.add(["just", "eval"], label, "auto", cwd)
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from autoresearch.errors import UserError
from autoresearch.queue.base import FINISHED, LABEL_ENV, Backend, Job, detect_gpus, run, which

INSTALL = (
    "install pueue with `cargo install --locked pueue` or a release binary from "
    "https://github.com/Nukesor/pueue/releases, then start its daemon with `pueued -d`"
)
WRAPPED = ("CUDA_DEVICE_ORDER", "CUDA_VISIBLE_DEVICES", LABEL_ENV)
"""The variables `wrap` sets; `unwrap` strips them again for display."""

# pueue TaskStatus -> our state. v4 serialises a status as {"Running": {"enqueued_at", "start"}},
# v3 as the bare string "Running" (start and end then sit on the task itself).
_STATES = {"Queued": "queued", "Stashed": "stashed", "Locked": "queued", "Running": "running", "Paused": "paused"}


def choose_group(gpu: str, gpus: list[int], load: Counter[str]) -> tuple[str, str | None]:
    """(pueue group, CUDA_VISIBLE_DEVICES or None to leave it alone) for --gpu auto|none|N.

    auto takes the GPU group with the fewest unfinished tasks (ties: the lowest index).
    """
    if gpu == "none":
        return "default", ""  # an empty CUDA_VISIBLE_DEVICES hides every GPU
    if not gpus:
        if gpu == "auto":
            return "default", None
        raise UserError(f"--gpu {gpu}: no GPU here (nvidia-smi -L lists none); use --gpu auto or --gpu none")
    if gpu == "auto":
        k = min(gpus, key=lambda i: (load[f"gpu{i}"], i))
    elif int(gpu) in gpus:
        k = int(gpu)
    else:
        raise UserError(f"--gpu {gpu}: no such GPU; nvidia-smi -L lists {', '.join(map(str, gpus))}")
    return f"gpu{k}", str(k)


def wrap(command: list[str], label: str, cuda_visible: str | None) -> str:
    """The shell command pueue runs (it runs commands through `sh -c`), every word quoted."""
    env = [f"{LABEL_ENV}={label}"]
    if cuda_visible is not None:
        env = ["CUDA_DEVICE_ORDER=PCI_BUS_ID", f"CUDA_VISIBLE_DEVICES={cuda_visible}", *env]
    return shlex.join(["env", *env, *command])


def unwrap(command: str) -> str:
    """The user's command from a wrapped one (commands queued by hand come back unchanged)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return command
    if not words or words[0] != "env":
        return command
    rest = words[1:]
    while rest and rest[0].partition("=")[0] in WRAPPED and "=" in rest[0]:
        rest = rest[1:]
    return shlex.join(rest) if len(rest) < len(words) - 1 else command


def add_args(command: list[str], label: str, group: str, cuda_visible: str | None, cwd: Path) -> list[str]:
    return [
        "pueue",
        "add",
        "--print-task-id",
        "--label",
        label,
        "--group",
        group,
        "--working-directory",
        str(cwd),
        "--",
        wrap(command, label, cuda_visible),
    ]


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _result_word(result: Any) -> str:
    """'Success', 'Killed', {'Failed': 2} -> 'Failed(2)'."""
    if isinstance(result, dict):
        ((name, value),) = result.items()
        return f"{name}({value})"
    return str(result)


def task_to_job(task: dict[str, Any], now: datetime | None = None) -> Job:
    """One task of `pueue status --json` (v3 or v4) as a Job."""
    status = task["status"]
    kind, body = (status, None) if isinstance(status, str) else next(iter(status.items()))
    times = body if isinstance(body, dict) and "start" in body else task  # v4 nests start/end in the status
    start, end = _time(times.get("start")), _time(times.get("end"))
    detail = kind
    if kind == "Done":
        result = body["result"] if isinstance(body, dict) and "result" in body else body
        detail = _result_word(result)
        state = "done" if result == "Success" else "cancelled" if result == "Killed" else "failed"
    else:
        state = _STATES.get(kind, "unknown")
        if state not in ("running", "paused"):
            start = end = None
    runtime = None
    if start is not None:
        runtime = ((end or now or datetime.now(start.tzinfo)) - start).total_seconds()
    return Job(
        id=str(task["id"]),
        label=task.get("label") or "",
        state=state,
        start=start,
        runtime=runtime,
        command=unwrap(task["command"]),
        end=end,
        detail=detail,
        where=task.get("group", ""),
    )


def parse_status(text: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(tasks, groups) from `pueue status --json`: {"tasks": {"0": {...}}, "groups": {"default": {...}}}."""
    state = json.loads(text)
    tasks = sorted(state.get("tasks", {}).values(), key=lambda t: int(t["id"]))
    return tasks, state.get("groups", {})


def group_load(tasks: list[dict[str, Any]]) -> Counter[str]:
    """Unfinished tasks per group, every project's: the GPU is shared."""
    return Counter(t.get("group", "default") for t in tasks if task_to_job(t).state not in FINISHED)


class Pueue(Backend):
    name = "pueue"

    def installed(self) -> bool:
        return which("pueue") is not None

    def unavailable(self) -> str | None:
        if not self.installed():
            return f"pueue is not installed: {INSTALL}"
        result = subprocess.run(["pueue", "status", "--json"], capture_output=True, text=True)
        if result.returncode != 0:
            said = (result.stderr.strip() or result.stdout.strip()).splitlines()
            return f"pueue's daemon is not answering ({said[-1] if said else 'no message'}): start it with `pueued -d`"
        return None

    def _state(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return parse_status(run(["pueue", "status", "--json"]).stdout)

    def _ours(self, task: dict[str, Any]) -> bool:
        path = Path(task.get("path", ""))
        return path.is_absolute() and path.resolve().is_relative_to(self.project.root)

    def _ensure_groups(self, gpus: list[int], groups: dict[str, Any]) -> None:
        from loguru import logger

        for k in gpus:
            name = f"gpu{k}"
            if name not in groups:
                logger.info(f"pueue: adding group {name} (one job at a time on GPU {k})")
                run(["pueue", "group", "add", name, "--parallel", "1"])
            elif groups[name].get("parallel_tasks") != 1:
                logger.info(
                    f"pueue: group {name} ran {groups[name].get('parallel_tasks')} jobs at once; setting it to 1"
                )
                run(["pueue", "parallel", "1", "--group", name])

    def add(self, command: list[str], label: str, gpu: str, cwd: Path) -> str:
        tasks, groups = self._state()
        gpus = detect_gpus()
        group, cuda_visible = choose_group(gpu, gpus, group_load(tasks))
        self._ensure_groups(gpus, groups)
        out = run(add_args(command, label, group, cuda_visible, cwd)).stdout.strip()
        if not out.isdigit():
            raise UserError(f"pueue add printed {out!r}, expected a task id")
        return out

    def status(self) -> list[Job]:
        tasks, _ = self._state()
        return [task_to_job(t) for t in tasks if self._ours(t)]

    def log(self, job_id: str) -> int:
        self.job(job_id)
        return subprocess.run(["pueue", "log", "--full", str(job_id)]).returncode

    def follow(self, job_id: str) -> int:
        self.job(job_id)
        return subprocess.run(["pueue", "follow", str(job_id)]).returncode

    def wait(self, job_ids: list[str]) -> list[Job]:
        jobs = {j.id: j for j in self.status()}
        missing = [i for i in job_ids if i not in jobs]
        if missing:
            raise UserError(
                f"pueue: no job {', '.join(missing)} of this project; `autoresearch queue status` lists them"
            )
        ids = job_ids or [i for i, j in jobs.items() if not j.finished]
        if ids:
            run(["pueue", "wait", "--quiet", *ids])
        ended = {j.id: j for j in self.status()}
        return [ended[i] for i in ids]

    def kill(self, job_id: str) -> str:
        job = self.job(job_id)
        if job.finished:
            raise UserError(f"pueue: job {job_id} already ended ({job.state})")
        if job.state in ("running", "paused"):
            run(["pueue", "kill", job.id])
            return f"killed job {job.id}"
        run(["pueue", "remove", job.id])
        return f"removed job {job.id} from the queue (it had not started)"
