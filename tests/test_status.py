"""The status dashboard: ideas and mode, worktrees, baseline/best/last results, calibration, journal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoresearch.cli import main
from autoresearch.results import HEADER, append_row


def status(capsys) -> str:
    assert main(["status"]) == 0
    return capsys.readouterr().out


def new_idea(slug: str) -> None:
    assert main(["idea", "new", slug, "--title", f"Try {slug}"]) == 0


def test_status_renders_on_a_fresh_project(project, capsys):
    out = status(capsys)
    assert "0 ideas" in out and "mode IDEATE" in out
    assert "no worktrees" in out
    assert "no rows yet" in out
    assert "Research journal" in out


def test_status_renders_without_a_results_file(project, capsys):
    (project / "results.tsv").unlink()
    assert "results.tsv not found; run `just eval`" in status(capsys)


def test_status_counts_ideas_by_status_and_stays_in_ideate_below_30(project, capsys):
    for slug in ("alpha", "beta", "gamma"):
        new_idea(slug)
    assert main(["idea", "set-status", "beta", "rejected"]) == 0
    out = status(capsys)
    assert "3 ideas: 2 proposed · 1 rejected" in out and "mode IDEATE" in out


def test_status_switches_to_implement_at_30_ideas(project, capsys):
    new_idea("idea-0")
    first = next((project / "1_ideas").glob("*_idea-0.md"))
    for i in range(1, 30):  # copies of one real idea file: 29 more `idea new` calls would be slow
        copy = first.with_name(first.name.replace("idea-0", f"idea-{i}"))
        copy.write_text(first.read_text().replace("idea-0", f"idea-{i}"))
    out = status(capsys)
    assert "30 ideas" in out and "mode IMPLEMENT" in out


def test_status_shows_baseline_best_and_the_last_five_results_with_verdicts(project, result_row, capsys):
    path = project / "results.tsv"
    append_row(path, result_row(commit="base000", val_bpb=2.0, verdict="baseline"))
    for i, (value, verdict) in enumerate([(1.95, "within-noise"), (1.7, "better"), (1.9, "worse"), (1.8, "worse")]):
        append_row(path, result_row(commit=f"run{i}00", val_bpb=value, verdict=verdict, idea="rotary"))
    append_row(path, result_row(commit="crash00", status="crash", reason="nan", idea="swiglu"))
    out = status(capsys)
    assert "6 rows" in out
    assert "2.0000" in out and "1.7000" in out and "+0.3000" in out  # baseline, best, gain
    assert "rotary (run100)" in out
    assert "last 5 results" in out and "base000" not in out.split("last 5 results")[1]
    for verdict in ("better", "worse", "within-noise", "crash: nan"):
        assert verdict in out


def test_status_shows_the_calibrated_threshold_per_profile(project, result_row, capsys):
    append_row(project / "results.tsv", result_row(profile="cpu"))
    append_row(project / "results.tsv", result_row(profile="cuda"))
    calibration = project / ".autoresearch" / "calibration.json"
    calibration.parent.mkdir()
    calibration.write_text(json.dumps({"profiles": {"cpu": {"threshold": 0.0123}}}))
    out = status(capsys)
    assert "0.0123" in out
    assert "uncalibrated: run `just calibrate`" in out  # cuda


def test_status_shows_the_latest_three_journal_entries(project, capsys):
    journal = project / "RESEARCH_JOURNAL.md"
    if not journal.exists():
        journal.write_text("# Research journal\n\nNewest entries first.\n")
    for title in ("first finding", "second finding", "third finding", "fourth finding"):
        assert main(["journal", "add", "--title", title, "--observation", "a number", "--inference", "a guess"]) == 0
    out = status(capsys)
    assert "fourth finding" in out and "third finding" in out and "second finding" in out
    assert "first finding" not in out
    assert "latest 3 of 4" in out


def test_status_lists_worktrees(project, capsys):
    new_idea("rotary")
    assert main(["worktree", "new", "rotary"]) == 0
    out = status(capsys)
    assert "Worktrees (1)" in out and "exp/rotary" in out


def test_status_on_malformed_results_names_the_line_and_leaves_the_file_alone(project, result_row, capsys):
    path = project / "results.tsv"
    append_row(path, result_row())
    path.write_text(path.read_text().replace("\t2.000000\t", "\tabc\t", 1))
    before = path.read_bytes()
    assert main(["status"]) == 1
    assert "line 2: column val_bpb is 'abc'" in capsys.readouterr().err
    assert path.read_bytes() == before
