"""The Slurm adapter: sbatch arguments and scontrol/sacct parsing on recorded output, then the
whole queue on a real single-node Slurm cluster (tests/slurm_cluster.py; skipped where Slurm is
not installed): a queued eval writes its row with the label, status shows it done, kill cancels.

The cluster's eval is the project's fixture eval.py (profile tiny) with a stand-in train.py
(tests/queue_jobs.py).
"""

from __future__ import annotations

import io
import sys
from datetime import datetime
from pathlib import Path

import pytest
from queue_jobs import EVAL, make_row_writing, until
from slurm_cluster import SlurmCluster, why_not

from autoresearch import results
from autoresearch.cli import main
from autoresearch.config import Config, SlurmSettings
from autoresearch.errors import UserError
from autoresearch.paths import Project
from autoresearch.queue.commands import make_backend
from autoresearch.queue.slurm import fields_to_job, parse_sacct, parse_scontrol, sbatch_args

REPO = Path(__file__).resolve().parents[1]


def last_row(project: Path) -> dict:
    p = Project.find(project)
    return results.load(p, Config.load(p)).rows()[-1]


LABEL = "Q: does the queue carry a label with commas, quotes ' and a=b? H: the row's label holds it verbatim"

# Recorded from `scontrol -o show job 1` on the test cluster (Slurm 22.05.8, Debian bookworm).
SCONTROL_LINE = (
    "JobId=1 JobName=t1 UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901759 Nice=0 Account=(null) "
    "QOS=(null) JobState=COMPLETED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 "
    "ExitCode=0:0 RunTime=00:00:01 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-29T01:41:00 "
    "EligibleTime=2026-11-29T01:41:00 AccrueTime=2026-11-29T01:41:00 StartTime=2026-11-29T01:41:00 "
    "EndTime=2026-11-29T01:41:01 Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-29T01:41:00 "
    "Scheduler=Main Partition=debug AllocNode:Sid=localhost:4258 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm "
    "BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=1M,node=1,billing=1 "
    "Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) "
    "DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=(null) WorkDir=/tmp/sl "
    "Comment=Q: x? H: lr=3e-4 Wins=yes  StdErr=/tmp/sl/out-1.txt StdIn=/dev/null StdOut=/tmp/sl/out-1.txt Power= "
)
RECORD = {"id": "1", "label": "Q: x? H: lr=3e-4 Wins=yes", "command": "just eval"}


def test_sbatch_gets_label_output_settings_and_the_gres_of_a_gpu_job(tmp_path: Path):
    settings = SlurmSettings(partition="gpu", gres="gpu:a100:1", time="00:30:00", extra=("--account=lab", "--qos=low"))
    args = sbatch_args(
        ["just", "eval", "--seed", "1"], LABEL, settings, "auto", tmp_path / "out", tmp_path, "autoresearch-proj"
    )
    assert args == [
        "sbatch",
        "--parsable",
        "--job-name=autoresearch-proj",
        f"--comment={LABEL}",
        f"--output={tmp_path / 'out' / 'slurm-%j.out'}",
        f"--chdir={tmp_path}",
        "--export=ALL",
        "--partition=gpu",
        "--time=00:30:00",
        "--gres=gpu:a100:1",
        "--account=lab",
        "--qos=low",
        "--wrap",
        "just eval --seed 1",
    ]


def test_a_cpu_job_asks_for_no_gres_and_a_gpu_index_is_refused(tmp_path: Path):
    args = sbatch_args(["sleep", "1"], LABEL, SlurmSettings(), "none", tmp_path, tmp_path, "x")
    assert not [a for a in args if a.startswith("--gres")]
    assert "--time=01:00:00" in args and not [a for a in args if a.startswith("--partition")]
    with pytest.raises(UserError, match="Slurm assigns the GPUs itself"):
        sbatch_args(["sleep", "1"], LABEL, SlurmSettings(), "1", tmp_path, tmp_path, "x")


def test_scontrol_fields_keep_spaces_and_a_label_that_looks_like_fields():
    fields = parse_scontrol(SCONTROL_LINE, comment=RECORD["label"])
    assert fields["Comment"] == "Q: x? H: lr=3e-4 Wins=yes"
    assert "Wins" not in fields
    assert (fields["JobState"], fields["StartTime"], fields["EndTime"], fields["Partition"]) == (
        "COMPLETED",
        "2026-11-29T01:41:00",
        "2026-11-29T01:41:01",
        "debug",
    )
    assert fields["TRES"] == "cpu=1,mem=1M,node=1,billing=1"
    job = fields_to_job(fields, RECORD)
    assert (job.id, job.state, job.label, job.runtime, job.where) == ("1", "done", RECORD["label"], 1.0, "debug")


def test_a_pending_job_has_no_start_and_says_why_it_waits():
    fields = parse_scontrol(
        SCONTROL_LINE.replace("JobState=COMPLETED Reason=None", "JobState=PENDING Reason=Resources")
    )
    job = fields_to_job(fields, RECORD)
    assert (job.state, job.detail, job.start, job.runtime) == ("queued", "PENDING (Resources)", None, None)


def test_sacct_lines_become_fields_and_steps_are_skipped():
    # `sacct -c -P -n -o JobID,State,Start,End,ExitCode,Partition` (jobcomp/filetxt) and plain sacct with -X
    text = (
        "7|COMPLETED|2026-11-29T01:41:00|2026-11-29T01:41:05|0:0|test\n"
        "8|CANCELLED by 0|2026-11-29T01:42:00|2026-11-29T01:42:03|0:15|test\n"
        "8.batch|CANCELLED|2026-11-29T01:42:00|2026-11-29T01:42:03|0:15|\n"
        "9|TIMEOUT|2026-11-29T01:43:00|2026-11-29T02:43:00|0:0|test\n"
    )
    jobs = {i: fields_to_job(f, {"id": i, "label": "", "command": ""}) for i, f in parse_sacct(text).items()}
    assert {i: (j.state, j.runtime) for i, j in jobs.items()} == {
        "7": ("done", 5.0),
        "8": ("cancelled", 3.0),
        "9": ("failed", 3600.0),
    }
    assert jobs["9"].detail == "TIMEOUT exit 0:0"


def test_slurm_times_are_read_as_local_time_with_a_zone():
    fields = parse_scontrol(SCONTROL_LINE, comment=RECORD["label"])
    job = fields_to_job(fields, RECORD)
    assert job.start.tzinfo is not None and job.start == datetime.fromisoformat("2026-11-29T01:41:00").astimezone()


# ---- on a real cluster


@pytest.fixture(scope="session")
def slurm():
    reason = why_not()
    if reason:
        pytest.skip(reason)
    cluster = SlurmCluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def cluster_project(slurm, project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_row_writing(project)
    monkeypatch.setenv("PYTHONPATH", str(REPO / "src"))  # the jobs import the package from this checkout
    monkeypatch.setenv("COLUMNS", "400")  # rich tables on one line each
    return project


def queue(capsys, *args: str) -> tuple[int, str]:
    code = main(["queue", *args])
    out = capsys.readouterr()
    return code, out.out + out.err


def state_of(project: Path, job_id: str) -> str:
    return make_backend(Project.find(project), "slurm").job(job_id).state


def test_a_queued_eval_runs_on_slurm_and_its_row_carries_the_label(cluster_project: Path, capsys):
    code, out = queue(capsys, "add", "--backend", "slurm", "--label", LABEL, "--", sys.executable, *EVAL)
    assert code == 0, out
    job_id = out.splitlines()[0].strip()  # stdout first: the id; stderr says which backend took it
    assert job_id.isdigit()

    code, out = queue(capsys, "wait", "--backend", "slurm", job_id)
    assert code == 0, (
        out + make_backend(Project.find(cluster_project), "slurm").output.joinpath(f"slurm-{job_id}.out").read_text()
    )
    assert f"job {job_id}: done" in out

    row = last_row(cluster_project)
    assert (row["label"], row["status"], row["profile"], row["val_bpb"]) == (LABEL, "ok", "tiny", 8.0)

    code, out = queue(capsys, "status", "--backend", "slurm")
    line = next(line for line in out.splitlines() if line.strip().startswith(job_id))
    assert code == 0 and "done" in line and "8.0000" in line and LABEL in line and "eval.py" in line

    code, out = queue(capsys, "log", "--backend", "slurm", job_id)
    assert "val_bpb:          8.000000" in out and "row:              appended to" in out

    code, out = queue(capsys, "review", "--backend", "slurm")
    assert "the row's label holds it verbatim" in out and "8.0000" in out

    # Once slurmctld forgets the job (MinJobAge), completion logging still knows it: sacct -c.
    backend = make_backend(Project.find(cluster_project), "slurm")
    assert backend._accounted([job_id])[job_id]["JobState"] == "COMPLETED"


def test_a_job_sees_its_label_and_its_gpu_and_follow_prints_its_output(cluster_project: Path, capsys):
    script = 'echo "label=[$AUTORESEARCH_LABEL] gpu=[$CUDA_VISIBLE_DEVICES]"'
    code, out = queue(capsys, "add", "--backend", "slurm", "--label", LABEL, "--", "sh", "-c", script)
    job_id = out.splitlines()[0].strip()
    code, out = queue(capsys, "follow", "--backend", "slurm", job_id)
    assert code == 0, out
    # --gpu auto asks for the configured GRES (gpu:1); the test cluster's one pretend GPU is index 0.
    assert f"label=[{LABEL}] gpu=[0]" in out


def test_kill_cancels_a_running_job_and_status_shows_it_cancelled(cluster_project: Path, capsys):
    code, out = queue(
        capsys,
        "add",
        "--backend",
        "slurm",
        "--gpu",
        "none",
        "--label",
        "Q: can a job be killed? H: yes",
        "--",
        "sleep",
        "300",
    )
    job_id = out.splitlines()[0].strip()
    until(lambda: state_of(cluster_project, job_id) == "running", 30, f"job {job_id} to run")

    code, out = queue(capsys, "kill", "--backend", "slurm", job_id)
    assert (code, out.strip()) == (0, f"cancelled job {job_id}")
    until(lambda: state_of(cluster_project, job_id) == "cancelled", 30, f"job {job_id} to be cancelled")

    code, out = queue(capsys, "status", "--backend", "slurm")
    rows = [line for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert len(rows) == 1 and [c.strip() for c in rows[0].split("│")[:2]] == [
        job_id,
        "cancelled",
    ]  # this project's jobs only

    code, out = queue(capsys, "kill", "--backend", "slurm", job_id)
    assert code == 1 and "already ended (cancelled)" in out
    code, out = queue(capsys, "wait", "--backend", "slurm", job_id)
    assert code == 1 and f"job {job_id}: cancelled" in out


def test_the_dashboard_summary_lists_the_jobs(cluster_project: Path, capsys):
    from rich.console import Console

    from autoresearch.queue import summary

    pyproject = cluster_project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('backend = "auto"', 'backend = "slurm"'))
    assert Config.load(Project.find(cluster_project)).queue.backend == "slurm"
    assert "no jobs of this project yet" in str(summary(Project.find(cluster_project))[0])
    code, out = queue(capsys, "add", "--gpu", "none", "--label", "Q: is it listed? H: yes", "--", "true")
    assert code == 0
    until(lambda: state_of(cluster_project, out.splitlines()[0].strip()) == "done", 30, "the job to end")
    console = Console(width=200, record=True)
    panel, not_journaled = summary(Project.find(cluster_project))
    console.print(panel)
    text = console.export_text()
    assert "Q: is it listed? H: yes" in text and "1 finished" in text and not_journaled == 1


def test_an_unreachable_controller_is_reported_not_hidden(project: Path, monkeypatch, capsys, tmp_path: Path):
    if why_not():
        pytest.skip(why_not())
    conf = tmp_path / "slurm.conf"
    conf.write_text(
        "ClusterName=nowhere\nSlurmctldHost=localhost\nSlurmctldPort=1\nNodeName=localhost\nPartitionName=p Nodes=localhost\n"
    )
    monkeypatch.setenv("SLURM_CONF", str(conf))
    monkeypatch.setattr(sys, "stdin", io.StringIO())  # not a terminal: no question is asked
    code, out = queue(capsys, "add", "--backend", "slurm", "--label", LABEL, "--", "true")
    assert code == 1 and "nothing was queued: Slurm's controller is not answering" in out
