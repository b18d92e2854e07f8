"""Leaderboard views of results.tsv: best per profile, ranking, baseline, last rows, and the CLI printers."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from autoresearch import leaderboard as lb
from autoresearch.cli import main
from autoresearch.errors import UserError
from autoresearch.results import COLUMNS, HEADER, append_row, format_row, read_results


def write_rows(repo: Path, rows: list[dict]) -> Path:
    path = repo / "results.tsv"
    path.write_text(HEADER)
    for row in rows:
        append_row(path, row)
    return path


@pytest.fixture
def rows(result_row) -> list[dict]:
    return [
        result_row(commit="c1", val_bpb=2.00, kind="calibration", seed=1),
        result_row(commit="c2", val_bpb=1.90, idea="rotary", branch="exp/rotary"),
        result_row(commit="c3", status="crash", idea="swiglu", reason="nan"),
        result_row(commit="c4", val_bpb=1.80, idea="rotary", branch="exp/rotary"),
        result_row(commit="c5", val_bpb=1.85, idea="swiglu"),
        result_row(commit="c6", val_bpb=1.70, profile="cuda", idea="swiglu"),
        result_row(commit="c7", val_bpb=1.88),
        result_row(commit="c8", val_bpb=1.60, profile="cuda", idea="rotary"),
    ]


@pytest.fixture
def df(project: Path, rows: list[dict]):
    return read_results(write_rows(project, rows))


def test_best_rows_is_the_best_ok_row_per_profile_in_order_of_first_appearance(df):
    best = lb.best_rows(df, "lower")
    assert best.select("profile", "commit").rows() == [("cpu", "c4"), ("cuda", "c8")]


def test_best_rows_follows_a_higher_is_better_direction(df):
    assert lb.best_rows(df, "higher").select("profile", "commit").rows() == [("cpu", "c1"), ("cuda", "c6")]


def test_leaderboard_ranks_ok_rows_within_each_profile_and_keeps_the_top(df):
    board = lb.leaderboard(df, "row", 2, "lower")
    assert board.select("profile", "rank", "commit").rows() == [
        ("cpu", 1, "c4"), ("cpu", 2, "c5"), ("cuda", 1, "c8"), ("cuda", 2, "c6"),
    ]


def test_leaderboard_by_idea_keeps_each_ideas_best_row_and_counts_empty_idea_as_main(df):
    board = lb.leaderboard(df, "idea", 10, "lower").filter(pl.col("profile") == "cpu")
    assert board.select("idea", "commit").rows() == [("rotary", "c4"), ("swiglu", "c5"), (lb.MAIN_IDEA, "c7")]


def test_leaderboard_refuses_a_top_below_one(df):
    with pytest.raises(UserError, match="at least 1"):
        lb.leaderboard(df, "row", 0, "lower")


def test_baseline_is_the_first_ok_row_of_the_profile(df, project, result_row):
    assert lb.baseline(df, "cpu")["commit"] == "c1"
    assert lb.baseline(df, "cuda")["commit"] == "c6"
    assert lb.baseline(df, "tpu") is None
    crash_first = read_results(write_rows(project, [result_row(commit="x", status="crash"), result_row(commit="y")]))
    assert lb.baseline(crash_first, "cpu")["commit"] == "y"


def test_last_rows_are_the_tail_numbered_by_position(df):
    last = lb.last_rows(df, 3)
    assert last.select(lb.ROW, "commit").rows() == [(6, "c6"), (7, "c7"), (8, "c8")]


def test_results_show_prints_the_last_rows(project, rows, capsys):
    write_rows(project, rows)
    assert main(["results", "show", "--last", "2"]) == 0
    out = capsys.readouterr().out
    assert "last 2 of 8 rows" in out and "c7" in out and "c8" in out and "c6" not in out


def test_results_show_marks_crashes_with_their_reason(project, rows, capsys):
    write_rows(project, rows)
    assert main(["results", "show"]) == 0
    assert "crash: nan" in capsys.readouterr().out


def test_results_best_prints_one_row_per_profile(project, rows, capsys):
    write_rows(project, rows)
    assert main(["results", "best"]) == 0
    out = capsys.readouterr().out
    assert "c4" in out and "c8" in out and "c5" not in out


def test_results_best_reads_the_direction_from_pyproject(project, rows, capsys):
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('direction = "lower"', 'direction = "higher"'))
    write_rows(project, rows)
    assert main(["results", "best"]) == 0
    out = capsys.readouterr().out
    assert "higher val_bpb is better" in out and "c1" in out and "c6" in out and "c4" not in out


def test_results_leaderboard_by_idea_prints_each_idea_once(project, rows, capsys):
    write_rows(project, rows)
    assert main(["results", "leaderboard", "--by", "idea", "--last", "5"]) == 0
    out = capsys.readouterr().out
    assert "top 5 ideas per profile" in out and "(main)" in out
    assert out.count("rotary") == 2  # once per profile


def test_results_from_a_fresh_project_say_no_rows_yet(project, capsys):
    assert main(["results", "show"]) == 0
    assert "no rows yet" in capsys.readouterr().out


def test_missing_results_file_says_to_run_just_eval(project, capsys):
    (project / "results.tsv").unlink()
    assert main(["results", "best"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("autoresearch: ") and "just eval" in err
    assert not (project / "results.tsv").exists()


def _missing_column(good: str) -> str:
    lines = good.splitlines(keepends=True)
    cut = lambda line: "\t".join(f for i, f in enumerate(line.rstrip("\n").split("\t")) if i != 2) + "\n"
    return "".join(cut(line) for line in lines)


def _short_line_3(good: str) -> str:
    lines = good.splitlines(keepends=True)
    lines[2] = "\t".join(lines[2].split("\t")[:5]) + "\n"
    return "".join(lines)


def _text_metric_line_3(good: str) -> str:
    lines = good.splitlines(keepends=True)
    fields = lines[2].split("\t")
    fields[COLUMNS.index("val_bpb")] = "abc"
    lines[2] = "\t".join(fields)
    return "".join(lines)


@pytest.mark.parametrize(
    ("corrupt", "expected"),
    [
        (_missing_column, "line 1: header does not match the schema (missing ['memory_gb'])"),
        (_short_line_3, "line 3: 5 fields, expected 23"),
        (_text_metric_line_3, "line 3: column val_bpb is 'abc', expected a number"),
    ],
    ids=["missing-column", "wrong-field-count", "non-numeric-metric"],
)
@pytest.mark.parametrize("command", [["results", "show"], ["results", "best"], ["results", "leaderboard"]])
def test_malformed_results_name_line_and_column_and_leave_the_file_alone(project, result_row, capsys, corrupt, expected, command):
    good = HEADER + "".join(format_row(result_row(commit=f"c{i}", val_bpb=2 - i / 10)) for i in range(3))
    path = project / "results.tsv"
    path.write_bytes(corrupt(good).encode())
    before = path.read_bytes()
    assert main(command) == 1
    err = capsys.readouterr().err
    assert expected in err and "git checkout results.tsv" in err and err.count("\n") == 1
    assert path.read_bytes() == before
