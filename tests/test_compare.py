"""compare: sides are versions of the agent's code (code hashes), seeds paired, the t-interval and the verdict.

Most tests pair signed rows written straight into results.tsv (the readers' view); the name
resolution runs on real git branches; two tests run the fixture problem for real: the missing seeds
of each side in a temporary worktree, and `compare main SLUG` across record commits on main (issue
13 item 3: record commits must not orphan main's rows).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import append_rows, git, run_eval

from autoresearch import fingerprints, ideas, journal, results
from autoresearch.cli import main
from autoresearch.config import Config
from autoresearch.paths import Project

A, B = "aaaa11110000", "bbbb22220000"


@pytest.fixture
def rows(project: Path, result_row):
    """add(code, values, first_seed=0, **fields): one signed ok row per seed of profile cpu, made by that code."""

    def add(code: str, values: list[float], first_seed: int = 0, **fields) -> None:
        fields.setdefault("commit", code[:7])
        append_rows(
            project,
            [result_row(code=code, val_bpb=v, seed=s, **fields) for s, v in enumerate(values, start=first_seed)],
        )

    return add


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(["compare", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def config(project: Path) -> Config:
    return Config.load(Project.find(project))


def code_at(project: Path, rev: str) -> str:
    return fingerprints.code_hash_at(project, rev, config(project))


def set_lr(checkout: Path, lr: str) -> None:
    """Change the fixture trainer's learning rate: another version of the agent's code."""
    path = checkout / "train.py"
    text, n = re.subn(r"^LR = .*$", f"LR = {lr}", path.read_text(), flags=re.MULTILINE)
    assert n == 1
    path.write_text(text)


def branch_with_lr(project: Path, slug: str, lr: str) -> str:
    """exp/{slug} from main with the trainer's LR changed and committed (no worktree); its code hash."""
    git(project, "switch", "-q", "-c", f"exp/{slug}")
    set_lr(project, lr)
    git(project, "commit", "-q", "-m", f"{slug}: LR = {lr}", "--", "train.py")  # only the code: the record stays main's
    git(project, "switch", "-q", "main")
    return code_at(project, f"exp/{slug}")


# ---- the paired verdict ------------------------------------------------------------------------


def test_a_consistent_gain_is_better_with_a_paired_t_interval(project, rows, capsys):
    rows(A, [1.900, 1.950, 1.880])  # seeds differ a lot ...
    rows(B, [1.880, 1.931, 1.859], idea="rotary", branch="exp/rotary")  # ... B gains 0.02 on each
    code, out, _ = run(["aaaa1111", "rotary"], capsys)
    assert code == 0
    assert f"A = aaaa1111 (code {A}), B = rotary (code {B})" in out
    assert "mean difference B - A: -0.020000" in out and "95% paired Student-t interval" in out
    assert "over 3 seeds" in out and "verdict: B is better relative to A" in out


def test_a_gain_smaller_than_the_seed_noise_is_within_noise(project, rows, capsys):
    rows(A, [1.900, 1.910, 1.890])
    rows(B, [1.905, 1.900, 1.893])
    code, out, _ = run([A, B], capsys)
    assert code == 0 and "verdict: B is within-noise relative to A" in out


def test_a_consistent_loss_is_worse(project, rows, capsys):
    rows(A, [1.900, 1.910, 1.890])
    rows(B, [1.931, 1.940, 1.921])
    assert "verdict: B is worse" in run([A, B], capsys)[1]


def test_bootstrap_method_is_named_in_the_output(project, rows, capsys):
    rows(A, [1.900, 1.910, 1.890, 1.905])
    rows(B, [1.880, 1.890, 1.870, 1.884])
    out = run([A, B, "--method", "bootstrap"], capsys)[1]
    assert "percentile bootstrap interval" in out and "verdict: B is better" in out


def test_when_higher_is_better_a_rise_is_better(project, result_row, capsys):
    text = (project / "pyproject.toml").read_text()
    text = text.replace('metric = "val_bpb"', 'metric = "accuracy"').replace(
        'direction = "lower"', 'direction = "higher"'
    )
    (project / "pyproject.toml").write_text(text)
    (project / "results.tsv").write_text(results.header("accuracy"))
    git(project, "commit", "-q", "-am", "an accuracy project")

    def row(code: str, seed: int, value: float) -> dict:
        r = result_row(code=code, seed=seed, optimum=None, gap=None)
        del r["val_bpb"]
        return r | {"accuracy": value}

    append_rows(project, [row(A, s, v) for s, v in enumerate([0.90, 0.95, 0.88])], metric="accuracy")
    append_rows(project, [row(B, s, v) for s, v in enumerate([0.92, 0.97, 0.90])], metric="accuracy")
    out = run([A, B], capsys)[1]
    assert "compare accuracy" in out and "mean difference B - A: +0.020000" in out
    assert "verdict: B is better relative to A (higher accuracy is better" in out
    assert "verdict: A is" not in out and "verdict: B is worse" in run([B, A], capsys)[1]


# ---- which rows count ------------------------------------------------------------------------------


def test_repeated_seeds_are_averaged_and_unpaired_seeds_left_out(project, rows, capsys):
    rows(A, [1.900, 1.910, 1.890], kind="calibration")
    rows(A, [1.902], kind="calibration")  # the calibration's repeat of seed 0 ...
    rows(
        A, [1.905], first_seed=3, commit="aaaa111-dirty"
    )  # ... and a seed B lacks (a -dirty row of the same code counts)
    rows(B, [1.880, 1.890, 1.870])
    out = run([A, B], capsys)[1]
    assert "1.901000" in out and "(mean of 2 / 1 rows)" in out
    assert "seeds [3] are on one side only" in out and "over 3 seeds" in out


def test_crash_rows_other_profiles_and_other_budget_modes_do_not_count(project, rows, result_row, capsys):
    rows(A, [1.900, 1.910])
    rows(B, [1.880, 1.890])
    append_rows(project, [result_row(code=B, status="crash", seed=2)])
    rows(A, [9.0, 9.0, 9.0], profile="cuda")
    rows(A, [8.0, 8.0, 8.0], budget="time")
    out = run([A, B, "--profile", "cpu"], capsys)[1]
    assert "over 2 seeds" in out and "9.0" not in out and "8.0" not in out


def test_the_budget_mode_chooses_the_rows(project, rows, capsys):
    rows(A, [1.900, 1.910], budget="time")
    rows(B, [1.880, 1.890], budget="time")
    rows(A, [1.700, 1.710])
    code, out, _ = run([A, B, "--profile", "cpu", "--budget", "time"], capsys)
    assert code == 0 and "(budget time)" in out and "mean difference B - A: -0.020000" in out


def test_rows_of_the_same_commit_but_other_code_are_another_version(project, rows, capsys):
    """An uncommitted edit makes a `-dirty` row of the same commit: its code hash keeps it apart."""
    rows(A, [1.900, 1.910], commit="1234567")
    rows(B, [1.700, 1.710], commit="1234567-dirty")
    out = run([A, B], capsys)[1]
    assert "mean difference B - A: -0.200000" in out


# ---- naming the sides --------------------------------------------------------------------------


def test_a_git_revision_names_the_code_committed_there(project, rows, capsys):
    main_code = code_at(project, "main")
    rows(main_code, [1.900, 1.910])
    rows(B, [1.880, 1.890])
    code, out, _ = run(["main", B], capsys)
    assert code == 0 and f"A = main (code {main_code})" in out


def test_record_commits_on_main_leave_its_code_hash_and_its_rows_in_place(project, rows, capsys):
    """Issue 13 item 3: `compare main SLUG` failed ("share 0 seeds") once a record commit moved main."""
    before, main_code = git(project, "rev-parse", "HEAD"), code_at(project, "main")
    rows(main_code, [1.900, 1.910], commit=before[:7])
    slug_code = branch_with_lr(project, "faster", "0.5")
    rows(slug_code, [1.880, 1.890], idea="faster", branch="exp/faster")
    ideas.new_idea(Project.find(project), "faster", "a larger learning rate")
    journal.add_entry(Project.find(project), "research", "a finding", "faster", "an observation", "an inference")
    (project / "9_reports" / "faster.md").write_text("# faster\n")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "record: rows, journal, report")
    assert git(project, "rev-parse", "HEAD") != before
    assert code_at(project, "main") == main_code  # the record moved main's commit, not its code
    code, out, err = run(["main", "faster"], capsys)
    assert code == 0, err
    assert f"A = main (code {main_code}), B = faster (code {slug_code})" in out and "over 2 seeds" in out


def test_an_idea_names_the_tip_of_its_branch_not_its_older_rows(project, rows, capsys):
    old = branch_with_lr(project, "faster", "0.1")
    rows(old, [1.850, 1.860], idea="faster")
    git(project, "switch", "-q", "exp/faster")
    set_lr(project, "0.5")
    git(project, "commit", "-q", "-m", "faster: LR = 0.5", "--", "train.py")
    git(project, "switch", "-q", "main")
    tip = code_at(project, "exp/faster")
    rows(tip, [1.880, 1.890], idea="faster")
    rows(A, [1.900, 1.910])
    out = run([A, "faster"], capsys)[1]
    assert f"B = faster (code {tip})" in out and "mean difference B - A: -0.020000" in out


def test_an_idea_whose_branch_is_gone_names_the_code_of_its_newest_row(project, rows, capsys):
    rows(B, [1.850, 1.860], idea="gone")
    rows("cccc33330000", [1.880, 1.890], idea="gone")
    rows(A, [1.900, 1.910])
    out = run([A, "gone"], capsys)[1]
    assert "B = gone (code cccc33330000)" in out


def test_an_ambiguous_code_hash_prefix_is_refused(project, rows, capsys):
    rows("abcd11110000", [1.900, 1.910])
    rows("abcd22220000", [1.880, 1.890])
    code, _, err = run(["abcd", "abcd2222"], capsys)
    assert code == 1 and err.count("\n") == 1
    assert "'abcd' matches the code hashes abcd11110000, abcd22220000 in results.tsv; give more of it" in err


def test_unknown_name_is_a_one_line_error(project, rows, capsys):
    rows(A, [1.900, 1.910])
    code, _, err = run([A, "no-such-idea"], capsys)
    assert code == 1 and err.count("\n") == 1
    assert (
        "'no-such-idea' is not an idea branch exp/no-such-idea or an idea with rows, nor a git revision or a code hash"
        in err
    )


def test_two_names_for_the_same_code_are_refused(project, capsys):
    (project / "1_ideas" / "notes.md").write_text("not code\n")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "an idea file: main's code is unchanged")
    code, _, err = run(["main", "HEAD~1"], capsys)
    assert code == 1 and f"are the same code ({code_at(project, 'main')})" in err


# ---- what cannot be paired -----------------------------------------------------------------------


def test_no_common_seeds_is_a_one_line_error(project, rows, capsys):
    rows(A, [1.900, 1.910])
    rows(B, [1.880, 1.890], first_seed=5)
    code, _, err = run([A, B], capsys)
    assert code == 1 and err.count("\n") == 1
    assert f"share 0 seed(s) of profile cpu ({A} (code {A}): seeds [0, 1]; {B} (code {B}): seeds [5, 6])" in err
    assert "--seeds 3" in err


def test_one_common_seed_cannot_make_an_interval(project, rows, capsys):
    rows(A, [1.900])
    rows(B, [1.880])
    code, _, err = run([A, B], capsys)
    assert code == 1 and "share 1 seed(s)" in err and "at least 2" in err


def test_rows_in_two_profiles_need_a_choice(project, rows, capsys):
    rows(A, [1.900, 1.910])
    rows(B, [1.880, 1.890], profile="cuda")
    code, _, err = run([A, B], capsys)
    assert code == 1 and "have rows in profiles cpu, cuda; choose one with --profile" in err


def test_sides_without_ok_rows_need_a_profile_to_run_on(project, rows, result_row, capsys):
    append_rows(project, [result_row(code=A, status="crash"), result_row(code=B, status="crash")])
    code, _, err = run([A, B], capsys)
    assert code == 1 and "have no ok rows yet; name the profile to run them on" in err


def test_rows_on_different_validation_splits_are_not_comparable(project, rows, capsys):
    rows(A, [1.900, 1.910])
    rows(B, [1.880, 1.890], val_hash="otherhash123")
    code, _, err = run([A, B], capsys)
    assert code == 1 and err.count("\n") == 1
    assert "scored on different validation splits (val_hash otherhash123, vvvvvvvvvvvv); they are not comparable" in err


def test_smoke_and_negative_seeds_are_refused(project, capsys):
    code, _, err = run(["main", "HEAD", "--profile", "smoke"], capsys)
    assert code == 1 and "smoke writes no results rows" in err
    code, _, err = run(["main", "HEAD", "--seeds", "-1"], capsys)
    assert code == 1 and "--seeds -1" in err


def test_missing_seeds_of_a_version_with_no_clean_commit_are_a_one_line_error(project, rows, capsys):
    rows(A, [1.900, 1.910], commit="1234567-dirty")  # only rows know this code: it ran uncommitted
    rows(B, [1.880, 1.890])
    code, _, err = run([A, B, "--seeds", "3"], capsys)
    assert code == 1 and err.count("\n") == 1
    assert "has no clean commit to run its missing seeds [2] in; commit it, or compare without --seeds" in err


def test_missing_seeds_of_a_commit_git_does_not_have_are_a_one_line_error(project, rows, capsys):
    rows(A, [1.900, 1.910], commit="aaaa111")  # rows copied from another clone: git has no such commit
    rows(B, [1.880, 1.890])
    code, _, err = run([A, B, "--seeds", "3"], capsys)
    assert code == 1 and err.count("\n") == 1
    assert "has no clean commit to run its missing seeds [2] in" in err
    assert git(project, "worktree", "list").count("\n") == 0


# ---- the real eval.py --------------------------------------------------------------------------


@pytest.mark.slow
def test_seeds_runs_what_each_side_lacks_in_temporary_worktrees_and_survives_record_commits(project, capsys):
    """main vs an idea branch on the fixture problem: 1 seed run by hand, 3 by compare, then a record commit."""
    run_eval(project, "--profile", "tiny", "--seed", "0")  # main has seed 0 already: only its seed 1 runs
    main_code = code_at(project, "main")
    slug_code = branch_with_lr(project, "faster", "0.5")
    code, out, err = run(["main", "faster", "--seeds", "2", "--profile", "tiny"], capsys)
    assert code == 0, err
    assert err.count("running seed") == 3 and "main: running seed 1 (tiny)" in err
    assert "faster: running seed 0 (tiny)" in err and "faster: running seed 1 (tiny)" in err
    rec = results.load(Project.find(project), config(project))
    made = sorted(zip(rec.df["code"].to_list(), rec.df["seed"].to_list(), [i or "" for i in rec.df["idea"].to_list()]))
    assert made == sorted([(main_code, 0, ""), (main_code, 1, ""), (slug_code, 0, "faster"), (slug_code, 1, "faster")])
    assert set(rec.df["status"]) == {"ok"}
    assert "verdict: B is better relative to A" in out and "over 2 seeds" in out
    assert git(project, "worktree", "list").count("\n") == 0  # the temporary worktrees are gone
    assert [p.name for p in (project / "5_worktrees").iterdir()] == [".gitkeep"]
    difference = re.search(r"mean difference B - A: (\S+);", out).group(1)

    git(project, "add", "results.tsv")
    git(project, "commit", "-q", "-m", "record: 4 rows")  # main's commit moves; its code does not
    assert code_at(project, "main") == main_code
    code, out, err = run(["main", "faster", "--seeds", "2", "--profile", "tiny"], capsys)
    assert code == 0 and "running seed" not in err  # nothing left to run: main's rows are still main's
    assert f"mean difference B - A: {difference};" in out
