"""The progress plot: a valid PNG (mode 0644) in the root's 9_reports, written atomically from any
checkout, for any metric: the y label names the metric and its direction, the known optimum is a line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import polars as pl
import pytest
from conftest import append_rows

from autoresearch import results
from autoresearch.cli import main
from autoresearch.config import Config
from autoresearch.metric import Metric
from autoresearch.paths import Project
from autoresearch.plot import _figure, _running_best

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def write_trend(repo: Path, result_row, n: int = 24) -> None:
    """Calibration seeds, then a downward trend with crashes, an outlier and a second profile."""
    rows = [result_row(val_bpb=2.0 + seed / 100, kind="calibration", seed=seed) for seed in range(3)]
    for i in range(n):
        idea = ("rotary", "swiglu", "", "qk-norm")[i % 4]
        if i % 7 == 3:
            rows.append(result_row(status="crash", idea=idea, reason="nan"))
        else:
            rows.append(result_row(val_bpb=1.95 - 0.3 * i / n + (5.0 if i == 9 else 0), idea=idea, commit=f"c{i}"))
    rows.append(result_row(val_bpb=1.5, profile="cuda", idea="rotary"))
    append_rows(repo, rows)


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 1000


def use_accuracy(repo: Path) -> None:
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        .replace('metric = "val_bpb"', 'metric = "accuracy"')
        .replace('direction = "lower"', 'direction = "higher"')
    )
    (repo / "results.tsv").write_text(results.header("accuracy"))


def accuracy_rows(result_row, values: list[float | None], optimum: float | None = None) -> list[dict]:
    rows = []
    for i, value in enumerate(values):
        row = result_row(idea=f"idea-{i}", status="ok" if value is not None else "crash") | {
            "optimum": optimum,
            "gap": None,
        }
        del row["val_bpb"]
        rows.append(row | {"accuracy": value})
    return rows


def figure_of(repo: Path):
    """The figure plot_progress draws for the project's rows (its one profile, no calibration rows)."""
    project = Project.find(repo)
    record = results.load(project, Config.load(project))
    rows = record.experiments().with_row_index("x", offset=1)
    return _figure(rows, record.df.clear(), record.metric, "title")


def test_plot_writes_a_png_readable_by_all_into_the_root_reports_folder(project, result_row, capsys):
    write_trend(project, result_row)
    assert main(["plot"]) == 0
    out = Path(capsys.readouterr().out.strip())
    assert out == project / "9_reports" / "progress.png"
    assert_png(out)
    assert out.stat().st_mode & 0o777 == 0o644
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
    append_rows(project, [result_row(status="crash", optimum=None) for _ in range(3)])
    assert main(["plot"]) == 0
    assert_png(project / "9_reports" / "progress.png")


def test_plot_without_experiment_rows_says_to_run_eval_and_writes_nothing(project, result_row, capsys):
    append_rows(project, [result_row(kind="calibration")])
    assert main(["plot"]) == 1
    assert "no experiment rows yet" in capsys.readouterr().err
    assert not (project / "9_reports" / "progress.png").exists()


def test_plot_without_a_results_file_says_to_run_eval(project, capsys):
    (project / "results.tsv").unlink()
    assert main(["plot"]) == 1
    assert "results.tsv: not found; run `just eval`" in capsys.readouterr().err
    assert not (project / "results.tsv").exists() and not (project / "9_reports" / "progress.png").exists()


@pytest.mark.parametrize(
    ("direction", "best", "improved"),
    [
        ("lower", [2.0, 1.9, 1.9, 1.7, 1.7], [True, True, False, True, False]),
        ("higher", [2.0, 2.0, 2.1, 2.1, 2.1], [True, False, True, False, False]),
    ],
)
def test_running_best_marks_each_improvement(direction, best, improved):
    ok = pl.DataFrame({"val_bpb": [2.0, 1.9, 2.1, 1.7, 1.7]})
    out = _running_best(ok, Metric("val_bpb", direction))
    assert out["best"].to_list() == best and out["improved"].to_list() == improved


def test_the_y_label_names_the_metric_and_its_direction_and_the_optimum_is_a_line(project, result_row):
    append_rows(project, [result_row(val_bpb=v, optimum=1.2) for v in (2.0, 1.9, 1.95)])
    ax = figure_of(project).axes[0]
    assert ax.get_ylabel() == "val_bpb (lower is better)"
    (optimum,) = [line for line in ax.get_lines() if line.get_label().startswith("known optimum")]
    assert optimum.get_label() == "known optimum 1.2000" and list(optimum.get_ydata()) == [1.2, 1.2]
    low, high = ax.get_ylim()
    assert low < 1.2 and high > 2.0


def test_plot_draws_a_higher_is_better_metric(project, result_row):
    use_accuracy(project)
    append_rows(project, accuracy_rows(result_row, [0.5, 0.6, None, 0.55, 0.7, 0.1], optimum=1.0), metric="accuracy")
    assert main(["plot"]) == 0
    assert_png(project / "9_reports" / "progress.png")
    ax = figure_of(project).axes[0]
    assert ax.get_ylabel() == "accuracy (higher is better)"
    assert any(line.get_label() == "known optimum 1.0000" for line in ax.get_lines())
    assert "running best 0.7000" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_a_metric_without_a_known_optimum_draws_no_optimum_line(project, result_row):
    use_accuracy(project)
    append_rows(project, accuracy_rows(result_row, [0.5, 0.6]), metric="accuracy")
    ax = figure_of(project).axes[0]
    assert not [line for line in ax.get_lines() if line.get_label().startswith("known optimum")]
