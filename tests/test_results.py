"""results.py: the signed locked append, the one query API (Record), the readers' errors, the CLI views
and karpathy's export, on signed rows written the way the eval process writes them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from conftest import append_rows, git

from autoresearch import fingerprints, results, signing
from autoresearch.cli import main
from autoresearch.config import Config
from autoresearch.errors import UserError
from autoresearch.metric import Metric
from autoresearch.paths import Project


def record(repo: Path) -> results.Record:
    project = Project.find(repo)
    return results.load(project, Config.load(project))


def set_direction(repo: Path, direction: str) -> None:
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('direction = "lower"', f'direction = "{direction}"'))


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
def rec(project: Path, rows: list[dict]) -> results.Record:
    append_rows(project, rows)
    return record(project)


def commits(df: pl.DataFrame, *columns: str) -> list:
    return df.select(*columns, "commit").rows() if columns else df["commit"].to_list()


# ------------------------------------------------------------------------------------------ queries


def test_ok_rows_are_those_that_finished_with_a_number(rec):
    assert commits(rec.ok()) == ["c1", "c2", "c4", "c5", "c6", "c7", "c8"]
    assert rec.height == 8 and rec.df["row"].to_list() == list(range(1, 9))


def test_ranked_puts_the_best_first_and_keeps_file_order_on_ties(project, result_row):
    append_rows(project, [result_row(commit=c, val_bpb=v) for c, v in (("a", 1.9), ("b", 1.8), ("c", 1.9), ("d", 1.8))])
    assert commits(record(project).ranked()) == ["b", "d", "a", "c"]


def test_best_per_profile_lower_is_better_in_order_of_first_appearance(rec):
    assert commits(rec.best_per_profile(), "profile") == [("cpu", "c4"), ("cuda", "c8")]


def test_best_per_profile_higher_is_better(rec):
    higher = results.Record(rec.df, Metric("val_bpb", "higher"), rec.path)
    assert commits(higher.best_per_profile(), "profile") == [("cpu", "c1"), ("cuda", "c6")]


def test_leaderboard_ranks_ok_rows_within_each_profile_and_keeps_the_top(rec):
    assert commits(rec.leaderboard("row", 2), "profile", "rank") == [
        ("cpu", 1, "c4"),
        ("cpu", 2, "c5"),
        ("cuda", 1, "c8"),
        ("cuda", 2, "c6"),
    ]


def test_leaderboard_by_idea_keeps_each_ideas_best_row_and_groups_rows_without_an_idea(rec):
    board = rec.leaderboard("idea", 10).filter(pl.col("profile") == "cpu")
    assert commits(board, "idea") == [("rotary", "c4"), ("swiglu", "c5"), (None, "c7")]
    higher = results.Record(rec.df, Metric("val_bpb", "higher"), rec.path)
    assert commits(higher.leaderboard("idea", 10).filter(pl.col("profile") == "cpu"), "idea") == [
        (None, "c1"),
        ("rotary", "c2"),
        ("swiglu", "c5"),
    ]


def test_leaderboard_refuses_a_top_below_one_and_an_unknown_grouping(rec):
    with pytest.raises(UserError, match="at least 1"):
        rec.leaderboard("row", 0)
    with pytest.raises(UserError, match="expected 'row' or 'idea'"):
        rec.leaderboard("commit", 5)  # type: ignore[arg-type]


def test_last_rows_are_the_tail_numbered_by_position(rec):
    assert commits(rec.last(3), "row") == [(6, "c6"), (7, "c7"), (8, "c8")]
    assert commits(rec.last(100)) == [f"c{i}" for i in range(1, 9)]
    with pytest.raises(UserError, match="at least 1"):
        rec.last(0)


def test_of_idea_takes_the_idea_column_or_the_experiment_branch(project, rows, result_row):
    append_rows(project, [*rows, result_row(commit="c9", val_bpb=1.7, idea="", branch="exp/rotary")])
    assert commits(record(project).of_idea("rotary")) == ["c2", "c4", "c8", "c9"]
    assert commits(record(project).of_idea("nope")) == []


def test_of_code_is_the_ok_rows_of_one_version_of_the_code_by_profile_and_budget(project, result_row):
    a, b = "aaaaaaaaaaaa", "bbbbbbbbbbbb"
    append_rows(
        project,
        [
            result_row(commit="1", code=a),
            result_row(commit="2", code=a, budget="time"),
            result_row(commit="3", code=a, profile="cuda"),
            result_row(commit="4", code=a, status="crash"),
            result_row(commit="5", code=b),
        ],
    )
    rec = record(project)
    assert commits(rec.of_code(a)) == ["1", "2", "3"]
    assert commits(rec.of_code(a, "cpu")) == ["1", "2"]
    assert commits(rec.of_code(a, "cpu", "units")) == ["1"]
    assert commits(rec.of_code("cccccccccccc")) == []


def test_a_missing_or_empty_file_is_no_rows_or_an_error_by_policy(project):
    project_ = Project.find(project)
    config = Config.load(project_)
    for state in ("missing", "empty"):
        if state == "missing":
            (project / "results.tsv").unlink()
        else:
            (project / "results.tsv").write_text("")
        assert results.load(project_, config).height == 0
        with pytest.raises(results.ResultsError, match="not found; run `just eval`"):
            results.load(project_, config, missing="error")
    assert (project / "results.tsv").read_text() == ""


# ------------------------------------------------------------------------------------------ the append


def test_the_first_append_writes_the_header_then_the_signed_row(project, result_row):
    (project / "results.tsv").unlink()
    line = results.append(Project.find(project), "val_bpb", result_row(commit="first"))
    text = (project / "results.tsv").read_text()
    assert text == line and line.startswith(results.header("val_bpb") + "first\t2.000000\t") and line.count("\n") == 2
    assert (project / "results.tsv").stat().st_mode & 0o777 == 0o644
    second = results.append(Project.find(project), "val_bpb", result_row(commit="second"))
    assert (project / "results.tsv").read_text() == text + second  # one header only


def test_each_row_carries_a_signature_over_its_cells_that_a_changed_cell_breaks(project, result_row):
    append_rows(project, [result_row(commit="signed", val_bpb=1.9)])
    line = (project / "results.tsv").read_text().splitlines()[1]
    cells, sig = line.rsplit("\t", 1)
    assert signing.verify(cells, sig) == "ok"
    assert signing.verify(cells.replace("1.900000", "1.100000"), sig) == "forged"


def test_append_is_one_write_of_the_whole_line(project, result_row, monkeypatch):
    writes: list[bytes] = []
    real_write = os.write

    def spy(fd: int, data: bytes) -> int:
        writes.append(bytes(data))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", spy)
    line = results.append(Project.find(project), "val_bpb", result_row(description="one write"))
    assert writes == [line.encode()]


APPEND_ONE = """
import sys
from autoresearch import results
from autoresearch.paths import Project
row = {k: None for k in results.columns("val_bpb")[:-1]} | {"commit": "waited", "status": "ok", "val_bpb": 1.5}
results.append(Project.find(), "val_bpb", row)
"""


def test_append_waits_for_the_lock_held_by_another_writer(project):
    path = project / "results.tsv"
    before = path.read_bytes()
    with results.lock(path):
        proc = subprocess.Popen([sys.executable, "-c", APPEND_ONE], cwd=project)
        time.sleep(1.5)
        assert proc.poll() is None and path.read_bytes() == before  # blocked on the lock, nothing written
    assert proc.wait(timeout=60) == 0
    assert commits(record(project).df) == ["waited"]


def test_append_refuses_a_file_with_another_metrics_header_and_leaves_it_alone(project, result_row):
    path = project / "results.tsv"
    path.write_text(results.header("accuracy"))
    with pytest.raises(results.ResultsError, match="line 1: the header is not that of metric 'val_bpb'"):
        results.append(Project.find(project), "val_bpb", result_row())
    assert path.read_text() == results.header("accuracy")


def test_a_cell_with_tabs_or_newlines_stays_on_one_line(project, result_row):
    append_rows(project, [result_row(description="two\tcells\nand two lines", label="Q: a\tb? H: c")])
    (row,) = record(project).rows()
    assert (row["description"], row["label"]) == ("two cells and two lines", "Q: a b? H: c")


def test_a_row_with_a_missing_or_unknown_column_is_refused_before_writing(project, result_row):
    before = (project / "results.tsv").read_bytes()
    missing = result_row()
    del missing["verdict"]
    with pytest.raises(ValueError, match=r"missing columns \['verdict'\]"):
        results.append(Project.find(project), "val_bpb", missing)
    with pytest.raises(ValueError, match=r"unknown columns \['floor_bpb'\]"):
        results.append(Project.find(project), "val_bpb", result_row(floor_bpb=1.2))
    assert (project / "results.tsv").read_bytes() == before


# ------------------------------------------------------------------------------------------ read errors


def _lines(good: str) -> list[str]:
    return good.splitlines(keepends=True)


def _torn_last_line(good: str) -> str:
    return good[: -len(_lines(good)[-1]) // 2]


def _last_newline_lost(good: str) -> str:
    return good[:-1]


def _blank_line_3(good: str) -> str:
    lines = _lines(good)
    return "".join([*lines[:2], "\n", *lines[2:]])


def _short_line_3(good: str) -> str:
    lines = _lines(good)
    lines[2] = "\t".join(lines[2].split("\t")[:5]) + "\n"
    return "".join(lines)


def _text_metric_line_3(good: str) -> str:
    lines = _lines(good)
    fields = lines[2].split("\t")
    fields[1] = "abc"
    lines[2] = "\t".join(fields)
    return "".join(lines)


def _other_metric_header(good: str) -> str:
    return results.header("accuracy") + "".join(_lines(good)[1:])


def _missing_column(good: str) -> str:
    return "".join(
        "\t".join(f for i, f in enumerate(line.rstrip("\n").split("\t")) if i != 2) + "\n" for line in _lines(good)
    )


CORRUPTIONS = [
    (_torn_last_line, "line 4: torn last line (no newline: a write was cut off)"),
    (_last_newline_lost, "line 4: torn last line (no newline: a write was cut off)"),
    (_blank_line_3, "line 3: blank line"),
    (
        _short_line_3,
        f"line 3: 5 fields, expected {len(results.columns('val_bpb'))} (column timestamp onwards is missing)",
    ),
    (_text_metric_line_3, "line 3: column val_bpb is 'abc', expected a number"),
    (_other_metric_header, "line 1: the metric column is 'accuracy' but [tool.autoresearch] metric is 'val_bpb'"),
    (_missing_column, "line 1: header does not match the schema (missing ['memory_gb'])"),
]
IDS = [
    "torn-last-line",
    "last-newline-lost",
    "blank-line",
    "wrong-field-count",
    "bad-number",
    "other-metric-header",
    "missing-column",
]


@pytest.mark.parametrize(("corrupt", "expected"), CORRUPTIONS, ids=IDS)
@pytest.mark.parametrize(
    "command", [["results"], ["results", "best"], ["results", "leaderboard"], ["results", "export"]]
)
def test_a_malformed_file_is_one_line_naming_the_line_and_the_file_is_never_rewritten(
    project, result_row, capsys, corrupt, expected, command
):
    append_rows(project, [result_row(commit=f"c{i}", val_bpb=2 - i / 10) for i in range(3)])
    path = project / "results.tsv"
    path.write_bytes(corrupt(path.read_text()).encode())
    before = path.read_bytes()
    assert main(command) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"autoresearch: {path} ") and expected in err, err
    assert "git checkout results.tsv" in err and err.count("\n") == 1
    assert path.read_bytes() == before


# ------------------------------------------------------------------------------------------ the CLI views


def test_results_alone_is_results_show(project, rows, capsys):
    append_rows(project, rows)
    assert main(["results"]) == 0
    alone = capsys.readouterr().out
    assert main(["results", "show"]) == 0
    assert capsys.readouterr().out == alone and "last 8 of 8 rows" in alone


def test_results_show_prints_the_last_rows(project, rows, capsys):
    append_rows(project, rows)
    assert main(["results", "show", "--last", "2"]) == 0
    out = capsys.readouterr().out
    assert "last 2 of 8 rows" in out and "c7" in out and "c8" in out and "c6" not in out


def test_results_show_marks_crashes_with_their_reason_and_calibration_rows(project, rows, capsys):
    append_rows(project, rows)
    assert main(["results", "show"]) == 0
    out = capsys.readouterr().out
    assert "crash: nan" in out and "(calibration)" in out


def test_results_best_prints_one_row_per_profile(project, rows, capsys):
    append_rows(project, rows)
    assert main(["results", "best"]) == 0
    out = capsys.readouterr().out
    assert "val_bpb, lower is better" in out and "c4" in out and "c8" in out and "c5" not in out


def test_results_best_reads_the_direction_from_pyproject(project, rows, capsys):
    set_direction(project, "higher")
    append_rows(project, rows)
    assert main(["results", "best"]) == 0
    out = capsys.readouterr().out
    assert "val_bpb, higher is better" in out and "c1" in out and "c6" in out and "c4" not in out


def test_results_leaderboard_by_idea_prints_each_idea_once_per_profile(project, rows, capsys):
    append_rows(project, rows)
    assert main(["results", "leaderboard", "--by", "idea", "--last", "5"]) == 0
    out = capsys.readouterr().out
    assert "top 5 ideas per profile" in out and "(main)" in out
    assert out.count("rotary") == 2


def test_results_of_a_fresh_project_say_no_rows_yet(project, capsys):
    for command in (["results"], ["results", "best"], ["results", "leaderboard"]):
        assert main(command) == 0
    out = capsys.readouterr().out
    assert "no rows yet; run `just eval`" in out and "0 rows, none ok yet" in out


def test_a_missing_file_reads_as_no_rows_and_is_not_created(project, capsys):
    (project / "results.tsv").unlink()
    assert main(["results"]) == 0
    assert "no rows yet; run `just eval`" in capsys.readouterr().out
    assert not (project / "results.tsv").exists()


# ------------------------------------------------------------------------------------------ karpathy's export


def notebook(tsv: str, metric: str = "val_bpb") -> dict:
    """The figures karpathy's analysis.ipynb computes from a results.tsv (its cells, in polars)."""
    df = pl.read_csv(tsv.encode(), separator="\t", infer_schema=False)
    df = df.with_columns(
        pl.col(metric).cast(pl.Float64, strict=False),
        pl.col("memory_gb").cast(pl.Float64, strict=False),
        pl.col("status").str.strip_chars().str.to_uppercase(),
    )
    counts = dict(df["status"].value_counts().iter_rows())
    kept = df.filter(pl.col("status") == "KEEP")
    baseline = df[metric][0]
    best = kept[metric].min()
    deltas = (kept[metric].shift(1) - kept[metric]).to_list()[1:]
    return {
        "columns": df.columns,
        "counts": counts,
        "kept": kept.height,
        "baseline": baseline,
        "best": best,
        "total": sum(deltas),
        "kept_descriptions": kept["description"].to_list(),
    }


def commit_lr(repo: Path, lr: str, message: str) -> None:
    train = repo / "train.py"
    lines = train.read_text().splitlines(keepends=True)
    assert sum(line.startswith("LR = ") for line in lines) == 1
    train.write_text("".join(f"LR = {lr}\n" if line.startswith("LR = ") else line for line in lines))
    git(repo, "commit", "-qam", message)


def test_karpathy_export_runs_through_his_notebook_with_the_champion_line_kept(project, result_row, capsys):
    """main holds two versions of the code (the start, then a kept win merged --no-ff); an unmerged
    experiment that did better stays a discard, as it never joined the line."""
    p = Project.find(project)
    config = Config.load(p)
    start = fingerprints.code_hash_at(project, "main", config)
    git(project, "checkout", "-qb", "exp/lr")
    commit_lr(project, "0.1", "exp(lr): LR 0.1")
    win = fingerprints.code_hash_at(project, "exp/lr", config)
    git(project, "checkout", "-qb", "exp/wild", "main")
    commit_lr(project, "0.3", "exp(wild): LR 0.3")
    wild = fingerprints.code_hash_at(project, "exp/wild", config)
    git(project, "checkout", "-q", "main")
    git(project, "merge", "-q", "--no-ff", "-m", "keep lr", "exp/lr")
    assert fingerprints.code_hash_at(project, "main", config) == win != start
    append_rows(
        project,
        [
            result_row(commit="a000001", val_bpb=2.00, code=start, parent=start, description="baseline"),
            result_row(commit="a000001", val_bpb=2.02, code=start, parent=start, seed=1, description="baseline seed 1"),
            result_row(
                commit="b000002", val_bpb=1.90, code=win, parent=start, idea="lr", branch="exp/lr", description="LR 0.1"
            ),
            result_row(
                commit="c000003",
                status="crash",
                code=wild,
                parent=start,
                idea="wild",
                branch="exp/wild",
                description="LR 0.3",
            ),
            result_row(
                commit="c000004",
                val_bpb=1.85,
                code=wild,
                parent=start,
                idea="wild",
                branch="exp/wild",
                seed=1,
                description="LR 0.3 again",
            ),
            result_row(
                commit="b000002",
                val_bpb=1.91,
                code=win,
                parent=start,
                idea="lr",
                branch="exp/lr",
                seed=1,
                description="LR 0.1 seed 1",
            ),
            result_row(
                commit="d000005-dirty", val_bpb=1.95, code="0123456789ab", parent=win, description="an edit on main"
            ),
        ],
    )
    assert main(["results", "export", "--format", "karpathy"]) == 0
    tsv = capsys.readouterr().out
    assert tsv.splitlines()[:2] == [
        "commit\tval_bpb\tmemory_gb\tstatus\tdescription",
        "a000001\t2.000000\t0.5\tkeep\tbaseline",
    ]
    assert [line.split("\t")[3] for line in tsv.splitlines()[1:]] == [
        "keep",
        "discard",
        "keep",
        "crash",
        "discard",
        "discard",
        "discard",
    ]
    assert tsv.splitlines()[4] == "c000003\t0.000000\t0.5\tcrash\twild: LR 0.3"
    assert tsv.splitlines()[7].startswith("d000005\t")  # his commit column: 7 characters, no -dirty
    figures = notebook(tsv)
    assert figures["columns"] == ["commit", "val_bpb", "memory_gb", "status", "description"]
    assert figures["counts"] == {"KEEP": 2, "DISCARD": 4, "CRASH": 1}
    assert figures["kept"] == 2 and figures["kept_descriptions"] == ["baseline", "lr: LR 0.1"]
    assert figures["baseline"] == pytest.approx(2.0) and figures["best"] == pytest.approx(1.9)
    assert figures["total"] == pytest.approx(0.1)  # the sum of his consecutive kept deltas
    out = project / "karpathy.tsv"
    assert main(["results", "export", "--format", "karpathy", "--out", str(out)]) == 0
    assert out.read_text() == tsv


def test_karpathy_export_names_the_projects_metric(project, result_row, capsys):
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('metric = "val_bpb"', 'metric = "accuracy"'))
    set_direction(project, "higher")
    (project / "results.tsv").write_text(results.header("accuracy"))
    code = fingerprints.code_hash_at(project, "main", Config.load(Project.find(project)))
    row = result_row(code=code, parent=code, description="start")
    row["accuracy"] = 0.91
    del row["val_bpb"]
    append_rows(project, [row], metric="accuracy")
    assert main(["results", "export"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "commit\taccuracy\tmemory_gb\tstatus\tdescription",
        "abc1234\t0.910000\t0.5\tkeep\tstart",
    ]
