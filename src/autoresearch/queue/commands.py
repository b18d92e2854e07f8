"""The `autoresearch queue` verbs over any backend: add (or run in the foreground), status, review,
log, follow, wait, kill; and the job-to-row matching behind the metric column.

A job's rows in results.tsv are found by its label and time: rows whose `label` is the job's and
whose `timestamp` falls between the job's start and its end (a couple of seconds of slack each
side). The schema has no job column, and needs none while labels say what each job tests:
two jobs with the same label running at once would share their rows. Usage:

    autoresearch queue add --label "Q: does X help? H: -0.02 bpb" -- just eval
    autoresearch queue status | review | log ID | follow ID | wait [ID ...] | kill ID
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autoresearch.errors import UserError
from autoresearch.queue.base import BACKENDS, ENGINES, FINISHED, LABEL_ENV, Backend, Job, parse_gpu, parse_label

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table

    from autoresearch.config import QueueSettings
    from autoresearch.paths import Project
    from autoresearch.results import Record

SLACK = timedelta(seconds=2)
"""Row timestamps have whole seconds and engines' clocks round: widen each job's window this much."""
SUMMARY_JOBS = 6
PLAIN_DETAILS = {
    "",
    "Success",
    "Killed",
    "Queued",
    "Stashed",
    "Running",
    "Paused",
    "COMPLETED",
    "CANCELLED",
    "PENDING",
    "RUNNING",
    "SUSPENDED",
}
STATE_STYLE = {
    "running": "bold cyan",
    "queued": "yellow",
    "stashed": "yellow",
    "paused": "yellow",
    "done": "green",
    "failed": "red",
    "cancelled": "magenta",
    "unknown": "dim",
}


def make_backend(project: Project, name: str | None = None) -> Backend:
    """The backend named (default: the configured one); for auto, the one `select` picks, or UserError."""
    backend, reason, _ = select(project, name)
    if backend is None:
        raise UserError(reason)
    return backend


def _engine(project: Project, settings: QueueSettings, name: str) -> Backend:
    if name == "pueue":
        from autoresearch.queue.pueue import Pueue

        return Pueue(project, settings)
    if name == "tsp":
        from autoresearch.queue.tsp import TaskSpooler

        return TaskSpooler(project, settings)
    if name == "slurm":
        from autoresearch.queue.slurm import Slurm

        return Slurm(project, settings)
    raise UserError(f"queue backend {name!r}: expected one of {', '.join(BACKENDS)}")


def select(project: Project, name: str | None = None) -> tuple[Backend | None, str | None, str]:
    """(backend, why it cannot take jobs now or None, how it was chosen).

    A named backend (--backend, else [tool.autoresearch.queue] backend) is used as it is; `auto`
    takes the first engine of ENGINES (pueue, tsp, slurm) that can take jobs, and when none can,
    gives no backend and one reason that names every engine's install command.
    """
    from autoresearch.config import Config

    settings = Config.load(project).queue
    chosen = name or settings.backend
    how = f"--backend {chosen}" if name else f'backend = "{chosen}" in pyproject.toml'
    if chosen != "auto":
        backend = _engine(project, settings, chosen)
        return backend, backend.unavailable(), how
    skipped: list[str] = []
    for engine in ENGINES:
        backend = _engine(project, settings, engine)
        reason = backend.unavailable()
        if reason is None:
            passed = [r.split(":")[0].split(" (")[0] for r in skipped]  # "pueue is not installed"
            return backend, None, "; ".join([how, *passed])
        skipped.append(reason)
    return None, "no queue engine can take jobs here: " + "; ".join(skipped), how


def _ready(project: Project, name: str | None) -> Backend:
    backend, reason, _ = select(project, name)
    if backend is None or reason is not None:
        raise UserError(reason or "no queue backend")
    return backend


def _job_id(job_id: str) -> str:
    if not job_id.isdigit():
        raise UserError(f"job id {job_id!r}: expected a number, as `autoresearch queue status` shows")
    return job_id


def add(project: Project, command: list[str], label: str, gpu: str, backend_name: str | None, foreground: bool) -> int:
    """Queue the command and print its job id; with no backend, offer to run it in the foreground."""
    if not command:
        raise UserError('queue add: no command; e.g. autoresearch queue add --label "Q: ... H: ..." -- just eval')
    parse_label(label)
    gpu = parse_gpu(gpu)
    backend, reason, how = select(project, backend_name)
    if backend is not None and reason is None:
        job_id = backend.add(command, label, gpu, Path.cwd().resolve())
        print(f"autoresearch: queued on {backend.name} ({how}) as job {job_id}", file=sys.stderr)
        print(job_id)
        return 0
    print(f"autoresearch: nothing was queued: {reason}", file=sys.stderr)
    if not foreground:
        if not sys.stdin.isatty():
            print(
                "autoresearch: to run it now in this shell instead: autoresearch queue add --foreground --label ... -- COMMAND",
                file=sys.stderr,
            )
            return 1
        answer = input("Run it now in the foreground instead? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("autoresearch: not run", file=sys.stderr)
            return 1
    return run_foreground(command, label, gpu)


def run_foreground(command: list[str], label: str, gpu: str) -> int:
    """Run the command here and now, with the label in its environment; its exit code."""
    env = {**os.environ, LABEL_ENV: label}
    if gpu == "none":
        env["CUDA_VISIBLE_DEVICES"] = ""
    elif gpu != "auto":
        env |= {"CUDA_DEVICE_ORDER": "PCI_BUS_ID", "CUDA_VISIBLE_DEVICES": gpu}
    print(f"autoresearch: running in the foreground, not queued: {' '.join(command)}", file=sys.stderr, flush=True)
    try:
        return subprocess.run(command, env=env).returncode
    except FileNotFoundError:
        raise UserError(f"{command[0]}: command not found") from None


def _results(project: Project) -> Record:
    from autoresearch import results
    from autoresearch.config import Config

    return results.load(project, Config.load(project))


def match_rows(jobs: list[Job], record: Record, now: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """Job id -> its rows of results.tsv (dicts with a 1-based `row`), by label and time window."""
    import polars as pl

    labels = sorted({j.label for j in jobs if j.label and j.start is not None})
    if not labels:
        return {}
    rows = record.df.filter(pl.col("label").is_in(labels)).to_dicts()
    for r in rows:
        try:
            r["_time"] = datetime.fromisoformat(r["timestamp"])
        except (TypeError, ValueError):
            r["_time"] = None
    matched: dict[str, list[dict[str, Any]]] = {}
    for job in jobs:
        if job.start is None:
            continue
        lo, hi = job.start - SLACK, (job.end or now or datetime.now(job.start.tzinfo)) + SLACK
        matched[job.id] = [
            r for r in rows if r["label"] == job.label and r["_time"] is not None and lo <= r["_time"] <= hi
        ]
    return matched


def observed(rows: list[dict[str, Any]], metric: str) -> str:
    """The metric cell: one value, the mean of several (n=k), or the crash reason."""
    ok = [r[metric] for r in rows if r["status"] == "ok" and r[metric] is not None]
    crashes = [r["reason"] or "crash" for r in rows if r["status"] != "ok"]
    parts = []
    if len(ok) == 1:
        parts.append(f"{ok[0]:.4f}")
    elif ok:
        parts.append(f"{sum(ok) / len(ok):.4f} (mean of {len(ok)})")
    if crashes:
        parts.append(f"crash: {', '.join(sorted(set(crashes)))}")
    return "; ".join(parts)


def _when(t: datetime | None) -> str:
    if t is None:
        return ""
    local = t.astimezone()
    return local.strftime("%H:%M:%S") if local.date() == datetime.now().date() else local.strftime("%Y-%m-%d %H:%M")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _detail(job: Job) -> str:
    """The engine's word for the state, where it says more than the state does."""
    return "" if job.detail in PLAIN_DETAILS else job.detail


def _state(job: Job) -> str:
    from rich.markup import escape

    word = f"[{STATE_STYLE.get(job.state, '')}]{job.state}[/]"
    return f"{word} [dim]{escape(_detail(job))}[/dim]" if _detail(job) else word


def jobs_table(jobs: list[Job], rows: dict[str, list[dict[str, Any]]], metric: str, compact: bool = False) -> Table:
    from rich.markup import escape
    from rich.table import Table

    from autoresearch.ui import VERDICT_STYLE

    table = Table(show_edge=False, pad_edge=False, expand=False)
    columns = (
        ("id", "state", "label", "runtime", metric)
        if compact
        else ("id", "state", "where", "label", "start", "runtime", metric, "verdict", "command")
    )
    for name in columns:
        table.add_column(name, justify="right" if name in ("id", "runtime", metric) else "left", overflow="fold")
    for job in jobs:
        mine = rows.get(job.id, [])
        verdict = mine[-1]["verdict"] if mine and mine[-1]["verdict"] else ""
        cells = {
            "id": job.id,
            "state": _state(job),
            "where": escape(job.where),
            "label": escape(job.label),
            "start": _when(job.start),
            "runtime": _duration(job.runtime),
            metric: escape(observed(mine, metric)),
            "verdict": f"[{VERDICT_STYLE.get(verdict, '')}]{verdict}[/]" if verdict else "",
            "command": escape(job.command),
        }
        table.add_row(*(cells[c] for c in columns))
    return table


def _answered(project: Project, backend_name: str | None) -> Backend:
    """The backend that can take jobs, after one line saying which it is and how it was chosen."""
    backend, reason, how = select(project, backend_name)
    if backend is None or reason is not None:
        raise UserError(reason or "no queue backend")
    print(f"queue: {backend.name} ({how})")
    return backend


def print_status(project: Project, backend_name: str | None) -> None:
    from autoresearch import ui

    backend = _answered(project, backend_name)
    jobs = backend.status()
    if not jobs:
        print(f'{backend.name}: no jobs of this project yet; queue one with `just queue "Q: ... H: ..." just eval`')
        return
    record = _results(project)
    ui.show(jobs_table(jobs, match_rows(jobs, record), record.value))


def _vs_parent(record: Record, row: dict[str, Any]) -> str:
    """The row's gain over the mean of its parent's rows (what its verdict judged), '' without them."""
    from autoresearch import stats

    parent = record.of_code(row["parent"], row["profile"], row["budget"])[record.value].to_list()
    if not parent or row["code"] == row["parent"]:
        return ""
    return f"{record.metric.gain(stats.mean(parent), row[record.value]):+.4f} (vs parent {stats.mean(parent):.4f}, row {row['row']})"


def print_review(project: Project, backend_name: str | None) -> None:
    """Finished jobs: the question and the hypothesis from the label, next to what was observed."""
    from rich.markup import escape
    from rich.table import Table

    from autoresearch import ui

    backend = _answered(project, backend_name)
    jobs = backend.status()
    done = [j for j in jobs if j.state in FINISHED]
    pending = len(jobs) - len(done)
    if not done:
        print(f"{backend.name}: no finished jobs yet" + (f" ({pending} queued or running)" if pending else ""))
        return
    record = _results(project)
    metric = record.value
    rows = match_rows(done, record)
    table = Table(show_edge=False, pad_edge=False, expand=False, show_lines=True)
    for name in ("id", "state", "question", "expected (H)", f"observed {metric}", "gain vs parent", "verdict"):
        table.add_column(name, justify="right" if name == "id" else "left", overflow="fold")
    for job in done:
        try:
            question, hypothesis = parse_label(job.label)
        except UserError:
            question, hypothesis = job.label or "(no label)", ""
        mine = rows.get(job.id, [])
        deltas = [d for r in mine if r["status"] == "ok" and r[metric] is not None and (d := _vs_parent(record, r))]
        verdicts = ", ".join(sorted({r["verdict"] for r in mine if r["verdict"]}))
        table.add_row(
            job.id,
            _state(job),
            escape(question),
            escape(hypothesis),
            escape(observed(mine, metric) or "no row"),
            escape("\n".join(deltas)),
            escape(verdicts),
        )
    ui.show(table)
    if pending:
        print(f"{pending} more job(s) queued or running")
    print(
        'Write each into the journal: just journal "SLUG: <observed> vs <expected>" --observation "<label>: ..." '
        '--inference "..."; an entry that quotes a job\'s label marks it journaled in `just status`'
    )


def journaled(project: Project, jobs: list[Job]) -> set[str]:
    """Ids of the jobs whose label appears, whitespace aside, in the text of a RESEARCH_JOURNAL.md entry."""
    from autoresearch.journal import parse

    path = project.research_journal
    if not path.exists():
        return set()
    _, entries = parse(path.read_text())
    text = "\n".join(" ".join(e.text.split()) for e in entries)
    return {j.id for j in jobs if j.label and " ".join(j.label.split()) in text}


def counts(project: Project, jobs: list[Job]) -> dict[str, int]:
    """The dashboard's numbers: waiting, running, finished, and finished but not yet journaled.

    A finished job that never started (removed from the queue) has nothing to journal and is not counted.
    """
    ran = [j for j in jobs if j.finished and j.start is not None]
    return {
        "waiting": sum(j.state in ("queued", "stashed", "paused") for j in jobs),
        "running": sum(j.state == "running" for j in jobs),
        "finished": len(ran),
        "not journaled": len(ran) - len(journaled(project, ran)),
    }


def summary(project: Project) -> tuple[RenderableType | None, int]:
    """The dashboard's queue section from whichever backend `select` picks (None when no engine is
    installed here, or the named one is not), and the number of finished jobs not yet journaled."""
    from autoresearch.config import Config

    try:
        backend, reason, _ = select(project)
        if backend is None:
            settings = Config.load(project).queue
            if not any(_engine(project, settings, e).installed() for e in ENGINES):
                return None, 0
            return f"[red]{reason}[/red]", 0
        if not backend.installed():
            return None, 0
        if reason:
            return f"{backend.name}: {reason}", 0
        jobs = backend.status()
        if not jobs:
            return f'{backend.name}: no jobs of this project yet (`just queue "Q: ... H: ..." just eval`)', 0
        unfinished = [j for j in jobs if not j.finished]
        shown = (unfinished + [j for j in jobs if j.finished][::-1])[:SUMMARY_JOBS]
        record = _results(project)
        table = jobs_table(shown, match_rows(shown, record), record.value, compact=True)
        n = counts(project, jobs)
        table.caption = (
            f"{backend.name}: {n['waiting']} waiting · {n['running']} running · {n['finished']} finished, "
            f"{n['not journaled']} not yet journaled (just queue-review)"
        )
        return table, n["not journaled"]
    except UserError as e:
        return f"[red]{e}[/red]", 0


def print_log(project: Project, job_id: str, backend_name: str | None) -> int:
    job_id = _job_id(job_id)
    return _ready(project, backend_name).log(job_id)


def follow(project: Project, job_id: str, backend_name: str | None) -> int:
    job_id = _job_id(job_id)
    return _ready(project, backend_name).follow(job_id)


def wait(project: Project, job_ids: list[str], backend_name: str | None) -> int:
    """Wait for the jobs to end (all unfinished ones if none given); 0 when every one is done."""
    ids = [_job_id(i) for i in job_ids]
    jobs = _ready(project, backend_name).wait(ids)
    if not jobs:
        print("no unfinished jobs to wait for")
        return 0
    for job in jobs:
        detail = f" ({_detail(job)})" if _detail(job) else ""
        print(f"job {job.id}: {job.state}{detail} {_duration(job.runtime)}  {job.label}")
    return 0 if all(j.state == "done" for j in jobs) else 1


def kill(project: Project, job_id: str, backend_name: str | None) -> int:
    job_id = _job_id(job_id)
    print(_ready(project, backend_name).kill(job_id))
    return 0
