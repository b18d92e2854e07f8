"""reports.py: a report prefilled from the idea and its rows: table, deltas against the mean of the
parent's rows with the noise threshold, verdicts, reproduce commands."""

from __future__ import annotations

from pathlib import Path

import pytest
import records
from conftest import append_rows

from autoresearch import reports
from autoresearch.cli import main
from autoresearch.config import Config
from autoresearch.ideas import new_idea
from autoresearch.paths import Project

PARENT, OTHER, ROTARY = "9a7e00000000", "07e000000000", "707a00000000"


def report(slug: str = "rotary") -> str:
    project = Project.find()
    return reports.new_report(project, Config.load(project), slug).read_text()


@pytest.fixture
def idea(project: Path) -> str:
    new_idea(Project.find(), "rotary", "Rotary embeddings", "Rotation encodes relative position.")
    return "rotary"


def calibrate(project: Path, threshold: float) -> None:
    records.calibrate(project, cpu=threshold)


def fill(project: Path, result_row) -> None:
    mine = {"branch": "exp/rotary", "idea": "rotary", "code": ROTARY, "parent": PARENT}
    append_rows(
        project,
        [
            result_row(commit="base001", val_bpb=2.00, code=PARENT, parent=PARENT, verdict="baseline"),
            result_row(commit="base002", val_bpb=1.98, code=PARENT, parent=PARENT, verdict="baseline", seed=1),
            result_row(
                commit="base003", val_bpb=2.50, code=PARENT, parent=PARENT, budget="time"
            ),  # another budget mode: not its parent's
            result_row(commit="othr002", val_bpb=1.95, branch="exp/other", idea="other", code=OTHER, parent=PARENT),
            result_row(commit="rot0003", val_bpb=1.90, seed=0, verdict="better", label="Q: rotary? | H: -0.05", **mine),
            result_row(commit="rot0003", val_bpb=1.93, seed=1, verdict="within-noise", **mine),
            result_row(commit="rot0004-dirty", seed=2, status="crash", reason="nan", **mine),
            result_row(
                commit="side005",
                val_bpb=1.89,
                branch="main",
                idea="rotary",
                seed=3,
                profile="cuda",
                code=ROTARY,
                parent=ROTARY,
                verdict="baseline",
            ),
        ],
    )


def test_report_is_prefilled_from_the_idea_and_its_rows(
    project: Path, idea: str, result_row, capsys: pytest.CaptureFixture
) -> None:
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
    assert "- **cpu** (val_bpb, lower is better; noise threshold ± 0.0200)" in text
    assert "  - best here: 1.900000 (idea rotary, commit rot0003 on exp/rotary, seed 0)" in text
    assert f"  - vs its parent (main's code {PARENT}, mean of 2 rows) 1.990000: gain +0.090000 → better" in text
    assert (
        "  - vs the best row elsewhere 1.950000 (idea other, commit othr002 on exp/other, seed 0): gain +0.050000"
        in text
    )
    assert (
        "- better: 1 row" in text
        and "- within-noise: 1 row" in text
        and "- crash (nan): 1 row" in text
        and "- baseline: 1 row" in text
    )
    assert "git checkout rot0003 && python eval.py --profile cpu --seed 0" in text
    assert (
        "git checkout rot0004 && python eval.py --profile cpu --seed 2" in text
        and "-dirty had uncommitted edits" in text
    )
    for section in ("## Analysis", "### Observation", "### Inference", "## Conclusion", "## Next"):
        assert section in text
    assert "{" not in text  # no placeholder left


def test_the_parent_is_matched_by_code_profile_and_budget_mode(project: Path, idea: str, result_row) -> None:
    fill(project, result_row)
    text = report()
    assert (
        f"vs its parent (main's code {PARENT}, mean of 2 rows) 1.990000" in text
    )  # not with base003's time-budget 2.50
    assert "- **cuda** (val_bpb, lower is better; uncalibrated: run `just calibrate`)" in text
    assert "  - best here: 1.890000 (idea rotary, commit side005 on main, seed 3)" in text


def test_a_best_row_of_the_parents_own_code_is_a_baseline(project: Path, idea: str, result_row) -> None:
    """As the row's own verdict says: a run of the code it came from measures the parent, it does not beat it."""
    calibrate(project, 0.02)
    append_rows(
        project,
        [
            result_row(commit="base001", val_bpb=2.00, code=PARENT, parent=PARENT),
            result_row(
                commit="rot0002",
                val_bpb=1.90,
                idea="rotary",
                branch="exp/rotary",
                code=PARENT,
                parent=PARENT,
                verdict="baseline",
            ),
        ],
    )
    assert f"vs its parent (main's code {PARENT}, mean of 2 rows) 1.950000: gain +0.050000 → baseline" in report()


def test_a_best_row_whose_parent_has_no_rows_says_to_eval_main(project: Path, idea: str, result_row) -> None:
    append_rows(
        project,
        [result_row(commit="rot0001", val_bpb=1.9, idea="rotary", branch="exp/rotary", code=ROTARY, parent=PARENT)],
    )
    assert f"  - vs its parent (main's code {PARENT}): no rows of it yet (`just eval` on main)" in report()


def test_delta_within_the_threshold_says_within_noise(project: Path, idea: str, result_row) -> None:
    fill(project, result_row)
    calibrate(project, 0.5)
    assert "gain +0.090000 → within-noise" in report()


def test_a_worse_best_row_says_worse(project: Path, idea: str, result_row) -> None:
    calibrate(project, 0.02)
    append_rows(
        project,
        [
            result_row(commit="base001", val_bpb=2.0, code=PARENT, parent=PARENT),
            result_row(commit="rot0002", val_bpb=2.1, idea="rotary", branch="exp/rotary", code=ROTARY, parent=PARENT),
        ],
    )
    assert "gain -0.100000 → worse" in report()


def test_uncalibrated_report_says_to_calibrate(project: Path, idea: str, result_row) -> None:
    fill(project, result_row)
    text = report()
    assert "uncalibrated: run `just calibrate`" in text and "gain +0.090000 → uncalibrated" in text


def test_deltas_follow_a_higher_is_better_metric(project: Path, idea: str, result_row) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('direction = "lower"', 'direction = "higher"'))
    calibrate(project, 0.02)
    append_rows(
        project,
        [
            result_row(commit="base001", val_bpb=0.90, code=PARENT, parent=PARENT),
            result_row(commit="rot0002", val_bpb=0.95, idea="rotary", branch="exp/rotary", code=ROTARY, parent=PARENT),
            result_row(
                commit="rot0003", val_bpb=0.80, idea="rotary", branch="exp/rotary", code=ROTARY, parent=PARENT, seed=1
            ),
        ],
    )
    text = report()
    assert "- **cpu** (val_bpb, higher is better; noise threshold ± 0.0200)" in text
    assert "best here: 0.950000 (idea rotary, commit rot0002 on exp/rotary, seed 0)" in text
    assert "1.900000" not in text and "mean of 1 row) 0.900000: gain +0.050000 → better" in text


def test_report_without_rows_is_still_written(project: Path, idea: str) -> None:
    (project / "results.tsv").unlink()
    text = report()
    assert "No result rows yet for exp/rotary" in text and "## Analysis" in text


def test_report_refuses_an_existing_report(project: Path, idea: str, capsys: pytest.CaptureFixture) -> None:
    old = project / "9_reports" / "2020-01-01_rotary.md"
    old.write_text("mine")
    assert main(["report", "new", idea]) == 1
    assert "9_reports/2020-01-01_rotary.md exists already" in capsys.readouterr().err
    assert old.read_text() == "mine" and sorted(p.name for p in (project / "9_reports").iterdir()) == [
        "2020-01-01_rotary.md",
        "_TEMPLATE.md",
    ]


def test_report_refuses_a_missing_idea(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["report", "new", "nope"]) == 1
    assert 'just idea nope "title"' in capsys.readouterr().err
    assert [p.name for p in (project / "9_reports").iterdir()] == ["_TEMPLATE.md"]


def test_report_list(project: Path, idea: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["report", "list"]) == 0
    assert "no reports" in capsys.readouterr().out
    report()
    assert main(["report", "list"]) == 0
    out = capsys.readouterr().out
    assert "rotary" in out and "Rotary embeddings" in out


def test_report_is_a_subcommand_group(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    out = capsys.readouterr().out
    assert "new" in out and "list" in out
