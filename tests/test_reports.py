"""reports.py: a report prefilled from the idea and its rows: table, deltas with the noise threshold, reproduce commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoresearch import reports
from autoresearch.cli import main
from autoresearch.ideas import new_idea
from autoresearch.paths import Project
from autoresearch.results import append_row


@pytest.fixture
def idea(project: Path) -> str:
    new_idea(Project.find(), "rotary", "Rotary embeddings", "Rotation encodes relative position.")
    return "rotary"


def calibrate(project: Path, threshold: float) -> None:
    (project / ".autoresearch").mkdir(exist_ok=True)
    (project / ".autoresearch" / "calibration.json").write_text(json.dumps({"profiles": {"cpu": {"threshold": threshold}}}))


def fill(project: Path, result_row) -> None:
    rows = [
        result_row(commit="base001", val_bpb=2.00, branch="main"),
        result_row(commit="othr002", val_bpb=1.95, branch="exp/other", idea="other"),
        result_row(commit="rot0003", val_bpb=1.90, branch="exp/rotary", idea="rotary", seed=0, verdict="better", label="Q: rotary? | H: -0.05"),
        result_row(commit="rot0003", val_bpb=1.93, branch="exp/rotary", idea="rotary", seed=1, verdict="within-noise"),
        result_row(commit="rot0004-dirty", branch="exp/rotary", idea="rotary", seed=2, status="crash", reason="nan"),
        result_row(commit="side005", val_bpb=1.89, branch="main", idea="rotary", seed=3, profile="cuda", verdict="baseline"),
    ]
    for row in rows:
        append_row(project / "results.tsv", row)


def test_report_is_prefilled_from_the_idea_and_its_rows(project: Path, idea: str, result_row, capsys: pytest.CaptureFixture) -> None:
    fill(project, result_row)
    calibrate(project, 0.02)
    assert main(["report", "new", idea]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path.parent == project / "9_reports" and path.name.endswith("_rotary.md")
    text = path.read_text()
    assert text.startswith("# Report: Rotary embeddings\n")
    assert "Rotation encodes relative position." in text
    assert "| commit | seed | profile | val_bpb | gap | verdict | status | reason | label |" in text
    assert "| rot0003 | 0 | cpu | 1.900000 | 0.700000 | better | ok |  | Q: rotary? \\| H: -0.05 |" in text
    assert "| rot0004-dirty | 2 | cpu |  |  |  | crash | nan |  |" in text
    assert "side005" in text  # idea == slug counts even off the branch
    assert "othr002 |" not in text and "base001 |" not in text
    assert "noise threshold ± 0.0200" in text
    assert "vs baseline 2.000000 (commit base001 on main, seed 0): Δ -0.100000 → better" in text
    assert "vs best elsewhere 1.950000 (idea other, commit othr002 on exp/other, seed 0): Δ -0.050000 → better" in text
    assert "- better: 1 row" in text and "- within-noise: 1 row" in text and "- crash (nan): 1 row" in text
    assert "git checkout rot0003 && python eval.py --profile cpu --seed 0" in text
    assert "git checkout rot0004 && python eval.py --profile cpu --seed 2" in text and "-dirty had uncommitted edits" in text
    for section in ("## Analysis", "### Observation", "### Inference", "## Conclusion", "## Next"):
        assert section in text
    assert "{" not in text  # no placeholder left


def test_delta_within_the_threshold_says_within_noise(project: Path, idea: str, result_row) -> None:
    fill(project, result_row)
    calibrate(project, 0.5)
    text = reports.new_report(Project.find(), idea).read_text()
    assert "Δ -0.050000 → within-noise" in text


def test_uncalibrated_report_says_to_calibrate(project: Path, idea: str, result_row) -> None:
    fill(project, result_row)
    text = reports.new_report(Project.find(), idea).read_text()
    assert "uncalibrated: run `just calibrate`" in text


def test_baseline_falls_back_to_the_first_ok_row_of_the_profile(project: Path, idea: str, result_row) -> None:
    append_row(project / "results.tsv", result_row(commit="othr001", val_bpb=2.1, branch="exp/other", idea="other"))
    append_row(project / "results.tsv", result_row(commit="rot0002", val_bpb=2.0, branch="exp/rotary", idea="rotary"))
    text = reports.new_report(Project.find(), idea).read_text()
    assert "vs baseline 2.100000 (idea other, commit othr001 on exp/other, seed 0): Δ -0.100000" in text


def test_report_without_rows_is_still_written(project: Path, idea: str) -> None:
    (project / "results.tsv").unlink()
    text = reports.new_report(Project.find(), idea).read_text()
    assert "No result rows yet for exp/rotary" in text and "## Analysis" in text


def test_report_refuses_an_existing_report(project: Path, idea: str, capsys: pytest.CaptureFixture) -> None:
    old = project / "9_reports" / "2020-01-01_rotary.md"
    old.write_text("mine")
    assert main(["report", "new", idea]) == 1
    assert "9_reports/2020-01-01_rotary.md exists already" in capsys.readouterr().err
    assert old.read_text() == "mine" and sorted(p.name for p in (project / "9_reports").iterdir()) == ["2020-01-01_rotary.md", "_TEMPLATE.md"]


def test_report_refuses_a_missing_idea(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["report", "new", "nope"]) == 1
    assert 'just idea nope "title"' in capsys.readouterr().err
    assert [p.name for p in (project / "9_reports").iterdir()] == ["_TEMPLATE.md"]


def test_report_list(project: Path, idea: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["report", "list"]) == 0
    assert "no reports" in capsys.readouterr().out
    reports.new_report(Project.find(), idea)
    assert main(["report", "list"]) == 0
    out = capsys.readouterr().out
    assert "rotary" in out and "Rotary embeddings" in out


def test_report_is_a_subcommand_group(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    out = capsys.readouterr().out
    assert "new" in out and "list" in out
