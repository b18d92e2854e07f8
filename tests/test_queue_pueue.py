"""The pueue adapter. pueue is not installable on the machines this was written on, so:

- its command construction and `status --json` parsing are tested on recorded samples from
  pueue's own repository (v3 and v4 shapes, cited below), and the CLI's plumbing against a
  stand-in `pueue` script that replays such a sample and records its arguments;
- the tests marked `real` start a private pueued and run jobs through it; they run only where
  `pueue` and `pueued` are on PATH and are skipped otherwise.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from queue_jobs import EVAL, make_row_writing, until

from autoresearch import results
from autoresearch.cli import main
from autoresearch.config import Config
from autoresearch.errors import UserError
from autoresearch.paths import Project
from autoresearch.queue.base import gpus_from_nvidia_smi
from autoresearch.queue.commands import make_backend
from autoresearch.queue.pueue import (
    add_args,
    choose_group,
    group_load,
    parse_status,
    task_to_job,
    unwrap,
    wrap,
)


def last_row(project: Path) -> dict:
    p = Project.find(project)
    return results.load(p, Config.load(p)).rows()[-1]


LABEL = "Q: does the wrapper quote \"$HOME\", 'quotes' and a=b? H: the job sees it verbatim"

# `pueue status --json` prints the daemon's State struct with serde_json (pueue/src/client/commands/
# state/mod.rs: `serde_json::to_string(&state)`; v3.4.1: pueue/src/client/display/state.rs).
# V4: tasks 0-4 of pueue_lib/tests/data/v4.0.0_state.json in Nukesor/pueue (a saved State),
# verbatim except `label` and `path`, whose values (not keys) were changed to test labels and the
# project filter. Task 5 is the same shape with the TaskResult `Killed`, task 6 with `Locked`,
# as serde writes the enums of pueue_lib/src/task.rs (externally tagged) -- not seen in a sample.
V4 = {
    "tasks": {
        "0": {
            "id": 0,
            "created_at": "2024-07-18T14:55:02.656354132+02:00",
            "original_command": "ls",
            "command": "ls",
            "path": "/PROJECT",
            "envs": {},
            "group": "default",
            "dependencies": [],
            "priority": 0,
            "label": "Q: a? H: b",
            "status": {
                "Done": {
                    "enqueued_at": "2024-07-18T14:55:02.656334442+02:00",
                    "start": "2024-07-18T14:55:02.890447203+02:00",
                    "end": "2024-07-18T14:55:03.191922436+02:00",
                    "result": "Success",
                }
            },
        },
        "1": {
            "id": 1,
            "created_at": "2024-07-18T14:55:09.965451882+02:00",
            "original_command": "ls",
            "command": "ls",
            "path": "/PROJECT/5_worktrees/x",
            "envs": {},
            "group": "default",
            "dependencies": [],
            "priority": 0,
            "label": None,
            "status": {
                "Done": {
                    "enqueued_at": "2024-07-18T14:55:09.965430002+02:00",
                    "start": "2024-07-18T14:55:10.116492792+02:00",
                    "end": "2024-07-18T14:55:10.418112074+02:00",
                    "result": {"Failed": 2},
                }
            },
        },
        "2": {
            "id": 2,
            "created_at": "2024-07-18T14:55:16.045036378+02:00",
            "original_command": "ls",
            "command": "ls",
            "path": "/PROJECT",
            "envs": {},
            "group": "default",
            "dependencies": [],
            "priority": 0,
            "label": None,
            "status": {"Stashed": {"enqueue_at": None}},
        },
        "3": {
            "id": 3,
            "created_at": "2024-07-18T14:55:23.253045880+02:00",
            "original_command": "sleep 9000000",
            "command": "sleep 9000000",
            "path": "/elsewhere",
            "envs": {},
            "group": "gpu0",
            "dependencies": [],
            "priority": 0,
            "label": None,
            "status": {
                "Running": {
                    "enqueued_at": "2024-07-18T14:55:23.253039780+02:00",
                    "start": "2024-07-18T14:55:23.365190551+02:00",
                }
            },
        },
        "4": {
            "id": 4,
            "created_at": "2024-07-18T14:55:52.901140728+02:00",
            "original_command": "pueue sleep 60",
            "command": "pueue sleep 60",
            "path": "/PROJECT",
            "envs": {},
            "group": "gpu1",
            "dependencies": [],
            "priority": 0,
            "label": None,
            "status": {"Queued": {"enqueued_at": "2024-07-18T14:55:52.901136338+02:00"}},
        },
        "5": {
            "id": 5,
            "created_at": "2024-07-18T14:56:00.000000000+02:00",
            "original_command": "sleep 60",
            "command": "sleep 60",
            "path": "/PROJECT",
            "envs": {},
            "group": "gpu1",
            "dependencies": [],
            "priority": 0,
            "label": None,
            "status": {
                "Done": {
                    "enqueued_at": "2024-07-18T14:56:00.000000000+02:00",
                    "start": "2024-07-18T14:56:01+02:00",
                    "end": "2024-07-18T14:56:31+02:00",
                    "result": "Killed",
                }
            },
        },
        "6": {
            "id": 6,
            "created_at": "2024-07-18T14:57:00+02:00",
            "original_command": "ls",
            "command": "ls",
            "path": "/PROJECT",
            "envs": {},
            "group": "gpu0",
            "dependencies": [],
            "priority": 0,
            "label": None,
            "status": {"Locked": {"previous_status": {"Queued": {"enqueued_at": "2024-07-18T14:57:00+02:00"}}}},
        },
    },
    "groups": {
        "default": {"status": "Running", "parallel_tasks": 1},
        "test": {"status": "Running", "parallel_tasks": 1},
    },
}
# V3: tasks 0, 2 and 3 of pueue/tests/daemon/data/v2.0.0_state.json at tag v3.4.1 (the v3 daemon
# reads that format; the v3.4.1 Task adds created_at, enqueued_at and priority, with serde
# defaults), verbatim except label and path values. Task 4 (Running) and 5 (Failed) follow the v3.4.1
# Task and TaskStatus of pueue_lib/src/task.rs: a bare "Running", {"Done": {"Failed": 1}}, start and
# end on the task itself -- written from those definitions, not seen in a sample.
V3 = {
    "tasks": {
        "0": {
            "id": 0,
            "original_command": "ls",
            "command": "ls",
            "path": "/PROJECT",
            "envs": {},
            "group": "default",
            "dependencies": [],
            "label": "Q: a? H: b",
            "status": {"Done": "Success"},
            "prev_status": "Queued",
            "start": "2022-05-09T18:41:29.273563806+02:00",
            "end": "2022-05-09T18:41:29.473998692+02:00",
        },
        "2": {
            "id": 2,
            "original_command": "ls",
            "command": "ls",
            "path": "/PROJECT",
            "envs": {"PUEUE_WORKER_ID": "0", "PUEUE_GROUP": "test"},
            "group": "test",
            "dependencies": [],
            "label": None,
            "status": "Queued",
            "prev_status": "Queued",
            "start": None,
            "end": None,
        },
        "3": {
            "id": 3,
            "original_command": "ls stash_it",
            "command": "ls stash_it",
            "path": "/PROJECT",
            "envs": {},
            "group": "default",
            "dependencies": [],
            "label": None,
            "status": {"Stashed": {"enqueue_at": None}},
            "prev_status": {"Stashed": {"enqueue_at": None}},
            "start": None,
            "end": None,
        },
        "4": {
            "id": 4,
            "original_command": "sleep 60",
            "command": "sleep 60",
            "path": "/PROJECT",
            "envs": {},
            "group": "gpu0",
            "dependencies": [],
            "label": None,
            "status": "Running",
            "prev_status": "Queued",
            "start": "2022-05-09T18:42:00+02:00",
            "end": None,
        },
        "5": {
            "id": 5,
            "original_command": "false",
            "command": "false",
            "path": "/PROJECT",
            "envs": {},
            "group": "gpu0",
            "dependencies": [],
            "label": None,
            "status": {"Done": {"Failed": 1}},
            "prev_status": "Running",
            "start": "2022-05-09T18:43:00+02:00",
            "end": "2022-05-09T18:43:02+02:00",
        },
    },
    "groups": {
        "default": {"status": "Running", "parallel_tasks": 1},
        "test": {"status": "Paused", "parallel_tasks": 2},
    },
}
# `nvidia-smi -L` on a machine with two GPUs, the second split into MIG instances.
NVIDIA_SMI_L = """GPU 0: NVIDIA H200 (UUID: GPU-5b3b7a2e-0c2d-4a51-9f0e-1d2c3b4a5f60)
GPU 1: NVIDIA A100-SXM4-80GB (UUID: GPU-8e0c2f6a-7d3b-4c1e-a2f4-6b5d4c3e2f10)
  MIG 3g.40gb     Device  0: (UUID: MIG-1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718)
"""


def jobs_of(sample: dict) -> dict[str, tuple[str, str]]:
    tasks, _ = parse_status(json.dumps(sample))
    return {str(t["id"]): (task_to_job(t).state, task_to_job(t).detail) for t in tasks}


def test_v4_status_json_becomes_jobs():
    assert jobs_of(V4) == {
        "0": ("done", "Success"),
        "1": ("failed", "Failed(2)"),
        "2": ("stashed", "Stashed"),
        "3": ("running", "Running"),
        "4": ("queued", "Queued"),
        "5": ("cancelled", "Killed"),
        "6": ("queued", "Locked"),
    }
    tasks, groups = parse_status(json.dumps(V4))
    done = task_to_job(tasks[0])
    assert (done.label, done.command, done.where) == ("Q: a? H: b", "ls", "default")
    assert done.start == datetime.fromisoformat("2024-07-18T14:55:02.890447+02:00")
    assert done.runtime == pytest.approx(0.301475)
    running = task_to_job(tasks[3], now=datetime.fromisoformat("2024-07-18T14:56:23.365190+02:00"))
    assert running.runtime == pytest.approx(60.0)
    assert task_to_job(tasks[4]).start is None
    assert set(groups) == {"default", "test"}


def test_v3_status_json_becomes_jobs():
    assert jobs_of(V3) == {
        "0": ("done", "Success"),
        "2": ("queued", "Queued"),
        "3": ("stashed", "Stashed"),
        "4": ("running", "Running"),
        "5": ("failed", "Failed(1)"),
    }
    tasks, _ = parse_status(json.dumps(V3))
    assert task_to_job(tasks[0]).runtime == pytest.approx(0.200435)
    assert task_to_job(tasks[-1]).runtime == 2.0


def test_unfinished_tasks_count_towards_their_group_whoever_queued_them():
    tasks, _ = parse_status(json.dumps(V4))
    assert group_load(tasks) == Counter({"gpu0": 2, "gpu1": 1, "default": 1})


def test_gpus_come_from_nvidia_smi_and_mig_lines_are_not_gpus():
    assert gpus_from_nvidia_smi(NVIDIA_SMI_L) == [0, 1]
    assert gpus_from_nvidia_smi("") == []


def test_auto_takes_the_least_loaded_gpu_and_an_index_takes_that_gpu():
    load = Counter({"gpu0": 2, "gpu1": 1})
    assert choose_group("auto", [0, 1, 2], load) == ("gpu2", "2")
    assert choose_group("auto", [0, 1], load) == ("gpu1", "1")
    assert choose_group("auto", [0, 1], Counter()) == ("gpu0", "0")
    assert choose_group("0", [0, 1], load) == ("gpu0", "0")
    assert choose_group("none", [0, 1], load) == ("default", "")
    assert choose_group("auto", [], load) == ("default", None)
    with pytest.raises(UserError, match="no such GPU; nvidia-smi -L lists 0, 1"):
        choose_group("2", [0, 1], load)
    with pytest.raises(UserError, match="no GPU here"):
        choose_group("0", [], load)


def test_the_wrapped_command_gives_the_job_its_label_and_gpu_through_a_real_shell(tmp_path: Path):
    command = [
        sys.executable,
        "-c",
        "import os, sys; print(os.environ['AUTORESEARCH_LABEL']); print(os.environ['CUDA_VISIBLE_DEVICES']); print(sys.argv[1:])",
        "a b",
        "$x",
    ]
    wrapped = wrap(command, LABEL, "1")
    out = subprocess.run(
        ["sh", "-c", wrapped], capture_output=True, text=True, check=True
    ).stdout.splitlines()  # pueue runs `sh -c`
    assert out == [LABEL, "1", "['a b', '$x']"]
    assert unwrap(wrapped) == shlex.join(command)
    assert unwrap("env FOO=1 ls") == "env FOO=1 ls"  # a user's own env is left alone
    assert unwrap("ls -l") == "ls -l"


def test_add_arguments_name_label_group_and_working_directory(tmp_path: Path):
    args = add_args(["just", "eval"], LABEL, "gpu1", "1", tmp_path)
    assert args[:9] == [
        "pueue",
        "add",
        "--print-task-id",
        "--label",
        LABEL,
        "--group",
        "gpu1",
        "--working-directory",
        str(tmp_path),
    ]
    assert args[9] == "--" and shlex.split(args[10]) == [
        "env",
        "CUDA_DEVICE_ORDER=PCI_BUS_ID",
        "CUDA_VISIBLE_DEVICES=1",
        f"AUTORESEARCH_LABEL={LABEL}",
        "just",
        "eval",
    ]
    no_gpu = shlex.split(add_args(["just", "eval"], LABEL, "default", None, tmp_path)[-1])
    assert no_gpu == ["env", f"AUTORESEARCH_LABEL={LABEL}", "just", "eval"]


# ---- the CLI's plumbing against a stand-in `pueue` (it replays a sample and records its calls)

STAND_IN = """#!{python}
import json, os, sys
with open(os.environ["STAND_IN_CALLS"], "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1:3] == ["status", "--json"]:
    print(open(os.environ["STAND_IN_STATE"]).read())
elif sys.argv[1] == "add":
    print(os.environ.get("STAND_IN_ID", "7"))
"""


@pytest.fixture
def stand_in(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pueue").write_text(STAND_IN.format(python=sys.executable))
    (bin_dir / "pueue").chmod(0o755)
    state = json.loads(json.dumps(V4).replace("/PROJECT", str(project)))
    (tmp_path / "state.json").write_text(json.dumps(state))
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("STAND_IN_STATE", str(tmp_path / "state.json"))
    monkeypatch.setenv("STAND_IN_CALLS", str(tmp_path / "calls.jsonl"))
    monkeypatch.setenv("COLUMNS", "300")
    if shutil.which("pueue") != str(bin_dir / "pueue"):
        pytest.skip("another pueue shadows the stand-in")

    def calls() -> list[list[str]]:
        return [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]

    return calls


def test_add_prints_the_id_and_makes_one_group_per_gpu(stand_in, project: Path, capsys, monkeypatch):
    monkeypatch.setattr("autoresearch.queue.pueue.detect_gpus", lambda: [0, 1])
    assert main(["queue", "add", "--label", LABEL, "--", "just", "eval"]) == 0
    assert capsys.readouterr().out == "7\n"
    calls = stand_in()
    assert ["group", "add", "gpu0", "--parallel", "1"] in calls and ["group", "add", "gpu1", "--parallel", "1"] in calls
    add = next(c for c in calls if c[0] == "add")
    assert add[add.index("--group") + 1] == "gpu1"  # gpu0 has two unfinished tasks, gpu1 one
    assert add[add.index("--label") + 1] == LABEL
    assert add[add.index("--working-directory") + 1] == str(project)


def test_status_lists_this_projects_tasks_only(stand_in, project: Path, capsys):
    assert main(["queue", "status"]) == 0
    out = capsys.readouterr().out
    ids = [line.split("│")[0].strip() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert ids == ["0", "1", "2", "4", "5", "6"]  # task 3 ran in /elsewhere
    assert "Q: a? H: b" in out and "Failed(2)" in out


def test_kill_kills_a_running_task_and_removes_a_queued_one(stand_in, project: Path, capsys):
    state = Path(os.environ["STAND_IN_STATE"])
    data = json.loads(state.read_text())
    data["tasks"]["3"]["path"] = str(project)
    state.write_text(json.dumps(data))
    assert main(["queue", "kill", "3"]) == 0 and main(["queue", "kill", "4"]) == 0
    assert capsys.readouterr().out.splitlines() == ["killed job 3", "removed job 4 from the queue (it had not started)"]
    assert ["kill", "3"] in stand_in() and ["remove", "4"] in stand_in()
    assert main(["queue", "kill", "0"]) == 1
    assert "already ended (done)" in capsys.readouterr().err


def test_a_daemon_that_does_not_answer_is_reported(project: Path, tmp_path: Path, monkeypatch, capsys):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pueue").write_text("#!/bin/sh\necho 'Error: Failed to connect to the daemon' >&2\nexit 1\n")
    (bin_dir / "pueue").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setattr(sys, "stdin", io.StringIO())  # not a terminal: no question is asked
    assert main(["queue", "add", "--backend", "pueue", "--label", LABEL, "--", "true"]) == 1  # auto would go on to tsp
    err = capsys.readouterr().err
    assert "pueue's daemon is not answering (Error: Failed to connect to the daemon): start it with `pueued -d`" in err
    assert main(["queue", "status", "--backend", "pueue"]) == 1


# ---- a real pueue daemon (only where pueue is installed)

real = pytest.mark.skipif(
    not (shutil.which("pueue") and shutil.which("pueued")),
    reason="pueue is not installed (no registry reached here carries it): cargo install --locked pueue",
)


@pytest.fixture
def pueued(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A private pueued: its own config, state and socket under tmp_path; stopped by PID."""
    config = tmp_path / "pueue.yml"
    config.write_text(
        "shared:\n"
        f"  pueue_directory: {tmp_path / 'pueue'}\n"
        f"  runtime_directory: {tmp_path / 'pueue-run'}\n"
        "  use_unix_socket: true\n"
        f"  unix_socket_path: {tmp_path / 'pueue.socket'}\n"
    )
    monkeypatch.setenv("PUEUE_CONFIG_PATH", str(config))
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1] / "src"))
    monkeypatch.setenv("COLUMNS", "300")
    daemon = subprocess.Popen(["pueued", "--config", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while subprocess.run(["pueue", "status", "--json"], capture_output=True).returncode != 0:
        assert daemon.poll() is None and time.monotonic() < deadline, "pueued did not start"
        time.sleep(0.2)
    yield daemon
    daemon.terminate()
    daemon.wait(timeout=10)


@real
def test_real_pueue_runs_a_labelled_eval_whose_row_carries_the_label(pueued, project: Path, capsys):
    make_row_writing(project)
    assert main(["queue", "add", "--gpu", "none", "--label", LABEL, "--", sys.executable, *EVAL]) == 0
    job_id = capsys.readouterr().out.strip()
    assert main(["queue", "wait", job_id]) == 0
    assert f"job {job_id}: done" in capsys.readouterr().out
    row = last_row(project)
    assert (row["label"], row["status"], row["val_bpb"]) == (LABEL, "ok", 8.0)
    assert main(["queue", "status"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.strip().startswith(job_id))
    assert "done" in line and "8.0000" in line and LABEL in line
    assert main(["queue", "log", job_id]) == 0
    assert main(["queue", "review"]) == 0
    assert "the job sees it verbatim" in capsys.readouterr().out


@real
def test_real_pueue_kill_stops_a_running_job(pueued, project: Path, capsys):
    assert main(["queue", "add", "--gpu", "none", "--label", "Q: can it be killed? H: yes", "--", "sleep", "300"]) == 0
    job_id = capsys.readouterr().out.strip()
    backend = make_backend(Project.find(project))
    until(lambda: backend.job(job_id).state == "running", 20, "the job to run")
    assert main(["queue", "kill", job_id]) == 0
    until(lambda: backend.job(job_id).state == "cancelled", 20, "the job to be killed")
    assert main(["queue", "wait", job_id]) == 1


@real
def test_real_pueue_job_sees_its_label_and_log_prints_its_output(pueued, project: Path, capfd):
    assert main(["queue", "add", "--label", LABEL, "--", "sh", "-c", 'echo "label=[$AUTORESEARCH_LABEL]"']) == 0
    job_id = capfd.readouterr().out.strip()
    assert main(["queue", "wait", job_id]) == 0
    capfd.readouterr()
    assert main(["queue", "log", job_id]) == 0
    assert f"label=[{LABEL}]" in capfd.readouterr().out
