"""calibrate: the checks of the seed's metric requirements, the record, the journal entry, the refusals.

The decision logic runs on fake eval.py outputs (a stand-in eval.py that prints a summary block
from a table, no training); two integration tests run the real eval.py (a tiny profile, and smoke).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autoresearch import calibrate, stats
from autoresearch.calibrate import Run, Window, assess
from autoresearch.cli import main
from autoresearch.errors import UserError
from autoresearch.summary import parse_summary
from conftest import add_tiny_profile, git

REPO = Path(__file__).resolve().parents[1]

FAKE_EVAL = textwrap.dedent('''\
    """A stand-in eval.py: the summary block of the value FAKE_EVAL assigns to the seed (no training)."""
    import argparse, json, os, sys
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", default="cpu")
    args, _ = parser.parse_known_args()
    fake = json.loads(os.environ["FAKE_EVAL"])
    calls = os.environ["FAKE_CALLS"]
    with open(calls, "a") as f:
        f.write(" ".join(sys.argv[1:]) + "\\n")
    seen = open(calls).read().count(f"--seed {args.seed} ")
    if fake.get("crash"):
        print("---\\nstatus:           crash\\nreason:           exception\\nerror:            ValueError: boom")
        sys.exit(1)
    value = fake["repeat"] if seen > 1 and "repeat" in fake else fake["values"][str(args.seed)]
    print("some log line: not the summary")
    print("---")
    print(f"val_bpb:          {value:.6f}")
    print(f"seed:             {args.seed}")
    print(f"profile:          {args.profile}")
    print("device:           cpu")
    print(f"val_hash:         {fake.get('hash', 'abcdef123456')}")
    print(f"val_bpb_exact:    {value!r}")
    print("row:              not written (fake)")
''')


@pytest.fixture
def fake(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Replace the project's eval.py with FAKE_EVAL (committed); set its values with fake({...})."""
    (project / "eval.py").write_text(FAKE_EVAL)
    git(project, "commit", "-q", "-am", "fake eval")
    monkeypatch.setitem(calibrate.WINDOWS, "cpu", Window(0, 60, "a test window"))
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("FAKE_CALLS", str(calls))

    def set_values(config: dict) -> Path:
        monkeypatch.setenv("FAKE_EVAL", json.dumps(config))
        return calls

    return set_values


def record(project: Path) -> dict:
    return json.loads((project / ".autoresearch" / "calibration.json").read_text())


def runs(values: list[float], seconds: float = 120.0, profile: str = "cpu", device: str = "cpu", val_hash: str = "h1") -> list[Run]:
    return [Run(seed, v, seconds, val_hash, profile, device) for seed, v in enumerate(values)]


def by_name(checks) -> dict:
    return {c.requirement: c for c in checks}


# ---- the decision logic ----------------------------------------------------------------------


def test_a_quiet_deterministic_metric_passes_every_check():
    baseline = runs([1.900, 1.902, 1.898])
    checks, figures = assess(baseline, baseline[0], meaningful=0.02, previous=None)
    assert all(c.passed for c in checks), [c for c in checks if not c.passed]
    assert figures["passed"] and figures["deterministic"]
    assert figures["std"] == pytest.approx(0.002)
    assert figures["threshold"] == pytest.approx(stats.min_detectable_effect(0.002, 3)) == pytest.approx(0.00919, abs=1e-4)
    assert figures["values"] == [1.900, 1.902, 1.898] and figures["seeds"] == [0, 1, 2] and figures["n"] == 3


def test_a_spread_larger_than_the_meaningful_effect_fails_spread_and_detectable_effect():
    baseline = runs([1.90, 1.95, 1.86])
    checks, figures = assess(baseline, baseline[0], meaningful=0.02, previous=None)
    c = by_name(checks)
    assert not c["spread across seeds"].passed and not c["minimum detectable effect"].passed
    assert not figures["passed"]


def test_the_detectable_effect_can_fail_while_std_alone_passes():
    baseline = runs([1.900, 1.910, 1.892])  # std 0.009 < 0.02, but 4.6 std > 0.02
    c = by_name(assess(baseline, baseline[0], meaningful=0.02, previous=None)[0])
    assert c["spread across seeds"].passed and not c["minimum detectable effect"].passed


def test_cpu_repeat_must_be_bit_identical():
    baseline = runs([1.900, 1.902, 1.898])
    repeat = Run(0, 1.900 + 1e-12, 120.0, "h1", "cpu", "cpu")
    checks, figures = assess(baseline, repeat, meaningful=0.02, previous=None)
    assert not by_name(checks)["determinism"].passed and not figures["deterministic"] and not figures["passed"]


def test_cuda_repeat_may_differ_within_the_stated_tolerance():
    baseline = runs([1.900, 1.902, 1.898], seconds=600, profile="cuda", device="cuda")
    close = Run(0, 1.900 * (1 + 0.5e-3), 600, "h1", "cuda", "cuda")
    far = Run(0, 1.900 * (1 + 2e-3), 600, "h1", "cuda", "cuda")
    assert by_name(assess(baseline, close, 0.02, None)[0])["determinism"].passed
    assert not by_name(assess(baseline, far, 0.02, None)[0])["determinism"].passed


def test_runtime_window_is_the_profiles_or_its_devices():
    assert calibrate.window_for("cuda", "cuda") == Window(300, 2400, calibrate.WINDOWS["cuda"].why)
    assert calibrate.window_for("cuda-small", "cuda") is calibrate.WINDOWS["cuda"]
    fast_gpu = runs([1.900, 1.902, 1.898], seconds=100, profile="cuda", device="cuda")
    c = by_name(assess(fast_gpu, fast_gpu[0], 0.02, None)[0])["runtime inside the window"]
    assert not c.passed and "300-2400 s" in c.criterion
    with pytest.raises(UserError, match="no runtime window"):
        calibrate.window_for("tpu", "tpu")


def test_the_eval_split_must_match_across_runs_and_the_previous_calibration():
    baseline = runs([1.900, 1.902, 1.898])
    moved = Run(0, 1.900, 120.0, "h2", "cpu", "cpu")
    checks, figures = assess(baseline, moved, 0.02, None)
    assert not by_name(checks)["fixed eval split"].passed and figures["val_hash"] is None
    assert by_name(assess(baseline, baseline[0], 0.02, {"val_hash": "h1"})[0])["fixed eval split"].passed
    assert not by_name(assess(baseline, baseline[0], 0.02, {"val_hash": "h0"})[0])["fixed eval split"].passed


def test_assess_needs_two_seeds():
    with pytest.raises(UserError, match="at least 2 seeds"):
        assess(runs([1.9]), runs([1.9])[0], 0.02, None)


def test_parse_summary_reads_the_last_block_and_stops_at_its_end():
    stdout = "noise: here\n---\nval_bpb:          9.0\n---\nval_bpb:          1.912345\nerror:            ValueError: a: b\nprofile:          cpu\nrow:              appended to /x/results.tsv\n"
    assert parse_summary(stdout) == {
        "val_bpb": "1.912345", "error": "ValueError: a: b", "profile": "cpu", "row": "appended to /x/results.tsv",
    }
    assert parse_summary("no block at all") == {}


def test_meaningful_effect_is_read_from_pyproject_and_required(project: Path):
    assert calibrate.meaningful_effect(project / "pyproject.toml") == 0.02
    text = (project / "pyproject.toml").read_text().replace("meaningful_effect = 0.02", "meaningful_effect = -1")
    (project / "pyproject.toml").write_text(text)
    with pytest.raises(UserError, match=r"meaningful_effect is -1; set it"):
        calibrate.meaningful_effect(project / "pyproject.toml")


# ---- the command on a fake eval.py -----------------------------------------------------------


def test_calibrate_runs_n_seeds_and_a_repeat_records_and_journals(project: Path, fake, capsys):
    calls = fake({"values": {"0": 1.9, "1": 1.902, "2": 1.898}})
    assert main(["calibrate", "--seeds", "3", "--profile", "cpu"]) == 0
    lines = calls.read_text().splitlines()
    assert [line.split("--seed ")[1].split()[0] for line in lines] == ["0", "1", "2", "0"]
    assert all("--kind calibration" in line and "--profile cpu" in line for line in lines)
    entry = record(project)["profiles"]["cpu"]
    assert entry["threshold"] == pytest.approx(stats.min_detectable_effect(0.002, 3))
    assert entry["passed"] and entry["deterministic"] and entry["repeat_value"] == 1.9
    assert entry["seeds"] == [0, 1, 2] and entry["values"] == [1.9, 1.902, 1.898]
    assert entry["commit"] == git(project, "rev-parse", "--short", "HEAD") and entry["date"]
    assert (entry["alpha"], entry["power"], entry["val_hash"]) == (0.05, 0.8, "abcdef123456")
    journal = (project / "meta_journal.md").read_text()
    assert "calibrate cpu: pass, std 0.0020, threshold 0.0092" in journal
    out = capsys.readouterr().out
    assert "metric design requirements" in out and "FAIL" not in out and "remedies" not in out


def test_calibrate_keeps_the_other_profiles_entries(project: Path, fake):
    folder = project / ".autoresearch"
    folder.mkdir()
    (folder / "calibration.json").write_text(json.dumps({"profiles": {"cuda": {"threshold": 0.005}}}))
    fake({"values": {"0": 1.9, "1": 1.902}})
    assert main(["calibrate", "--seeds", "2", "--profile", "cpu"]) == 0
    profiles = record(project)["profiles"]
    assert profiles["cuda"] == {"threshold": 0.005} and profiles["cpu"]["n"] == 2


def test_a_noisy_metric_fails_prints_the_remedies_and_exits_1(project: Path, fake, capsys):
    fake({"values": {"0": 1.90, "1": 1.95, "2": 1.86}})
    assert main(["calibrate", "--profile", "cpu"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "more eval data" in out and "token budget instead of a time budget" in out
    assert "spread across seeds:" in out
    entry = record(project)["profiles"]["cpu"]
    assert not entry["passed"] and entry["threshold"] > 0.02  # the measured noise still sets the threshold
    assert "calibrate cpu: FAIL" in (project / "meta_journal.md").read_text()


def test_a_repeat_that_differs_fails_determinism(project: Path, fake, capsys):
    fake({"values": {"0": 1.9, "1": 1.902, "2": 1.898}, "repeat": 1.9001})
    assert main(["calibrate", "--profile", "cpu"]) == 1
    assert record(project)["profiles"]["cpu"]["checks"]["determinism"] is False
    assert "determinism:" in capsys.readouterr().out


def test_calibrate_refuses_uncommitted_training_code_and_writes_nothing(project: Path, fake, capsys):
    calls = fake({"values": {"0": 1.9, "1": 1.902, "2": 1.898}})
    (project / "train.py").write_text((project / "train.py").read_text() + "\n# an edit\n")
    journal = (project / "meta_journal.md").read_text()
    assert main(["calibrate", "--profile", "cpu"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "calibration must describe committed code, but train.py" in err and "commit them" in err
    assert not calls.exists() and not (project / ".autoresearch").exists()
    assert (project / "meta_journal.md").read_text() == journal


def test_a_crashing_baseline_run_is_a_one_line_error_and_no_record(project: Path, fake, capsys):
    fake({"crash": True})
    assert main(["calibrate", "--profile", "cpu"]) == 1
    err = capsys.readouterr().err
    assert "calibration run of seed 0 failed (ValueError: boom)" in err and err.count("\n") == 1
    assert not (project / ".autoresearch" / "calibration.json").exists()


def test_one_seed_is_refused(project: Path, fake, capsys):
    fake({"values": {"0": 1.9}})
    assert main(["calibrate", "--seeds", "1"]) == 1
    assert "at least 2 seeds" in capsys.readouterr().err


# ---- the real eval.py ------------------------------------------------------------------------


def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(REPO / "src"))  # the eval.py subprocesses import the package from here
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # on a busy 2-core machine two torch threads run ~50x slower, same numbers


def test_calibrate_tiny_profile_for_real_writes_calibration_rows(project: Path, monkeypatch, capsys):
    add_tiny_profile(project)
    _env(monkeypatch)
    code = main(["calibrate", "--profile", "tiny", "--seeds", "2"])
    out = capsys.readouterr().out
    entry = record(project)["profiles"]["tiny"]
    assert code == (0 if entry["passed"] else 1), out
    assert entry["deterministic"], out  # the CPU repeats a seed bit for bit
    assert entry["val_hash"] and entry["checks"]["fixed eval split"]
    assert entry["repeat_value"] == entry["values"][0] and entry["n"] == 2
    rows = (project / "results.tsv").read_text().splitlines()[1:]
    assert len(rows) == 3 and all("\tcalibration\t" in row for row in rows)
    assert ["calibration seed 0", "calibration seed 1", "calibration seed 0"] == [row.split("\t")[4] for row in rows]


@pytest.mark.slow
def test_calibrate_smoke_for_real(project: Path, monkeypatch):
    """`autoresearch calibrate --profile smoke --seeds 2` as a user runs it: a subprocess of the CLI."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    out = subprocess.run(
        [sys.executable, "-m", "autoresearch", "calibrate", "--profile", "smoke", "--seeds", "2"],
        cwd=project, capture_output=True, text=True, env=env, timeout=900,
    )
    entry = record(project)["profiles"]["smoke"]
    assert out.returncode == (0 if entry["passed"] else 1), out.stdout + out.stderr[-3000:]
    assert entry["deterministic"] and entry["checks"]["fixed eval split"], out.stdout
    assert "metric design requirements: profile smoke" in out.stdout
    assert (project / "results.tsv").read_text().count("\n") == 1  # smoke writes no rows
    assert "calibrate smoke:" in (project / "meta_journal.md").read_text()
