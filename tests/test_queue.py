"""The engine-independent queue: labels, settings, `queue add` without an engine, the CLI's `--`,
and how a job finds its rows in results.tsv. The engines: test_queue_pueue.py, test_queue_slurm.py."""

from __future__ import annotations

import io
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import append_rows

from autoresearch import results
from autoresearch.cli import main
from autoresearch.config import Config, QueueSettings, SlurmSettings
from autoresearch.errors import UserError
from autoresearch.paths import Project
from autoresearch.queue import commands
from autoresearch.queue.base import Job, parse_gpu, parse_label

LABEL = "Q: does a rotary base of 50k help? H: -0.01 bpb"


def test_label_splits_into_question_and_hypothesis():
    assert parse_label(LABEL) == ("does a rotary base of 50k help?", "-0.01 bpb")
    assert parse_label("Q: lr=3e-4, batch 8? H: loss < 2, within 5 min") == (
        "lr=3e-4, batch 8?",
        "loss < 2, within 5 min",
    )


@pytest.mark.parametrize("label", ["", "does X help?", "Q: does X help?", "H: -0.02", "Q: H: x", "Q: x H:"])
def test_a_label_without_question_and_hypothesis_is_refused(label):
    with pytest.raises(UserError, match="Q: <question> H: <hypothesis>"):
        parse_label(label)


def test_gpu_is_auto_none_or_an_index():
    assert [parse_gpu(g) for g in ("auto", "none", "0", "3")] == ["auto", "none", "0", "3"]
    for bad in ("-1", "gpu0", "01", "all"):
        with pytest.raises(UserError, match="expected auto, none or a GPU index"):
            parse_gpu(bad)


MINIMAL = "[tool.autoresearch]\nfrozen = []\nglobal = []\nappend_only = []\n"
"""The least a [tool.autoresearch] table holds: the taxonomy."""


def test_settings_default_to_auto_when_the_table_is_absent():
    assert Config.from_text(MINIMAL).queue == QueueSettings("auto", SlurmSettings())


def test_the_template_pyproject_declares_the_queue_settings(project: Path):
    settings = Config.load(Project.find(project)).queue
    assert settings.backend == "auto"
    assert settings.slurm == SlurmSettings(
        partition="", gres="gpu:1", time="01:00:00", extra=(), output=".autoresearch/queue"
    )


@pytest.mark.parametrize(
    "table, message",
    [
        ('backend = "celery"', "backend is 'celery', expected 'auto' or 'pueue' or 'tsp' or 'slurm'"),
        ('[tool.autoresearch.queue.slurm]\npartitions = "gpu"', "unknown key 'partitions'"),
        ('[tool.autoresearch.queue.slurm]\nextra = "--qos=low"', "extra is '--qos=low', expected a list of strings"),
        ("[tool.autoresearch.queue.slurm]\ntime = 60", "time is 60, expected a string"),
    ],
)
def test_bad_queue_settings_name_the_table_and_the_key(table: str, message: str):
    with pytest.raises(UserError, match=re.escape(message)):
        Config.from_text(f"{MINIMAL}[tool.autoresearch.queue]\n{table}\n")


def no_engines(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH with only python on it: no pueue, task-spooler or Slurm."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(bin_dir))


PRINT_LABEL = ["python", "-c", "import os; print('label:', os.environ['AUTORESEARCH_LABEL'])"]


def test_add_without_an_engine_explains_how_to_install_each_and_queues_nothing(project, monkeypatch, capsys, tmp_path):
    no_engines(monkeypatch, tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a TTY
    assert main(["queue", "add", "--label", LABEL, "--", *PRINT_LABEL]) == 1
    out = capsys.readouterr()
    assert "nothing was queued: no queue engine can take jobs here: pueue is not installed" in out.err
    assert "cargo install --locked pueue" in out.err and "pueued -d" in out.err
    assert "task-spooler is not installed" in out.err and "apt-get install task-spooler" in out.err
    assert "Slurm's sbatch, scontrol, scancel, sacct not on PATH" in out.err
    assert "--foreground" in out.err
    assert "label:" not in out.out  # it did not run


def test_add_with_foreground_runs_the_command_here_with_the_label(project, monkeypatch, capfd, tmp_path):
    no_engines(monkeypatch, tmp_path)
    assert main(["queue", "add", "--label", LABEL, "--foreground", "--", *PRINT_LABEL]) == 0
    out = capfd.readouterr()
    assert f"label: {LABEL}" in out.out
    assert "running in the foreground, not queued" in out.err


def test_add_on_a_tty_asks_before_running_in_the_foreground(project, monkeypatch, capfd, tmp_path):
    no_engines(monkeypatch, tmp_path)

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Tty("n\n"))
    assert main(["queue", "add", "--label", LABEL, "--", *PRINT_LABEL]) == 1
    assert "label:" not in capfd.readouterr().out
    monkeypatch.setattr(sys, "stdin", Tty("y\n"))
    assert main(["queue", "add", "--label", LABEL, "--", *PRINT_LABEL]) == 0
    assert f"label: {LABEL}" in capfd.readouterr().out


def test_the_command_after_double_dash_keeps_its_own_options(monkeypatch):
    seen = {}
    monkeypatch.setattr(
        commands, "add", lambda project, command, label, gpu, backend, fg: seen.update(command=command, gpu=gpu) or 0
    )
    monkeypatch.setattr("autoresearch.cli._here", lambda: (None, None))
    assert (
        main(
            [
                "queue",
                "add",
                "--label",
                LABEL,
                "--gpu",
                "1",
                "--",
                "python",
                "eval.py",
                "--profile",
                "cpu",
                "--label",
                "x",
            ]
        )
        == 0
    )
    assert seen == {"command": ["python", "eval.py", "--profile", "cpu", "--label", "x"], "gpu": "1"}


def test_add_refuses_a_bad_label_before_touching_any_engine(project, capsys):
    assert main(["queue", "add", "--label", "does X help?", "--", "just", "eval"]) == 1
    assert "does not read 'Q: <question> H: <hypothesis>'" in capsys.readouterr().err


def test_summary_is_none_when_no_engine_is_installed(project, monkeypatch, tmp_path):
    no_engines(monkeypatch, tmp_path)
    from autoresearch.queue import summary

    assert summary(Project.find(project)) == (None, 0)


T0 = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)


def job(id: str, label: str, start: datetime | None, end: datetime | None, state: str = "done") -> Job:
    return Job(id=id, label=label, state=state, start=start, runtime=None, command="just eval", end=end)


def test_a_job_gets_the_rows_with_its_label_written_while_it_ran(project: Path, result_row):
    stamp = lambda dt: dt.isoformat(timespec="seconds")  # noqa: E731
    append_rows(
        project,
        [
            result_row(label=LABEL, val_bpb=1.9, timestamp=stamp(T0 - timedelta(minutes=30))),  # an earlier job's
            result_row(label="Q: other? H: x", val_bpb=1.8, timestamp=stamp(T0 + timedelta(minutes=4))),
            result_row(label=LABEL, val_bpb=1.7, timestamp=stamp(T0 + timedelta(minutes=5))),
        ],
    )
    p = Project.find(project)
    record = results.load(p, Config.load(p))
    rows = commands.match_rows(
        [job("3", LABEL, T0, T0 + timedelta(minutes=5)), job("4", LABEL, None, None, "queued")], record
    )
    assert [r["val_bpb"] for r in rows["3"]] == [1.7]
    assert [r["row"] for r in rows["3"]] == [3]
    assert "4" not in rows


def test_the_metric_cell_shows_one_value_a_mean_or_the_crash():
    ok = {"status": "ok", "reason": "", "accuracy": 0.5}
    assert commands.observed([ok], "accuracy") == "0.5000"
    assert commands.observed([ok, ok | {"accuracy": 0.7}], "accuracy") == "0.6000 (mean of 2)"
    assert commands.observed([{"status": "crash", "reason": "nan", "accuracy": None}], "accuracy") == "crash: nan"
    assert commands.observed([], "accuracy") == ""


def test_queue_subcommands_parse(project, monkeypatch):
    from autoresearch.cli import main as cli

    for argv in (
        ["queue", "status", "--help"],
        ["queue", "review", "--help"],
        ["queue", "wait", "--help"],
        ["queue", "kill", "--help"],
    ):
        with pytest.raises(SystemExit) as e:
            cli(argv)
        assert e.value.code == 0


def test_job_ids_must_be_numbers(project, capsys, monkeypatch):
    monkeypatch.setattr(commands, "_ready", lambda project, name: None)
    assert main(["queue", "kill", "abc"]) == 1
    assert "job id 'abc': expected a number" in capsys.readouterr().err


def test_finished_is_done_failed_or_cancelled():
    assert [Job("1", "", s, None, None, "").finished for s in ("queued", "running", "done", "failed", "cancelled")] == [
        False,
        False,
        True,
        True,
        True,
    ]
