"""The progress plot: a valid PNG in the root's 9_reports, written atomically, from any checkout."""

from __future__ import annotations

import subprocess
from pathlib import Path

import polars as pl
import pytest

from autoresearch.cli import main
from autoresearch.plot import _running_best
from autoresearch.results import append_row

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def write_trend(repo: Path, result_row, n: int = 24) -> None:
    """Calibration seeds, then a downward trend with crashes, an outlier and a second profile."""
    path = repo / "results.tsv"
    for seed in range(3):
        append_row(path, result_row(val_bpb=2.0 + seed / 100, kind="calibration", seed=seed))
    for i in range(n):
        idea = ("rotary", "swiglu", "", "qk-norm")[i % 4]
        if i % 7 == 3:
            append_row(path, result_row(status="crash", idea=idea, reason="nan"))
        else:
            append_row(path, result_row(val_bpb=1.95 - 0.3 * i / n + (5.0 if i == 9 else 0), idea=idea, commit=f"c{i}"))
    append_row(path, result_row(val_bpb=1.5, profile="cuda", idea="rotary"))


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 1000


def test_plot_writes_a_png_into_the_root_reports_folder(project, result_row, capsys):
    write_trend(project, result_row)
    assert main(["plot"]) == 0
    out = Path(capsys.readouterr().out.strip())
    assert out == project / "9_reports" / "progress.png"
    assert_png(out)
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_plot_from_a_worktree_still_writes_to_the_root(project, result_row, monkeypatch, capsys):
    write_trend(project, result_row, n=6)
    tree = project / "5_worktrees" / "rotary"
    subprocess.run(["git", "worktree", "add", "-q", str(tree), "-b", "exp/rotary"], cwd=project, check=True)
    monkeypatch.chdir(tree)
    assert main(["plot"]) == 0
    assert Path(capsys.readouterr().out.strip()) == project / "9_reports" / "progress.png"
    assert_png(project / "9_reports" / "progress.png")
    assert not (tree / "9_reports" / "progress.png").exists()


def test_plot_with_only_crashes_still_draws(project, result_row):
    for _ in range(3):
        append_row(project / "results.tsv", result_row(status="crash", floor_bpb=None))
    assert main(["plot"]) == 0
    assert_png(project / "9_reports" / "progress.png")


def test_plot_without_experiment_rows_says_to_run_eval_and_writes_nothing(project, result_row, capsys):
    append_row(project / "results.tsv", result_row(kind="calibration"))
    assert main(["plot"]) == 1
    assert "no experiment rows yet" in capsys.readouterr().err
    assert not (project / "9_reports" / "progress.png").exists()


@pytest.mark.parametrize(
    ("direction", "best", "improved"),
    [
        ("lower", [2.0, 1.9, 1.9, 1.7, 1.7], [True, True, False, True, False]),
        ("higher", [2.0, 2.0, 2.1, 2.1, 2.1], [True, False, True, False, False]),
    ],
)
def test_running_best_marks_each_improvement(direction, best, improved):
    ok = pl.DataFrame({"val_bpb": [2.0, 1.9, 2.1, 1.7, 1.7]})
    out = _running_best(ok, direction)
    assert out["best"].to_list() == best and out["improved"].to_list() == improved


def test_plot_draws_a_higher_is_better_metric(project, result_row):
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('direction = "lower"', 'direction = "higher"'))
    for i, value in enumerate([0.5, 0.6, 0.55, 0.7, 0.1]):
        append_row(project / "results.tsv", result_row(val_bpb=value, floor_bpb=None, idea=f"idea-{i}"))
    assert main(["plot"]) == 0
    assert_png(project / "9_reports" / "progress.png")
