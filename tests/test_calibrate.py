"""calibrate: the checks of the seed's metric requirements, the table and the record, the journal entry, the refusals.

The checks are pure (`assess` on runs with known figures). The command's paths run a stand-in
eval.py that writes the JSON summary calibrate reads (`--summary`), from a table of values, no
training; one test runs a real calibration of the fixture problem (profile tiny, 2 seeds: 3 evals).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from conftest import git

from autoresearch import calibrate, fingerprints, signing, stats
from autoresearch.calibrate import Run, Window, assess
from autoresearch.cli import main
from autoresearch.config import Config
from autoresearch.errors import UserError
from autoresearch.paths import Project

FAKE_EVAL = textwrap.dedent('''\
    """A stand-in eval.py: the JSON summary of the value FAKE_EVAL assigns to the seed (no training, no row)."""
    import argparse, json, os, sys
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--summary")
    args, _ = parser.parse_known_args()
    fake = json.loads(os.environ["FAKE_EVAL"])
    calls = os.environ["FAKE_CALLS"]
    with open(calls, "a") as f:
        f.write(" ".join(sys.argv[1:]) + "\\n")
    seen = open(calls).read().count(f"--seed {args.seed} ")
    figures = {"seed": args.seed, "profile": args.profile, "device": "cpu", "window": fake.get("window", [0, 60]),
               "val_hash": fake.get("hash", "abcdef123456"), "error": "", "value_exact": None}
    if fake.get("crash"):
        figures["error"] = "ValueError: boom"
    else:
        value = fake["repeat"] if seen > 1 and "repeat" in fake else fake["values"][str(args.seed)]
        figures["value_exact"] = repr(value)
    print("some log line: not the summary")
    with open(args.summary, "w") as f:
        json.dump([figures], f)
    sys.exit(1 if fake.get("crash") else 0)
''')


@pytest.fixture
def fake(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Replace the project's eval.py with FAKE_EVAL (committed); set its values with fake({...}); the calls file."""
    (project / "eval.py").write_text(FAKE_EVAL)
    git(project, "commit", "-q", "-am", "fake eval")
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("FAKE_CALLS", str(calls))

    def set_values(config: dict) -> Path:
        monkeypatch.setenv("FAKE_EVAL", json.dumps(config))
        return calls

    return set_values


def record(project: Path) -> dict:
    return json.loads((project / ".autoresearch" / "calibration.json").read_text())


def runs(
    values: list[float], seconds: float = 120.0, profile: str = "cpu", device: str = "cpu", val_hash: str = "h1"
) -> list[Run]:
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
    assert (
        figures["threshold"] == pytest.approx(stats.min_detectable_effect(0.002, 3)) == pytest.approx(0.00919, abs=1e-4)
    )
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


def test_runtime_window_is_the_profiles_own_else_its_names_else_its_devices():
    declared = calibrate.window_for("tiny", "cpu", [0, 120])
    assert (declared.min_seconds, declared.max_seconds) == (
        0,
        120,
    ) and "profile tiny's window in eval.py" in declared.why
    assert calibrate.window_for("cuda", "cuda") == Window(300, 2400, calibrate.WINDOWS["cuda"].why)
    assert calibrate.window_for("cuda-small", "cuda") is calibrate.WINDOWS["cuda"]
    fast_gpu = runs([1.900, 1.902, 1.898], seconds=100, profile="cuda", device="cuda")
    c = by_name(assess(fast_gpu, fast_gpu[0], 0.02, None)[0])["runtime inside the window"]
    assert not c.passed and "300-2400 s" in c.criterion
    with pytest.raises(UserError, match="no runtime window"):
        calibrate.window_for("tpu", "tpu")


def test_a_window_declared_by_the_profile_overrides_the_devices():
    quick = [Run(seed, v, 30.0, "h1", "cuda", "cuda", window=[10, 60]) for seed, v in enumerate([1.900, 1.902, 1.898])]
    c = by_name(assess(quick, quick[0], 0.02, None)[0])["runtime inside the window"]
    assert c.passed and c.criterion.startswith("10-60 s (profile cuda's window in eval.py)")


def test_the_eval_split_must_match_across_runs_and_the_previous_calibration():
    baseline = runs([1.900, 1.902, 1.898])
    moved = Run(0, 1.900, 120.0, "h2", "cpu", "cpu")
    checks, figures = assess(baseline, moved, 0.02, None)
    assert not by_name(checks)["fixed eval split"].passed and figures["val_hash"] is None
    assert by_name(assess(baseline, baseline[0], 0.02, {"val_hash": "h1"})[0])["fixed eval split"].passed
    assert not by_name(assess(baseline, baseline[0], 0.02, {"val_hash": "h0"})[0])["fixed eval split"].passed


def test_assess_needs_two_seeds_of_one_profile():
    with pytest.raises(UserError, match="at least 2 seeds"):
        assess(runs([1.9]), runs([1.9])[0], 0.02, None)
    mixed = [*runs([1.9]), Run(1, 1.9, 120.0, "h1", "cuda", "cuda")]
    with pytest.raises(UserError, match="disagree on the profile"):
        assess(mixed, mixed[0], 0.02, None)


# ---- the table and the journal entry ---------------------------------------------------------


def test_each_check_states_its_figure_and_criterion():
    baseline = runs([1.900, 1.902, 1.898])
    c = by_name(assess(baseline, baseline[0], 0.02, None)[0])
    mde = stats.min_detectable_effect(0.002, 3)
    assert c["runtime inside the window"].figure == "120.0-120.0 s a run"
    assert c["runtime inside the window"].criterion.startswith("60-600 s (the CPU main job")
    assert c["spread across seeds"].figure == "mean 1.900000, std 0.002000 (0.105%) over seeds 0, 1, 2"
    assert c["spread across seeds"].criterion == "std < meaningful effect 0.02"
    assert c["minimum detectable effect"].figure == f"{mde:.6f} = (t[0.95; 2] + t[0.8; 2]) * std * sqrt(1 + 1/3)"
    assert c["minimum detectable effect"].criterion.startswith("< meaningful effect 0.02 (one run vs the mean of 3")
    assert c["determinism"].figure == "seed 0 twice: 1.9 then 1.9 (difference 0)"
    assert c["determinism"].criterion.startswith("bit-identical (CPU)")
    assert c["fixed eval split"].figure == "h1" and c["fixed eval split"].criterion == "one hash over all 4 runs"


def test_the_table_lists_the_runs_and_one_row_per_requirement_with_its_result(capsys):
    baseline = runs([1.900, 1.902, 1.898])
    checks, _ = assess(baseline, baseline[0], 0.02, None)
    calibrate.print_table("cpu", "val_bpb", checks, [*baseline, baseline[0]])
    out = capsys.readouterr().out
    assert "calibration runs: profile cpu" in out and "4 (repeat)" in out and "1.902000" in out
    assert "metric design requirements: profile cpu" in out
    for requirement in (
        "runtime inside the window",
        "spread across seeds",
        "minimum detectable effect",
        "determinism",
        "fixed eval split",
    ):
        assert requirement in out, requirement
    assert out.count("pass") == 5 and "FAIL" not in out


def test_a_failed_check_reads_fail_in_the_table_and_the_remedies_name_it(capsys):
    baseline = runs([1.90, 1.95, 1.86])
    checks, _ = assess(baseline, baseline[0], 0.02, None)
    calibrate.print_table("cpu", "val_bpb", checks, [*baseline, baseline[0]])
    calibrate.print_remedies(checks)
    out = capsys.readouterr().out
    assert out.count("FAIL") == 3  # two checks and the remedies' heading
    assert "  - spread across seeds: the seeds disagree" in out and "  - minimum detectable effect:" in out
    assert "  - determinism" not in out and "more eval data" in out and "a unit budget instead of a time budget" in out


def test_the_journal_entry_states_the_figures_and_what_they_mean():
    baseline = runs([1.900, 1.902, 1.898])
    checks, figures = assess(baseline, baseline[0], 0.02, None)
    entry = figures | {"commit": "abc1234"}
    title, slug, observation, inference = calibrate.journal_text("cpu", "val_bpb", entry, checks)
    assert title == "calibrate cpu: pass, std 0.0020, threshold 0.0092" and slug == ""
    assert "Baseline at abc1234, profile cpu, seeds [0, 1, 2]: val_bpb mean 1.900000, std 0.002000" in observation
    assert "repeat of seed 0: 1.9 (deterministic)" in observation and "val_hash h1" in observation
    assert "0.0092 over the mean of its parent's rows" in inference and "sound on cpu" in inference
    failed = assess(runs([1.90, 1.95, 1.86]), runs([1.90])[0], 0.02, None)
    title, _, _, inference = calibrate.journal_text("cpu", "val_bpb", failed[1] | {"commit": "abc1234"}, failed[0])
    assert (
        title.startswith("calibrate cpu: FAIL") and "spread across seeds, minimum detectable effect failed" in inference
    )


# ---- the command on a stand-in eval.py -------------------------------------------------------


def test_calibrate_runs_n_seeds_and_a_repeat_records_and_journals(project: Path, fake, capsys):
    calls = fake({"values": {"0": 1.9, "1": 1.902, "2": 1.898}})
    meta = (project / "meta_journal.md").read_text()
    assert main(["calibrate", "--seeds", "3", "--profile", "tiny"]) == 0
    lines = calls.read_text().splitlines()
    assert [line.split("--seed ")[1].split()[0] for line in lines] == ["0", "1", "2", "0"]
    assert all("--kind calibration" in line and "--profile tiny" in line and "--summary " in line for line in lines)
    entry = record(project)["profiles"]["tiny"]
    assert entry["threshold"] == pytest.approx(stats.min_detectable_effect(0.002, 3))
    assert entry["passed"] and entry["deterministic"] and entry["repeat_value"] == 1.9
    assert entry["seeds"] == [0, 1, 2] and entry["values"] == [1.9, 1.902, 1.898]
    assert entry["commit"] == git(project, "rev-parse", "--short", "HEAD") and entry["date"]
    assert (entry["alpha"], entry["power"], entry["val_hash"], entry["budget"]) == (0.05, 0.8, "abcdef123456", "units")
    assert entry["checks"] == dict.fromkeys(
        [
            "runtime inside the window",
            "spread across seeds",
            "minimum detectable effect",
            "determinism",
            "fixed eval split",
        ],
        True,
    )
    journal = (project / "RESEARCH_JOURNAL.md").read_text()
    assert "calibrate tiny: pass, std 0.0020, threshold 0.0092" in journal
    assert (project / "meta_journal.md").read_text() == meta  # the agent's journal, not the FROZEN one
    out = capsys.readouterr().out
    assert "metric design requirements: profile tiny" in out and "FAIL" not in out and "remedies" not in out


def test_the_record_is_signed_and_names_the_code_it_measured(project: Path, fake):
    fake({"values": {"0": 1.9, "1": 1.902}})
    assert main(["calibrate", "--seeds", "2", "--profile", "tiny"]) == 0
    entry = record(project)["profiles"]["tiny"]
    p = Project.find(project)
    assert entry["code"] == fingerprints.code_hash_at(project, "HEAD", Config.load(p))
    assert signing.verify(calibrate.entry_text("tiny", entry), entry["sig"]) == "ok"
    forged = entry | {"threshold": entry["threshold"] * 10}  # a looser threshold written by hand
    assert signing.verify(calibrate.entry_text("tiny", forged), entry["sig"]) == "forged"
    assert signing.verify(calibrate.entry_text("cpu", entry), entry["sig"]) == "forged"  # nor moved to another profile


def test_calibrate_keeps_the_other_profiles_entries(project: Path, fake):
    from autoresearch.calibrate import write_record
    from autoresearch.paths import Project

    write_record(Project.find(project), "cuda", {"threshold": 0.005})
    fake({"values": {"0": 1.9, "1": 1.902}})
    assert main(["calibrate", "--seeds", "2", "--profile", "tiny"]) == 0
    profiles = record(project)["profiles"]
    assert profiles["cuda"]["threshold"] == 0.005 and profiles["tiny"]["n"] == 2


def test_a_hand_written_calibration_entry_is_refused(project: Path, fake):
    folder = project / ".autoresearch"
    folder.mkdir()
    (folder / "calibration.json").write_text(json.dumps({"profiles": {"tiny": {"threshold": 0.5}}}))
    fake({"values": {"0": 1.9, "1": 1.902}})
    assert main(["calibrate", "--seeds", "2", "--profile", "tiny"]) == 1


def test_a_noisy_metric_fails_prints_the_remedies_and_exits_1(project: Path, fake, capsys):
    fake({"values": {"0": 1.90, "1": 1.95, "2": 1.86}})
    assert main(["calibrate", "--profile", "tiny"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "more eval data" in out and "a unit budget instead of a time budget" in out
    assert "spread across seeds:" in out
    entry = record(project)["profiles"]["tiny"]
    assert not entry["passed"] and entry["threshold"] > 0.02  # the measured noise still sets the threshold
    assert "calibrate tiny: FAIL" in (project / "RESEARCH_JOURNAL.md").read_text()


def test_a_repeat_that_differs_fails_determinism(project: Path, fake, capsys):
    fake({"values": {"0": 1.9, "1": 1.902, "2": 1.898}, "repeat": 1.9001})
    assert main(["calibrate", "--profile", "tiny"]) == 1
    assert record(project)["profiles"]["tiny"]["checks"]["determinism"] is False
    assert "determinism:" in capsys.readouterr().out


def test_a_run_outside_the_profiles_window_fails_the_runtime_check(project: Path, fake, capsys):
    fake({"values": {"0": 1.9, "1": 1.902}, "window": [600, 1200]})  # the stand-in takes well under 600 s
    assert main(["calibrate", "--seeds", "2", "--profile", "tiny"]) == 1
    assert record(project)["profiles"]["tiny"]["checks"]["runtime inside the window"] is False
    assert "runtime inside the window: too slow" in capsys.readouterr().out


def test_calibrate_refuses_uncommitted_agent_code_and_writes_nothing(project: Path, fake, capsys):
    calls = fake({"values": {"0": 1.9, "1": 1.902, "2": 1.898}})
    (project / "train.py").write_text((project / "train.py").read_text() + "\n# an edit\n")
    journals = [(project / name).read_text() for name in ("RESEARCH_JOURNAL.md", "meta_journal.md")]
    assert main(["calibrate", "--profile", "tiny"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "calibration must describe committed code" in err and "uncommitted changes" in err
    assert "commit them" in err
    assert not calls.exists() and not (project / ".autoresearch").exists()
    assert [(project / name).read_text() for name in ("RESEARCH_JOURNAL.md", "meta_journal.md")] == journals


def test_a_new_untracked_code_file_counts_as_uncommitted_code(project: Path, fake, capsys):
    """The code hash covers new files too: a helper module train.py could import is not yet committed code."""
    calls = fake({"values": {"0": 1.9, "1": 1.902}})
    (project / "helpers.py").write_text("LR = 0.5\n")
    assert main(["calibrate", "--seeds", "2", "--profile", "tiny"]) == 1
    assert "uncommitted changes" in capsys.readouterr().err and not calls.exists()


def test_uncommitted_files_that_are_not_code_do_not_block(project: Path, fake):
    fake({"values": {"0": 1.9, "1": 1.902}})
    (project / "0_docs" / "problem.md").write_text("notes in progress\n")
    (project / "1_ideas" / "draft.md").write_text("a draft\n")
    assert main(["calibrate", "--seeds", "2", "--profile", "tiny"]) == 0


def test_calibrate_from_a_worktree_calibrates_the_root(project: Path, fake, monkeypatch, capsys):
    calls = fake({"values": {"0": 1.9, "1": 1.902}})
    git(project, "worktree", "add", "-q", "5_worktrees/side", "-b", "exp/side")
    monkeypatch.chdir(project / "5_worktrees" / "side")
    assert main(["calibrate", "--seeds", "2", "--profile", "tiny"]) == 0
    assert "calibrating the root checkout" in capsys.readouterr().out
    assert record(project)["profiles"]["tiny"]["n"] == 2 and len(calls.read_text().splitlines()) == 3
    assert not (project / "5_worktrees" / "side" / ".autoresearch").exists()


def test_a_crashing_baseline_run_is_a_one_line_error_and_no_record(project: Path, fake, capsys):
    fake({"crash": True})
    assert main(["calibrate", "--profile", "tiny"]) == 1
    err = capsys.readouterr().err
    assert "calibration run of seed 0 failed (ValueError: boom)" in err and err.count("\n") == 1
    assert not (project / ".autoresearch" / "calibration.json").exists()


def test_one_seed_is_refused(project: Path, fake, capsys):
    calls = fake({"values": {"0": 1.9}})
    assert main(["calibrate", "--seeds", "1"]) == 1
    assert "at least 2 seeds" in capsys.readouterr().err and not calls.exists()


def test_an_unset_meaningful_effect_is_refused_before_any_run(project: Path, fake, capsys):
    calls = fake({"values": {"0": 1.9, "1": 1.902}})
    text = (project / "pyproject.toml").read_text()
    assert "meaningful_effect = 0.02\n" in text
    (project / "pyproject.toml").write_text(text.replace("meaningful_effect = 0.02\n", ""))
    git(project, "commit", "-q", "-am", "no meaningful effect")
    assert main(["calibrate", "--seeds", "2", "--profile", "tiny"]) == 1
    err = capsys.readouterr().err
    assert "meaningful_effect is not set" in err and "meaningful_effect = 0.02" in err and not calls.exists()


def test_calibrating_smoke_says_it_checks_the_path_not_the_metric(project: Path, fake, capsys):
    fake({"values": {"0": 1.9, "1": 1.902}})
    assert main(["calibrate", "--seeds", "2", "--profile", "smoke"]) == 0
    assert "smoke writes no results rows" in capsys.readouterr().out
    assert "smoke" in record(project)["profiles"]


# ---- the real eval.py ------------------------------------------------------------------------


@pytest.mark.slow
def test_calibrate_tiny_profile_for_real_writes_calibration_rows(project: Path, capsys):
    code = main(["calibrate", "--profile", "tiny", "--seeds", "2"])
    out = capsys.readouterr().out
    entry = record(project)["profiles"]["tiny"]
    assert code == (0 if entry["passed"] else 1), out
    assert entry["deterministic"], out  # the CPU repeats a seed bit for bit
    assert entry["checks"]["runtime inside the window"]
    assert entry["val_hash"] and entry["checks"]["fixed eval split"]
    assert entry["repeat_value"] == entry["values"][0] and entry["n"] == 2
    assert entry["code"] == fingerprints.code_hash_at(project, "HEAD", Config.load(Project.find(project)))
    assert signing.verify(calibrate.entry_text("tiny", entry), entry["sig"]) == "ok"
    rows = (project / "results.tsv").read_text().splitlines()[1:]
    cells = [row.split("\t") for row in rows]
    header = (project / "results.tsv").read_text().splitlines()[0].split("\t")
    col = {name: i for i, name in enumerate(header)}
    assert [c[col["kind"]] for c in cells] == ["calibration"] * 3
    assert [c[col["description"]] for c in cells] == ["calibration seed 0", "calibration seed 1", "calibration seed 0"]
    assert {c[col["code"]] for c in cells} == {entry["code"]} and {c[col["verdict"]] for c in cells} == {"baseline"}
    assert f"calibrate tiny: {'pass' if entry['passed'] else 'FAIL'}" in (project / "RESEARCH_JOURNAL.md").read_text()
