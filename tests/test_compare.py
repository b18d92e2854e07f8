"""compare: A and B resolved to commits, seeds paired, the t-interval and the verdict; missing seeds run in worktrees."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autoresearch.cli import main
from autoresearch.results import append_row, read_results
from conftest import add_tiny_profile, git

REPO = Path(__file__).resolve().parents[1]

FAKE_EVAL = textwrap.dedent('''\
    """A stand-in eval.py: appends a row whose val_bpb is value.txt + 0.003 * (seed % 2) (no training)."""
    import argparse
    from pathlib import Path
    from autoresearch import gitinfo
    from autoresearch.paths import Project
    from autoresearch.results import append_row, COLUMNS
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--idea", default="")
    args, _ = parser.parse_known_args()
    value = float(Path("value.txt").read_text()) + 0.003 * (args.seed % 2)
    project = Project.find()
    row = dict.fromkeys(COLUMNS)
    row.update(commit=gitinfo.head_commit(project.checkout), val_bpb=value, status="ok", seed=args.seed,
               profile=args.profile, idea=args.idea, kind="experiment", val_hash="vvvvvvvvvvvv", branch=gitinfo.branch(project.checkout))
    append_row(project.results, row)
    print("---")
    print(f"val_bpb:          {value:.6f}")
''')


@pytest.fixture
def rows(project: Path, result_row):
    """add(commit, values, **fields): one ok row per seed 0.. of profile cpu in the project's results.tsv."""

    def add(commit: str, values: list[float], first_seed: int = 0, **fields) -> None:
        for seed, value in enumerate(values, start=first_seed):
            append_row(project / "results.tsv", result_row(commit=commit, val_bpb=value, seed=seed, **fields))

    return add


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(["compare", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_consistent_gain_is_better_with_a_paired_t_interval(project, rows, capsys):
    rows("aaaa111", [1.900, 1.950, 1.880])  # seeds differ a lot ...
    rows("bbbb222", [1.880, 1.931, 1.859], idea="rotary", branch="exp/rotary")  # ... B gains 0.02 on each
    code, out, _ = run(["aaaa111", "rotary"], capsys)
    assert code == 0
    assert "A = aaaa111, B = rotary (bbbb222)" in out
    assert "mean difference B - A: -0.020000" in out and "95% paired Student-t interval" in out
    assert "over 3 seeds" in out and "verdict: B is better relative to A" in out


def test_a_gain_smaller_than_the_seed_noise_is_within_noise(project, rows, capsys):
    rows("aaaa111", [1.900, 1.910, 1.890])
    rows("bbbb222", [1.905, 1.900, 1.893])
    code, out, _ = run(["aaaa111", "bbbb222"], capsys)
    assert code == 0 and "verdict: B is within-noise relative to A" in out


def test_a_consistent_loss_is_worse(project, rows, capsys):
    rows("aaaa111", [1.900, 1.910, 1.890])
    rows("bbbb222", [1.931, 1.940, 1.921])
    assert "verdict: B is worse" in run(["aaaa111", "bbbb222"], capsys)[1]


def test_bootstrap_method_is_named_in_the_output(project, rows, capsys):
    rows("aaaa111", [1.900, 1.910, 1.890, 1.905])
    rows("bbbb222", [1.880, 1.890, 1.870, 1.884])
    out = run(["aaaa111", "bbbb222", "--method", "bootstrap"], capsys)[1]
    assert "percentile bootstrap interval" in out and "verdict: B is better" in out


def test_repeated_seeds_are_averaged_and_unpaired_seeds_left_out(project, rows, capsys):
    rows("aaaa111", [1.900, 1.910, 1.890], kind="calibration")
    rows("aaaa111", [1.902], kind="calibration")  # the calibration's repeat of seed 0 ...
    rows("aaaa111-dirty", [1.905], first_seed=3)  # ... and a seed B lacks (a -dirty row counts as its commit)
    rows("bbbb222", [1.880, 1.890, 1.870])
    out = run(["aaaa111", "bbbb222"], capsys)[1]
    assert "1.901000" in out and "(mean of 2 / 1 rows)" in out
    assert "seeds [3] are on one side only" in out and "over 3 seeds" in out


def test_crash_rows_and_other_profiles_do_not_count(project, rows, result_row, capsys):
    rows("aaaa111", [1.900, 1.910])
    rows("bbbb222", [1.880, 1.890])
    append_row(project / "results.tsv", result_row(commit="bbbb222", status="crash", seed=2))
    rows("aaaa111", [9.0, 9.0, 9.0], profile="cuda")
    out = run(["aaaa111", "bbbb222", "--profile", "cpu"], capsys)[1]
    assert "over 2 seeds" in out and "9.0" not in out


def test_a_git_revision_names_a_side(project, rows, capsys):
    head = git(project, "rev-parse", "--short", "HEAD")
    rows(head, [1.900, 1.910])
    rows("bbbb222", [1.880, 1.890])
    out = run(["main", "bbbb222"], capsys)[1]
    assert f"A = main ({head})" in out


def test_unknown_name_is_a_one_line_error(project, rows, capsys):
    rows("aaaa111", [1.900, 1.910])
    code, _, err = run(["aaaa111", "no-such-idea"], capsys)
    assert code == 1 and err.count("\n") == 1
    assert "'no-such-idea' is not an idea with rows or a branch exp/no-such-idea, nor a commit" in err


def test_no_common_seeds_is_a_one_line_error(project, rows, capsys):
    rows("aaaa111", [1.900, 1.910])
    rows("bbbb222", [1.880, 1.890], first_seed=5)
    code, _, err = run(["aaaa111", "bbbb222"], capsys)
    assert code == 1 and err.count("\n") == 1
    assert "share 0 seed(s) of profile cpu (aaaa111: seeds [0, 1]; bbbb222: seeds [5, 6])" in err and "--seeds 3" in err


def test_one_common_seed_cannot_make_an_interval(project, rows, capsys):
    rows("aaaa111", [1.900])
    rows("bbbb222", [1.880])
    code, _, err = run(["aaaa111", "bbbb222"], capsys)
    assert code == 1 and "share 1 seed(s)" in err and "at least 2" in err


def test_rows_in_two_profiles_need_a_choice(project, rows, capsys):
    rows("aaaa111", [1.900, 1.910])
    rows("bbbb222", [1.880, 1.890], profile="cuda")
    code, _, err = run(["aaaa111", "bbbb222"], capsys)
    assert code == 1 and "have rows in profiles cpu, cuda; choose one with --profile" in err


def test_rows_on_different_validation_splits_are_not_comparable(project, rows, capsys):
    rows("aaaa111", [1.900, 1.910])
    rows("bbbb222", [1.880, 1.890], val_hash="otherhash123")
    code, _, err = run(["aaaa111", "bbbb222"], capsys)
    assert code == 1 and "different validation splits" in err


def test_an_ambiguous_prefix_is_refused(project, rows, capsys):
    rows("abcd111", [1.900, 1.910])
    rows("abcd222", [1.880, 1.890])
    code, _, err = run(["abcd", "abcd222"], capsys)
    assert code == 1 and "'abcd' matches the commits abcd111, abcd222" in err


def test_smoke_is_refused(project, capsys):
    code, _, err = run(["main", "main~0", "--profile", "smoke"], capsys)
    assert code == 1 and "smoke writes no results rows" in err


def _two_commits(project: Path) -> tuple[str, str]:
    """A baseline commit (value 1.90) and a change (1.88) of a project whose eval.py is FAKE_EVAL."""
    (project / "eval.py").write_text(FAKE_EVAL)
    (project / "value.txt").write_text("1.90\n")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "baseline")
    a = git(project, "rev-parse", "--short", "HEAD")
    (project / "value.txt").write_text("1.88\n")
    git(project, "commit", "-q", "-am", "a deliberate small change")
    return a, git(project, "rev-parse", "--short", "HEAD")


def test_seeds_runs_what_each_side_lacks_in_temporary_worktrees(project, rows, monkeypatch, capsys):
    monkeypatch.setenv("PYTHONPATH", str(REPO / "src"))
    a, b = _two_commits(project)
    rows(a, [1.90])  # A has seed 0 already: only seeds 1 and 2 run for A
    code, out, _ = run([a, b, "--seeds", "3", "--profile", "cpu"], capsys)
    assert code == 0, out
    df = read_results(project / "results.tsv")
    assert sorted(zip(df["commit"], df["seed"])) == sorted([(a, 0), (a, 1), (a, 2), (b, 0), (b, 1), (b, 2)])
    assert out.count("running seed") == 5 and "verdict: B is better" in out
    assert "mean difference B - A: -0.020000" in out
    assert git(project, "worktree", "list").count("\n") == 0  # the temporary worktrees are gone
    code, out, _ = run([a, b, "--seeds", "3", "--profile", "cpu"], capsys)  # nothing left to run
    assert code == 0 and "running seed" not in out


def test_an_idea_without_rows_runs_at_its_branch_tip_and_its_rows_carry_the_idea(project, monkeypatch, capsys):
    monkeypatch.setenv("PYTHONPATH", str(REPO / "src"))
    a, _ = _two_commits(project)
    git(project, "branch", "exp/faster", "HEAD")
    git(project, "reset", "-q", "--hard", a)
    code, out, _ = run(["main", "faster", "--seeds", "2", "--profile", "cpu"], capsys)
    assert code == 0 and "verdict" in out
    df = read_results(project / "results.tsv")
    assert df.filter(df["idea"] == "faster").height == 2


def test_eval_seeds_n_records_every_row(project: Path):
    """`just eval --seeds N`: one eval.py process, N rows (the real eval.py, a tiny profile)."""
    add_tiny_profile(project)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}  # two threads crawl on a busy machine
    out = subprocess.run([sys.executable, "eval.py", "--profile", "tiny", "--seed", "3", "--seeds", "2"],
                         cwd=project, capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    df = read_results(project / "results.tsv")
    assert df["seed"].to_list() == [3, 4] and set(df["status"]) == {"ok"}
    assert out.stdout.count("\n---\n") + out.stdout.startswith("---\n") == 2


def test_seeds_for_a_commit_git_does_not_have_is_a_one_line_error(project, rows, capsys):
    rows("aaaa111", [1.900, 1.910])
    rows("bbbb222", [1.880, 1.890])
    code, _, err = run(["aaaa111", "bbbb222", "--seeds", "3"], capsys)
    assert code == 1 and err.count("\n") == 1 and "cannot check out aaaa111 to run its missing seeds [2]" in err
    assert git(project, "worktree", "list").count("\n") == 0
