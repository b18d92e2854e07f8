"""The task-spooler adapter: its parsers on recorded `tsp` output, then the whole queue on the real
engine (tests marked `real`, skipped with the install command where `tsp` is missing): order,
labels, review, kill, worktrees, a queue that outlives its shell, failing commands, labels with
awkward characters, one job per GPU, `auto`, and the dashboard's counts.

Every real test queues EVAL, a stand-in eval (tests/fake_eval.py) that writes one row to the root
results.tsv in about a second; swap in the real eval there once its command is settled.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from conftest import git
from queue_jobs import stop_tsp, until

from autoresearch import results
from autoresearch.cli import main
from autoresearch.config import Config
from autoresearch.paths import Project
from autoresearch.queue.base import read_jsonl
from autoresearch.queue.commands import make_backend, select
from autoresearch.queue.tsp import LEDGER, QUEUE_DIR, SOCKET, find_tsp, parse_info, parse_list

EVAL = [sys.executable, str(Path(__file__).with_name("fake_eval.py"))]
"""The job the tests queue: one eval that writes one row (settings: FAKE_EVAL_* in the environment)."""
CLI = str(Path(sys.executable).with_name("autoresearch"))

real = pytest.mark.skipif(
    find_tsp() is None, reason="task-spooler is not installed: sudo apt-get install task-spooler (Debian, Ubuntu)"
)

# Recorded from task-spooler 1.0.1 (Debian bookworm): `tsp -l` with a label holding ']' and a
# command holding spaces, and `tsp -i` of a failed, a killed, a running and a queued job.
LIST = """\
ID   State      Output               E-Level  Times(r/u/s)   Command [run=1/1]
4    running    /tmp/q/ts-out.bW6yOv                         sleep 30
5    queued     (file)                                       [x y]env FOO=1 sleep 2
0    finished   /tmp/q/ts-out.h9xvaa 3        1.01/0.00/0.00 [Q: a "b" H: c]d]sh -c echo hi; sleep 1; exit 3
"""
INFO_FAILED = """\
Exit status: died with exit code 3
Command: sh -c echo hi; sleep 1; exit 3
Slots required: 1
Enqueue time: Tue Dec  1 22:03:45 2026
Start time: Tue Dec  1 22:03:45 2026
End time: Tue Dec  1 22:03:46 2026
Time run: 1.007621s
"""
INFO_KILLED = INFO_FAILED.replace("died with exit code 3", "killed by signal 15")
INFO_RUNNING = "Command: sleep 30\nSlots required: 1\nEnqueue time: Tue Dec  1 22:04:12 2026\nStart time: Tue Dec  1 22:04:12 2026\n"
INFO_QUEUED = "Command: sleep 30\nSlots required: 1\nEnqueue time: Tue Dec  1 22:04:12 2026\n"


def test_the_listing_gives_each_job_its_state_whatever_its_label_and_output_path_hold():
    assert parse_list(LIST) == {"4": "running", "5": "queued", "0": "finished"}


def test_job_info_gives_exit_status_and_local_times():
    info = parse_info(INFO_FAILED)
    assert info["exit"] == "exit code 3" and info["runtime"] == pytest.approx(1.007621)
    assert info["start"] == datetime(2026, 12, 1, 22, 3, 45).astimezone() and info["start"].tzinfo is not None
    assert (info["end"] - info["start"]).total_seconds() == 1
    assert parse_info(INFO_KILLED)["exit"] == "signal 15"
    assert parse_info(INFO_FAILED.replace("code 3", "code -126"))["exit"] == "exit code 130"  # a signed char
    assert set(parse_info(INFO_RUNNING)) == {"start"}
    assert parse_info(INFO_QUEUED) == {}


# ---- the real engine


@pytest.fixture
def tsp_project(project: Path, monkeypatch: pytest.MonkeyPatch):
    """The project with backend = "tsp" (committed, so worktrees have it) and no GPUs; its
    task-spooler server, started by the first job, is emptied and stopped afterwards."""
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('backend = "auto"', 'backend = "tsp"'))
    git(project, "commit", "-qam", "queue on task-spooler")
    monkeypatch.setattr("autoresearch.queue.tsp.detect_gpus", list)
    monkeypatch.setenv("COLUMNS", "300")
    yield project
    stop_tsp(project)


def queue(capfd, *args: str) -> tuple[int, str]:
    """Run `autoresearch queue ARGS` in-process: (exit code, stdout and stderr)."""
    code = main(["queue", *args])
    out = capfd.readouterr()
    return code, out.out + out.err


def add(capfd, label: str, *command: str, gpu: str = "auto") -> str:
    """Queue `command` (default: EVAL) with `label`; its job id."""
    code = main(["queue", "add", "--gpu", gpu, "--label", label, "--", *(command or EVAL)])
    out = capfd.readouterr()
    assert code == 0, out.err
    assert out.err.startswith("autoresearch: queued on tsp (")
    return out.out.strip()


def jobs(project: Path) -> dict:
    return {j.id: j for j in make_backend(Project.find(project)).status()}


def rows(project: Path) -> list[dict]:
    p = Project.find(project)
    return results.load(p, Config.load(p)).rows()


def times(log: str) -> dict[str, float]:
    return {word: float(t) for word, t in re.findall(r"fake_eval: (start|end|interrupted) ([\d.]+)", log)}


def line_of(out: str, job_id: str) -> str:
    return next(line for line in out.splitlines() if line.strip().startswith(f"{job_id} "))


A = "Q: does a rotary base of 50k help? H: -0.02 bpb"
B = "Q: does dropout 0.1 help at this size? H: +0.01 bpb, worse"


@real
def test_two_jobs_queued_back_to_back_run_one_after_the_other_and_their_rows_carry_their_labels(
    tsp_project: Path, capfd, monkeypatch
):
    monkeypatch.setenv("FAKE_EVAL_METRIC", "1.4")
    a = add(capfd, A)
    monkeypatch.setenv("FAKE_EVAL_METRIC", "1.6")
    b = add(capfd, B)
    code, out = queue(capfd, "wait")
    assert code == 0, out
    first, second = jobs(tsp_project)[a], jobs(tsp_project)[b]
    assert (first.state, second.state) == ("done", "done")
    assert first.end <= second.start  # task-spooler's own clock (whole seconds)
    logs = {}
    for job_id in (a, b):
        code, logs[job_id] = queue(capfd, "log", job_id)
    assert times(logs[a])["end"] <= times(logs[b])["start"]  # the jobs' own clocks
    assert [(r["label"], r["val_bpb"]) for r in rows(tsp_project)] == [(A, 1.4), (B, 1.6)]
    code, out = queue(capfd, "status")
    assert out.splitlines()[0] == 'queue: tsp (backend = "tsp" in pyproject.toml)'
    assert "1.4000" in line_of(out, a) and A in line_of(out, a) and "1.6000" in line_of(out, b)


@real
def test_review_pairs_each_hypothesis_with_its_observed_metric_and_its_gain_over_its_parent(
    tsp_project: Path, capfd, monkeypatch
):
    monkeypatch.setenv("FAKE_EVAL_SECONDS", "0.2")
    monkeypatch.setenv("FAKE_EVAL_METRIC", "1.45")
    first = add(capfd, A)  # main's code: the parent of the experiment below
    assert queue(capfd, "wait")[0] == 0
    tree = tsp_project / "5_worktrees" / "dropout"
    git(tsp_project, "worktree", "add", "-q", "-b", "exp/dropout", str(tree))
    (tree / "train.py").write_text((tree / "train.py").read_text() + "\nDROPOUT = 0.1\n")
    git(tree, "commit", "-qam", "exp(dropout): 0.1")
    monkeypatch.chdir(tree)
    monkeypatch.setenv("FAKE_EVAL_METRIC", "1.55")
    second = add(capfd, B)
    assert queue(capfd, "wait")[0] == 0
    code, out = queue(capfd, "review")
    assert code == 0
    a, b = line_of(out, first), line_of(out, second)
    assert "does a rotary base of 50k help?" in a and "-0.02 bpb" in a and "1.4500" in a and "vs parent" not in a
    assert "does dropout 0.1 help at this size?" in b and "+0.01 bpb, worse" in b and "1.5500" in b
    assert "-0.1000 (vs parent 1.4500, row 2)" in b  # lower is better: 0.1 worse than main's code


@real
def test_a_killed_running_job_leaves_a_crash_row_and_a_killed_queued_job_none(tsp_project: Path, capfd, monkeypatch):
    """`queue kill` of a running job is `tsp -k`: SIGTERM to the job's process group. An eval turns
    SIGTERM into a crash row with reason `interrupted` (and exits 130), so the record keeps the
    labelled run that was started and stopped. A job still waiting is removed from the queue
    (`tsp -r`): it never ran, so it leaves no row. (An eval killed before it has installed its
    signal handler, in its first instant, would leave none either.)"""
    monkeypatch.setenv("FAKE_EVAL_SECONDS", "60")
    running = add(capfd, A)
    waiting = add(capfd, B)
    until(lambda: "fake_eval: start" in queue(capfd, "log", running)[1], 20, "the first job to start")
    code, out = queue(capfd, "kill", waiting)  # first, else it starts once the running one is killed
    assert (code, out.strip()) == (0, f"removed job {waiting} from the queue (it had not started)")
    code, out = queue(capfd, "kill", running)
    assert code == 0 and out.startswith(f"killed job {running}")
    code, out = queue(capfd, "wait", running)
    assert code == 1 and f"job {running}: cancelled (killed (exit code 130))" in out
    assert [(r["label"], r["status"], r["reason"]) for r in rows(tsp_project)] == [(A, "crash", "interrupted")]
    assert jobs(tsp_project)[waiting].state == "cancelled" and jobs(tsp_project)[waiting].start is None
    code, out = queue(capfd, "kill", running)
    assert code == 1 and "already ended (cancelled)" in out


@real
def test_a_job_queued_from_a_worktree_runs_there_and_writes_to_the_root_results(tsp_project: Path, capfd, monkeypatch):
    tree = tsp_project / "5_worktrees" / "rotary"
    git(tsp_project, "worktree", "add", "-q", "-b", "exp/rotary", str(tree))
    before = (tree / "results.tsv").read_text()
    monkeypatch.chdir(tree)
    job_id = add(capfd, A)
    assert queue(capfd, "wait", job_id)[0] == 0
    assert [r["label"] for r in rows(tsp_project)] == [A]
    assert (tree / "results.tsv").read_text() == before
    assert f"in {tree}" in queue(capfd, "log", job_id)[1]
    monkeypatch.chdir(tsp_project)  # the root sees the same queue
    code, out = queue(capfd, "status")
    assert code == 0, out
    cells = [c.strip() for c in line_of(out, job_id).split("│")]
    assert cells[1:3] == ["done", "rotary"]  # state, and where: the worktree it ran in


@real
def test_the_queue_outlives_the_shell_that_queued_it(tsp_project: Path, capfd):
    """A shell queues a job and is then killed with its whole process group; the job still runs,
    and fresh shells see it and wait for it."""
    shell = subprocess.Popen(
        ["bash", "-c", f'{CLI} queue add --label "{A}" -- {" ".join(EVAL)} && sleep 60'],
        cwd=tsp_project,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    job_id = shell.stdout.readline().strip()
    os.killpg(shell.pid, signal.SIGKILL)
    shell.wait()
    assert job_id.isdigit()
    fresh = subprocess.run(["bash", "-c", f"{CLI} queue status"], cwd=tsp_project, capture_output=True, text=True)
    assert A in fresh.stdout and line_of(fresh.stdout, job_id)
    waited = subprocess.run(
        ["bash", "-c", f"{CLI} queue wait {job_id}"], cwd=tsp_project, capture_output=True, text=True
    )
    assert waited.returncode == 0 and f"job {job_id}: done" in waited.stdout
    assert [r["label"] for r in rows(tsp_project)] == [A]


@real
def test_a_failing_command_shows_its_exit_status_in_status_and_its_output_in_log(tsp_project: Path, capfd):
    job_id = add(capfd, A, "sh", "-c", "echo to stdout; echo to stderr >&2; exit 3")
    code, out = queue(capfd, "wait", job_id)
    assert code == 1 and f"job {job_id}: failed (exit code 3)" in out
    code, out = queue(capfd, "status")
    assert "failed" in line_of(out, job_id) and "exit code 3" in line_of(out, job_id)
    code, out = queue(capfd, "log", job_id)
    assert code == 0 and "to stdout" in out and "to stderr" in out and f"--- job {job_id}: failed (exit code 3)" in out
    code, out = queue(capfd, "follow", job_id)
    assert code == 1 and "to stderr" in out
    job_id = add(capfd, B, "no-such-command-here")
    assert queue(capfd, "wait", job_id)[0] == 1
    assert "cannot run 'no-such-command-here'" in queue(capfd, "log", job_id)[1]


@real
def test_follow_waits_for_a_queued_job_then_streams_it_until_it_ends(tsp_project: Path, capfd, monkeypatch):
    monkeypatch.setenv("FAKE_EVAL_SECONDS", "0.5")
    add(capfd, A)
    job_id = add(capfd, B)
    code, out = queue(capfd, "follow", job_id)
    assert code == 0, out
    assert f"job {job_id} is queued" in out and "fake_eval: end" in out and f"--- job {job_id}: done" in out


AWKWARD = "Q: does \"quoting\" [it] $HOME `id` \\n 'x'; a=b, ü ✓ help? H: it's stored verbatim ]"


@real
def test_a_label_with_quotes_dollars_brackets_and_unicode_reaches_the_row_verbatim(tsp_project: Path, capfd):
    job_id = add(capfd, AWKWARD)
    assert queue(capfd, "wait", job_id)[0] == 0
    assert [r["label"] for r in rows(tsp_project)] == [AWKWARD]
    code, out = queue(capfd, "status")
    assert code == 0, out
    assert AWKWARD in line_of(out, job_id)


@pytest.mark.parametrize("bad", ["\t", "\n", "\r"])
def test_a_label_with_a_tab_or_a_newline_is_refused_before_anything_is_queued(project: Path, capfd, bad: str):
    code, out = queue(capfd, "add", "--label", f"Q: two{bad}lines? H: no", "--", *EVAL)
    assert code == 1
    assert "results.tsv keeps a row on one line with tabs between cells" in out and "on one line with spaces" in out
    assert not (project / QUEUE_DIR).exists()


@real
def test_with_two_gpus_the_queue_runs_two_jobs_at_once_each_on_its_own_gpu(tsp_project: Path, capfd, monkeypatch):
    monkeypatch.setattr("autoresearch.queue.tsp.detect_gpus", lambda: [0, 1])
    show = 'echo "cvd=[$CUDA_VISIBLE_DEVICES] from $(date +%s.%N)"; sleep 1; echo "to $(date +%s.%N)"'
    ids = [add(capfd, A, "sh", "-c", show), add(capfd, B, "sh", "-c", show)]
    none = add(capfd, A, "sh", "-c", show, gpu="none")
    assert queue(capfd, "wait")[0] == 0
    slots = subprocess.run(
        [find_tsp(), "-S"],
        env={**os.environ, "TS_SOCKET": str(tsp_project / QUEUE_DIR / SOCKET)},
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert slots == "2"
    logs = [queue(capfd, "log", i)[1] for i in ids]
    gpus = [re.search(r"cvd=\[(\d)\]", log)[1] for log in logs]
    assert sorted(gpus) == ["0", "1"]
    spans = [[float(t) for t in re.findall(r"(?:from|to) ([\d.]+)", log)] for log in logs]
    assert spans[0][0] < spans[1][1] and spans[1][0] < spans[0][1]  # they overlapped
    assert "cvd=[]" in queue(capfd, "log", none)[1]
    code, out = queue(capfd, "add", "--gpu", "7", "--label", A, "--", "true")
    assert code == 1 and "--gpu 7: no such GPU; nvidia-smi -L lists 0, 1" in out


@real
def test_auto_takes_task_spooler_when_pueue_is_absent_and_status_says_which(
    project: Path, capfd, monkeypatch, tmp_path
):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "tsp").symlink_to(find_tsp())
    monkeypatch.setenv("PATH", str(bin_dir))
    backend, reason, _ = select(Project.find(project))
    assert (backend.name, reason) == ("tsp", None)
    code, out = queue(capfd, "status")
    assert code == 0, out
    assert out.splitlines() == [
        'queue: tsp (backend = "auto" in pyproject.toml; pueue is not installed)',
        'tsp: no jobs of this project yet; queue one with `just queue "Q: ... H: ..." just eval`',
    ]
    assert not (project / QUEUE_DIR / SOCKET).exists()  # looking does not start a server


def test_auto_without_any_engine_names_each_install_command_and_the_foreground_run(
    project, capfd, monkeypatch, tmp_path
):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a TTY
    code, out = queue(capfd, "add", "--label", A, "--", "true")
    assert code == 1
    first = out.splitlines()[0]
    assert first.startswith(
        "autoresearch: nothing was queued: no queue engine can take jobs here: pueue is not installed"
    )
    for needed in ("cargo install --locked pueue", "apt-get install task-spooler", "Slurm's", "login node"):
        assert needed in first
    assert "--foreground" in out


def test_a_ts_command_counts_only_when_it_is_task_spooler(tmp_path: Path, monkeypatch):
    installed = find_tsp()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    (bin_dir / "ts").write_text("#!/bin/sh\nexec cat\n")  # moreutils' ts timestamps its input
    (bin_dir / "ts").chmod(0o755)
    assert find_tsp() is None
    if installed is not None:
        (bin_dir / "ts").unlink()
        (bin_dir / "ts").symlink_to(installed)
        assert find_tsp() == str(bin_dir / "ts")


@real
def test_the_dashboard_counts_waiting_running_and_finished_jobs_not_yet_journaled(
    tsp_project: Path, capfd, monkeypatch
):
    from rich.console import Console

    from autoresearch.queue import summary

    monkeypatch.setenv("FAKE_EVAL_SECONDS", "0.2")
    for label in (A, B):
        add(capfd, label)
    assert queue(capfd, "wait")[0] == 0
    assert main(["journal", "add", "--title", "rotary: 1.50 vs -0.02", "--observation", f"{A}: as expected"]) == 0
    monkeypatch.setenv("FAKE_EVAL_SECONDS", "60")
    running = add(capfd, "Q: long? H: yes")
    add(capfd, "Q: next? H: yes")
    until(lambda: jobs(tsp_project)[running].state == "running", 20, "the long job to start")
    panel, not_journaled = summary(Project.find(tsp_project))
    console = Console(width=200, record=True)
    console.print(panel)
    assert "tsp: 1 waiting · 1 running · 2 finished, 1 not yet journaled (just queue-review)" in console.export_text()
    assert not_journaled == 1


@real
def test_finished_jobs_keep_label_and_result_after_the_server_stops_and_new_ids_do_not_mix_with_old(
    tsp_project: Path, capfd, monkeypatch
):
    monkeypatch.setenv("FAKE_EVAL_SECONDS", "0.2")
    old = add(capfd, A)
    assert queue(capfd, "wait")[0] == 0
    stop_tsp(tsp_project)  # a reboot, as far as the queue can tell
    code, out = queue(capfd, "status")
    assert code == 0, out
    assert "done" in line_of(out, old) and "1.5000" in line_of(out, old)
    assert "fake_eval: end" in queue(capfd, "log", old)[1]
    new = add(capfd, B, "sh", "-c", "exit 4")
    assert queue(capfd, "wait", new)[0] == 1
    ledger = [r for r in read_jsonl(tsp_project / QUEUE_DIR / LEDGER) if "event" not in r]
    assert [r["tsp"] for r in ledger] == ["0", "0"]  # the new server counts from 0 again ...
    assert (old, new) == ("0", "1")  # ... the project's job numbers go on
    states = [(j.id, j.label, j.state) for j in make_backend(Project.find(tsp_project)).status()]
    assert states == [("0", A, "done"), ("1", B, "failed")]
