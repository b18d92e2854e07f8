"""status.py: the dashboard (ideas and mode, worktrees, results against main's code, journal, queue) and
the next step, one test per branch of `next_step`, on real projects with signed rows."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from conftest import append_rows, git
from queue_jobs import stop_tsp
from records import calibrate

from autoresearch import fingerprints, ideas, status
from autoresearch.cli import main
from autoresearch.config import Config
from autoresearch.paths import Project
from autoresearch.queue.tsp import find_tsp
from autoresearch.results import header

FAKE_EVAL = [sys.executable, str(Path(__file__).with_name("fake_eval.py"))]


def out(capsys, *args: str) -> str:
    assert main(["status", *args]) == 0
    return capsys.readouterr().out


def state(repo: Path) -> status.State:
    project = Project.find(repo)
    return status.gather(project, Config.load(project))


def next_step(repo: Path) -> str:
    return status.next_step(state(repo))


def set_config(repo: Path, old: str, new: str) -> None:
    pyproject = repo / "pyproject.toml"
    text = pyproject.read_text()
    assert old in text
    pyproject.write_text(text.replace(old, new, 1))


def champion(repo: Path) -> str:
    project = Project.find(repo)
    return fingerprints.code_hash_at(project.root, "main", Config.load(project))


def new_idea(repo: Path, slug: str, rating: int | None = None) -> None:
    ideas.new_idea(Project.find(repo), slug, f"Try {slug}")
    if rating is not None:
        ideas.set_field(Project.find(repo), slug, "rating", rating)


def copies_of_one_idea(repo: Path, n: int, rating: int | None = 5) -> None:
    """n rated ideas idea-0 .. idea-{n-1}: copies of one real idea file (n `idea new` calls would be slow)."""
    new_idea(repo, "idea-0", rating)
    first = next((repo / "1_ideas").glob("*_idea-0.md"))
    for i in range(1, n):
        first.with_name(first.name.replace("idea-0", f"idea-{i}")).write_text(
            first.read_text().replace("idea-0", f"idea-{i}")
        )


@pytest.fixture
def ready(project: Path, result_row) -> Path:
    """Calibrated on cpu, with two rows of main's code there: the loop can start."""
    calibrate(project, cpu=0.02)
    code = champion(project)
    append_rows(
        project,
        [result_row(commit="base000", val_bpb=2.0, code=code, parent=code, verdict="baseline", seed=s) for s in (0, 1)],
    )
    return project


def worktree(repo: Path, slug: str) -> Path:
    new_idea(repo, slug, 5)
    assert main(["worktree", "new", slug]) == 0
    return repo / "5_worktrees" / slug


def commit_change(tree: Path, line: str = "LR = 0.1") -> None:
    train = tree / "train.py"
    train.write_text(
        "".join(f"{line}\n" if x.startswith("LR = ") else x for x in train.read_text().splitlines(keepends=True))
    )
    git(tree, "commit", "-qam", f"exp: {line}")


# ------------------------------------------------------------------------------------------ the next step


def test_next_step_calibrate_first(project):
    assert next_step(project).startswith("calibrate first: `just calibrate`")


def test_next_step_main_has_no_rows_in_a_calibrated_profile(project, result_row):
    calibrate(project, cpu=0.02)
    append_rows(project, [result_row(code=champion(project), profile="cuda")])  # a row, but not in a calibrated profile
    assert next_step(project).startswith(
        "main's code has no rows in a calibrated profile: run `just eval` in the root checkout"
    )


def test_next_step_commit_a_dirty_worktree(ready):
    tree = worktree(ready, "rotary")
    (tree / "train.py").write_text((tree / "train.py").read_text() + "\n# tweak\n")
    assert next_step(ready).startswith("worktree rotary has uncommitted changes: commit them")


def test_next_step_eval_a_worktree_whose_code_has_no_row(ready, result_row):
    tree = worktree(ready, "rotary")
    assert next_step(ready).startswith("IDEATE")  # its code is main's, which has rows
    commit_change(tree)
    assert next_step(ready) == "worktree rotary has code with no row: `cd 5_worktrees/rotary && just eval`"
    code = fingerprints.code_hash(tree, Config.load(Project.find(ready)))
    append_rows(
        ready,
        [result_row(code=code, parent=champion(ready), idea="rotary", branch="exp/rotary", verdict="within-noise")],
    )
    assert next_step(ready).startswith("IDEATE")


def test_next_step_keep_a_winner_that_beat_its_parent(ready, result_row):
    parent = champion(ready)
    append_rows(
        ready,
        [
            result_row(val_bpb=1.95, code="aaaaaaaaaaaa", parent=parent, idea="slow", verdict="within-noise"),
            result_row(val_bpb=1.90, code="bbbbbbbbbbbb", parent=parent, idea="rotary", verdict="better"),
            result_row(
                val_bpb=1.85, code=parent, parent=parent, idea="merged", verdict="better"
            ),  # main's code already
        ],
    )
    assert next_step(ready) == "rotary beat its parent: confirm and merge it with `just keep rotary`"


def test_a_win_already_kept_is_not_suggested_again_after_main_moves_on(ready, result_row):
    """bigram was kept (merged), then another win moved main: bigram's code is no longer main's, but it is done."""
    parent = champion(ready)
    tree = worktree(ready, "bigram")
    commit_change(tree)
    git(ready, "merge", "-q", "--no-ff", "-m", "keep(bigram)", "exp/bigram")
    append_rows(ready, [result_row(code="bbbbbbbbbbbb", parent=parent, idea="bigram", verdict="better")])
    with (ready / "train.py").open("a") as f:
        f.write("\n# the next kept win\n")
    git(ready, "commit", "-qam", "keep(next)")
    assert "just keep bigram" not in next_step(ready)


def test_next_step_rate_the_unrated_ideas(ready):
    for slug in ("alpha", "beta", "gamma", "delta"):
        new_idea(ready, slug)
    ideas.set_field(Project.find(ready), "beta", "rating", 7)
    ideas.set_field(Project.find(ready), "delta", "status", "rejected")
    step = next_step(ready)
    assert step.startswith(
        "2 idea(s) are unrated (alpha, gamma): critique them (`just critique`) and rate them (`just rate SLUG N`)"
    )


def test_next_step_counts_the_ideas_until_implement_against_ideate_below(ready, capsys):
    copies_of_one_idea(ready, 3)
    assert next_step(ready).startswith(
        'IDEATE: 27 more idea(s) until IMPLEMENT (3 of 30): read a paper, then `just idea SLUG "title"`'
    )
    set_config(ready, 'direction = "lower"\n', 'direction = "lower"\nideate_below = 5\n')
    assert next_step(ready).startswith("IDEATE: 2 more idea(s) until IMPLEMENT (3 of 5)")
    assert "3 of 5 ideas (IDEATE)" in out(capsys)


def test_next_step_implement_once_the_gate_of_30_is_reached(ready, capsys):
    copies_of_one_idea(ready, 30)
    assert (
        next_step(ready)
        == "IMPLEMENT: `autoresearch idea next` names the best untried idea; open it with `just wt SLUG`"
    )
    assert "30 of 30 ideas (IMPLEMENT): 30 proposed" in out(capsys)
    for i in range(30):
        ideas.set_field(Project.find(ready), f"idea-{i}", "status", "done")
    assert next_step(ready) == 'IMPLEMENT, but no idea is proposed: write new ones (`just idea SLUG "title"`)'


@pytest.mark.skipif(
    find_tsp() is None, reason="no queue engine here: task-spooler is not installed (sudo apt-get install task-spooler)"
)
def test_next_step_journal_the_finished_queued_jobs(ready, monkeypatch, capsys):
    set_config(ready, 'backend = "auto"', 'backend = "tsp"')
    git(ready, "commit", "-qam", "queue on task-spooler")
    monkeypatch.setattr("autoresearch.queue.tsp.detect_gpus", list)
    monkeypatch.setenv("FAKE_EVAL_SECONDS", "0.1")
    labels = ("Q: does a? H: yes", "Q: does b? H: no")
    try:
        for label in labels:
            assert main(["queue", "add", "--label", label, "--", *FAKE_EVAL]) == 0
        assert main(["queue", "wait"]) == 0
        capsys.readouterr()
        assert (
            next_step(ready)
            == "2 queued job(s) finished and are not journaled: `just queue-review`, then `just journal ...`"
        )
        assert main(["journal", "add", "--title", "a: as expected", "--observation", f"{labels[0]}: 1.5"]) == 0
        assert next_step(ready).startswith("1 queued job(s) finished and are not journaled")
        assert "2 finished, 1 not yet" in out(capsys)  # the panel's caption
    finally:
        stop_tsp(ready)


# ------------------------------------------------------------------------------------------ the dashboard


def test_status_renders_on_a_fresh_project(project, capsys):
    text = out(capsys)
    assert "0 of 30 ideas (IDEATE)" in text and "results.tsv: no rows yet" in text
    assert "Next: calibrate first" in text


def test_status_renders_without_a_results_file(project, capsys):
    (project / "results.tsv").unlink()
    assert "results.tsv: no rows yet" in out(capsys)
    assert not (project / "results.tsv").exists()


def test_status_counts_ideas_by_status(project, capsys):
    for slug in ("alpha", "beta", "gamma"):
        new_idea(project, slug)
    assert main(["idea", "set-status", "beta", "rejected"]) == 0
    assert "3 of 30 ideas (IDEATE): 2 proposed · 1 rejected" in out(capsys)


def test_status_shows_start_main_code_gain_best_and_the_last_five_results_with_verdicts(ready, result_row, capsys):
    parent = champion(ready)
    for i, (value, verdict) in enumerate([(1.95, "within-noise"), (1.7, "better"), (1.9, "worse"), (1.8, "worse")]):
        append_rows(
            ready,
            [
                result_row(
                    commit=f"run{i}00", val_bpb=value, verdict=verdict, idea="rotary", code=f"{i:012d}", parent=parent
                )
            ],
        )
    append_rows(ready, [result_row(commit="crash00", status="crash", reason="nan", idea="swiglu", parent=parent)])
    text = out(capsys)
    assert "Results (7 rows, val_bpb, lower is better)" in text
    assert "2.0000 (2)" in text  # main's code: the mean of its 2 rows
    assert "1.7000 rotary (run100)" in text  # the best row
    assert "last 5 results" in text and "base000" not in text.split("last 5 results")[1]
    for verdict in ("better", "worse", "within-noise", "crash: nan"):
        assert verdict in text


def test_status_gain_is_the_mean_of_main_code_against_where_the_project_started(project, result_row, capsys):
    calibrate(project, cpu=0.02)
    code = champion(project)
    append_rows(
        project,
        [
            result_row(commit="old0000", val_bpb=2.10, code="0ld0c0de0000", parent="0ld0c0de0000"),
            result_row(
                commit="lost001",
                val_bpb=1.50,
                code="1ost0c0de000",
                parent="0ld0c0de0000",
                idea="lost",
                verdict="better",
            ),
            result_row(commit="main002", val_bpb=2.00, code=code, parent="0ld0c0de0000", idea="kept", verdict="better"),
            result_row(
                commit="main003", val_bpb=1.98, code=code, parent="0ld0c0de0000", idea="kept", verdict="better", seed=1
            ),
        ],
    )
    (p,) = state(project).profiles
    assert (p.start, p.champion, p.champion_rows, p.best["commit"]) == (2.10, pytest.approx(1.99), 2, "lost001")
    text = out(capsys)
    assert "1.9900 (2)" in text and "+0.1100" in text and "1.5000 lost (lost001)" in text


def test_status_shows_the_calibrated_threshold_per_profile(ready, result_row, capsys):
    append_rows(ready, [result_row(profile="cuda", code=champion(ready))])
    text = out(capsys)
    assert "0.0200" in text and "uncalibrated" in text  # cuda has no calibration


def test_status_on_a_higher_is_better_metric(project, result_row, capsys):
    set_config(project, 'metric = "val_bpb"', 'metric = "accuracy"')
    set_config(project, 'direction = "lower"', 'direction = "higher"')
    (project / "results.tsv").write_text(header("accuracy"))
    calibrate(project, cpu=0.01)
    code = champion(project)

    def row(value: float, **fields) -> dict:
        r = result_row(**fields) | {"optimum": None, "gap": None}
        del r["val_bpb"]
        return r | {"accuracy": value}

    append_rows(
        project,
        [
            row(0.90, commit="start00", code="000000000000", parent="000000000000"),
            row(0.93, commit="main001", code=code, parent="000000000000", verdict="better"),
            row(0.95, commit="main002", code=code, parent="000000000000", verdict="better", seed=1),
            row(0.80, commit="worse03", code="dddddddddddd", parent=code, idea="bad", verdict="worse"),
        ],
        metric="accuracy",
    )
    (p,) = state(project).profiles
    assert (p.start, p.champion, p.best["commit"]) == (0.90, pytest.approx(0.94), "main002")
    text = out(capsys)
    assert "Results (4 rows, accuracy, higher is better)" in text
    assert "+0.0400" in text and "0.9500 (main) (main002)" in text


def test_status_brief_is_a_few_lines_ending_with_the_next_step(ready, capsys):
    copies_of_one_idea(ready, 2)
    text = out(capsys, "--brief")
    assert text.splitlines() == [
        "autoresearch status: 2 of 30 ideas, 0 worktree(s), 2 result rows (val_bpb, lower is better)",
        "profile cpu: main's code 2.0000 over 2 row(s); noise threshold 0.0200",
        'Next: IDEATE: 28 more idea(s) until IMPLEMENT (2 of 30): read a paper, then `just idea SLUG "title"`',
    ]


def test_status_shows_the_latest_three_journal_entries(project, capsys):
    for title in ("first finding", "second finding", "third finding", "fourth finding"):
        assert main(["journal", "add", "--title", title, "--observation", "a number", "--inference", "a guess"]) == 0
    text = out(capsys)
    assert "Research journal (latest)" in text
    assert "fourth finding" in text and "third finding" in text and "second finding" in text
    assert "first finding" not in text


def test_status_lists_worktrees_and_says_when_main_moved(ready, capsys):
    worktree(ready, "rotary")
    text = out(capsys)
    assert "Worktrees (1)" in text and "exp/rotary" in text and "main moved" not in text
    commit_change(ready, "LR = 0.07")  # a win kept on main: main's code changed since the fork
    assert "main moved: merge main" in out(capsys)


def test_status_warns_about_rows_made_without_a_sandbox(ready, result_row, capsys):
    append_rows(ready, [result_row(sandbox="none", code=champion(ready))])
    assert "1 row(s) were made without a sandbox" in out(capsys)


def test_status_on_malformed_results_names_the_line_and_leaves_the_file_alone(project, result_row, capsys):
    append_rows(project, [result_row()])
    path = project / "results.tsv"
    path.write_text(path.read_text().replace("\t2.000000\t", "\tabc\t", 1))
    before = path.read_bytes()
    assert main(["status"]) == 1
    assert "line 2: column val_bpb is 'abc'" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_status_from_inside_a_worktree_reads_the_root(ready, monkeypatch, capsys):
    tree = worktree(ready, "rotary")
    monkeypatch.chdir(tree)
    assert "Results (2 rows" in out(capsys)
    assert os.path.samefile(state(tree).record.path, ready / "results.tsv")


def test_brackets_in_journal_headings_and_idea_titles_are_shown_not_read_as_markup(ready, capsys):
    """rich reads `[word]` as a style tag and drops it: the keep entry's `· [bigram]` and a title
    `[ablation] ...` must reach the screen as written."""
    ideas.new_idea(Project.find(ready), "bigram", "Hashed bigram embedding")
    ideas.new_idea(Project.find(ready), "no-rotary", "[ablation] drop rotary")
    assert main(["journal", "add", "--title", "keep bigram: kept", "--slug", "bigram", "--observation", "o"]) == 0
    text = out(capsys)
    assert "keep bigram: kept · [bigram]" in text
    capsys.readouterr()
    assert main(["idea", "list"]) == 0
    assert "[ablation] drop rotary" in capsys.readouterr().out
