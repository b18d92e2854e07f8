"""keep: the champion line. A change joins main only when it beats main's code beyond the calibrated noise.

Real runs of the fixture problem (a bigram trainer, profile tiny, ~10 s an eval): the module
calibrates one project once (2 seeds), each test works on a copy of it (its signing key copied
along). The trainer's LR makes the versions: 0.05 is main's, 0.5 a real win (val_bpb ~3.0 vs
~4.95), 0.051 a small gain inside the noise, a comment a new code hash with the same numbers.
Refusals that come before any run cost no eval.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every test here runs several real evals (about 3 minutes in all)

from conftest import git, make_project, run_eval

from autoresearch import calibrate, fingerprints, ideas, keep, results, stats, worktrees
from autoresearch.cli import main
from autoresearch.config import Config
from autoresearch.paths import Project

PROFILE = "tiny"


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory, data_cache: Path) -> Path:
    """A tiny project calibrated on 2 seeds with its record committed on main; its key folder beside it."""
    base = tmp_path_factory.mktemp("calibrated")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTORESEARCH_KEYS", str(base / "keys"))
        mp.setenv("AUTORESEARCH_CACHE", str(data_cache))
        mp.setenv("OMP_NUM_THREADS", "1")
        mp.setenv("AUTORESEARCH_THREADS", "1")
        for name in ("META_MODE", "AUTORESEARCH_LABEL", "CLAUDECODE"):
            mp.delenv(name, raising=False)
        repo = make_project(base / "proj")
        project = Project.find(repo)
        calibrate.calibrate(project, Config.load(project), seeds=2, profile=PROFILE)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "record: calibration")
    return base


@pytest.fixture
def proj(calibrated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the calibrated project (the current directory), with its key in this test's key folder."""
    repo = tmp_path / "proj"
    shutil.copytree(calibrated / "proj", repo, symlinks=True)
    shutil.copytree(calibrated / "keys", tmp_path / "keys", dirs_exist_ok=True)
    monkeypatch.chdir(repo)
    return repo


def here(repo: Path) -> tuple[Project, Config]:
    project = Project.find(repo)
    return project, Config.load(project)


def code_at(repo: Path, rev: str) -> str:
    return fingerprints.code_hash_at(repo, rev, here(repo)[1])


def set_lr(checkout: Path, lr: str) -> None:
    path = checkout / "train.py"
    text, n = re.subn(r"^LR = .*$", f"LR = {lr}", path.read_text(), flags=re.MULTILINE)
    assert n == 1
    path.write_text(text)


def experiment(repo: Path, slug: str, lr: str | None = None, comment: str = "") -> Path:
    """An idea, its worktree from main, and a committed change of the trainer there; the worktree."""
    project, config = here(repo)
    ideas.new_idea(project, slug, f"try {slug}")
    tree = worktrees.new_worktree(project, config, slug).path
    if lr is not None:
        set_lr(tree, lr)
    if comment:
        (tree / "train.py").write_text((tree / "train.py").read_text() + f"# {comment}\n")
    git(tree, "commit", "-q", "-am", f"{slug}: LR = {lr}" if lr else f"{slug}: {comment}")
    return tree


def calibration(repo: Path) -> dict:
    return stats.load_calibration(Project.find(repo).calibration, PROFILE)


def record(repo: Path):
    return results.load(*here(repo))


def status_of(repo: Path, slug: str) -> str:
    return ideas.parse_idea(ideas.find_idea(Project.find(repo), slug)).status


def test_the_fixture_is_calibrated_on_mains_code(proj: Path):
    entry = calibration(proj)
    assert entry["seeds"] == [0, 1] and entry["code"] == code_at(proj, "main") and entry["threshold"] > 0
    assert not git(proj, "status", "--porcelain")


# ---- decisions that need runs ----------------------------------------------------------------


def test_a_gain_inside_the_noise_is_refused_journaled_with_its_numbers_and_not_merged(proj: Path, capsys):
    experiment(proj, "nudge", lr="0.051")
    before = git(proj, "rev-parse", "main")
    project, config = here(proj)
    d = keep.keep(project, config, "nudge", PROFILE)
    threshold = calibration(proj)["threshold"]
    gain = stats.mean(d.comparison.xs) - stats.mean(d.comparison.ys)  # lower is better
    assert not d.kept and not d.merged and d.threshold == threshold
    assert 0 < gain <= threshold and d.comparison.verdict == "better"  # consistent on every seed, but inside the noise
    assert d.comparison.seeds == [0, 1]
    assert f"not beyond the calibrated noise threshold {threshold:.6f}" in d.why
    assert git(proj, "rev-parse", "main") == before and "LR = 0.05\n" in (proj / "train.py").read_text()
    assert status_of(proj, "nudge") == "implementing"
    entry = (proj / "RESEARCH_JOURNAL.md").read_text()
    assert f"keep nudge: refused, val_bpb gain +{gain:.4f}" in entry
    assert f"noise threshold {threshold:.6f}" in entry and f"mean {stats.mean(d.comparison.ys):.6f}" in entry
    assert "Not kept; the branch stays for reference." in entry
    # keep ran the candidate's seeds itself; main's came from the calibration
    rec = record(proj)
    candidate = code_at(proj, "exp/nudge")
    assert sorted(rec.of_code(candidate, PROFILE)["seed"].to_list()) == [0, 1]
    assert rec.df.height == 3 + 2


def test_a_new_code_hash_with_the_same_numbers_is_refused_by_the_paired_interval(proj: Path, capsys):
    experiment(proj, "reworded", comment="the same trainer, said differently")
    before = git(proj, "rev-parse", "main")
    assert main(["keep", "reworded"]) == 1
    out = capsys.readouterr().out
    assert (
        "keep: refused reworded: the paired interval is within-noise" in out and "The branch stays; journaled." in out
    )
    rec = record(proj)
    ours, mains = (rec.of_code(code_at(proj, rev), PROFILE) for rev in ("exp/reworded", "main"))
    assert (
        ours[rec.value].to_list() == mains.filter(mains["row"] <= 2)[rec.value].to_list()
    )  # another hash, the same numbers
    assert git(proj, "rev-parse", "main") == before
    assert "keep reworded: refused" in (proj / "RESEARCH_JOURNAL.md").read_text()


def test_a_real_win_is_merged_and_later_worktrees_start_from_it_and_are_judged_against_it(proj: Path, capsys):
    old_main, old_code = git(proj, "rev-parse", "main"), code_at(proj, "main")
    tree = experiment(proj, "faster", lr="0.5")
    tip, candidate = git(tree, "rev-parse", "HEAD"), code_at(proj, "exp/faster")
    assert main(["keep", "faster"]) == 0
    out = capsys.readouterr().out
    assert "keep: KEPT faster: mean gain" in out and "merged into main. New worktrees start from it." in out
    # git merge --no-ff from the root: a merge commit whose parents are the old main and the branch tip
    assert git(proj, "rev-parse", "main^1", "main^2").split() == [old_main, tip]
    assert git(proj, "log", "-1", "--format=%s", "main").startswith("keep(faster): val_bpb ")
    assert git(proj, "branch", "--show-current") == "main" and "LR = 0.5\n" in (proj / "train.py").read_text()
    assert code_at(proj, "main") == candidate
    assert status_of(proj, "faster") == "kept"
    assert "keep faster: kept" in (proj / "RESEARCH_JOURNAL.md").read_text()
    rows = record(proj).of_code(candidate, PROFILE)
    assert sorted(rows["seed"].to_list()) == [0, 1] and set(rows["idea"]) == {"faster"}
    assert set(rows["parent"]) == {old_code} and set(rows["verdict"]) == {"better"}

    # the next experiment starts from the win, and its verdict is against the win's rows, not the old main's
    nxt = experiment(proj, "next", comment="a new idea on top of the win")
    assert "LR = 0.5\n" in (nxt / "train.py").read_text()
    [row] = run_eval(nxt, "--profile", PROFILE, "--seed", "0")
    assert row["parent"] == candidate and row["code"] != candidate
    assert row["verdict"] == "within-noise"  # against the old main's mean (~4.95) it would read better


def test_keep_refuses_when_mains_code_moved_since_the_fork_and_keeps_after_merging_main(proj: Path, capsys):
    tree = experiment(proj, "faster", lr="0.5")
    (proj / "train.py").write_text((proj / "train.py").read_text() + "# main moved on\n")
    git(proj, "commit", "-q", "-am", "a change of main's code (a win kept meanwhile)")
    rows = record(proj).df.height
    assert main(["keep", "faster"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "main's code changed since exp/faster forked" in err
    assert "merge it in (`git -C 5_worktrees/faster merge main`), then `just keep faster` again" in err
    assert record(proj).df.height == rows and "keep faster" not in (proj / "RESEARCH_JOURNAL.md").read_text()

    # following the advice: main's new code has no rows, so keep runs its seeds too, then merges
    git(tree, "merge", "-q", "--no-edit", "main")
    new_main = code_at(proj, "main")
    assert main(["keep", "faster"]) == 0, capsys.readouterr().err
    rec = record(proj)
    assert sorted(rec.of_code(new_main, PROFILE)["seed"].to_list()) == [0, 1]
    assert code_at(proj, "main") == code_at(proj, "exp/faster")


def test_keep_researcher_prints_the_merge_command_and_merges_nothing(proj: Path, capsys):
    pyproject = proj / "pyproject.toml"
    text = pyproject.read_text()
    assert "[tool.autoresearch]\n" in text
    pyproject.write_text(text.replace("[tool.autoresearch]\n", '[tool.autoresearch]\nkeep = "researcher"\n', 1))
    git(proj, "commit", "-q", "-am", "the researcher merges")
    experiment(proj, "faster", lr="0.5")
    before = git(proj, "rev-parse", "main")
    assert main(["keep", "faster"]) == 0
    out = capsys.readouterr().out
    assert "keep: faster beats main" in out and 'keep = "researcher": the researcher merges it:' in out
    command = out.split("the researcher merges it:", 1)[1].strip().splitlines()[0].strip()
    assert command.startswith("git merge --no-ff -m ") and command.endswith(" exp/faster")
    assert git(proj, "rev-parse", "main") == before and status_of(proj, "faster") == "implementing"
    assert "keep faster: proposed for the researcher" in (proj / "RESEARCH_JOURNAL.md").read_text()
    # the printed command, run in the root the next morning, is the merge keep would have made
    subprocess.run(command, shell=True, cwd=proj, check=True, capture_output=True)
    assert git(proj, "rev-parse", "main^1") == before and code_at(proj, "main") == code_at(proj, "exp/faster")


# ---- refusals before any run -----------------------------------------------------------------


def test_keep_refuses_an_uncalibrated_project(project: Path, capsys):
    experiment(project, "faster", lr="0.5")
    assert main(["keep", "faster"]) == 1
    assert "nothing is calibrated, so the noise is unknown: run `just calibrate` first" in capsys.readouterr().err
    assert main(["keep", "faster", "--profile", PROFILE]) == 1
    assert f"profile {PROFILE} is not calibrated" in capsys.readouterr().err
    assert record(project).df.height == 0 and "keep faster" not in (project / "RESEARCH_JOURNAL.md").read_text()


def test_keep_refuses_a_profile_that_is_not_calibrated(proj: Path, capsys):
    experiment(proj, "faster", lr="0.5")
    assert main(["keep", "faster", "--profile", "smoke"]) == 1
    err = capsys.readouterr().err
    assert "profile smoke is not calibrated, so the noise is unknown: run `just calibrate --profile smoke` first" in err
    assert record(proj).df.height == 3


def test_keep_refuses_uncommitted_code_in_the_worktree(proj: Path, capsys):
    tree = experiment(proj, "faster", lr="0.5")
    set_lr(tree, "0.6")
    assert main(["keep", "faster"]) == 1
    assert "5_worktrees/faster has uncommitted code; commit it" in capsys.readouterr().err
    git(tree, "checkout", "train.py")
    (tree / "helpers.py").write_text("LR = 0.7\n")  # a new file is code too
    assert main(["keep", "faster"]) == 1
    assert "has uncommitted code" in capsys.readouterr().err
    assert record(proj).df.height == 3


def test_keep_refuses_a_branch_that_does_not_exist_or_holds_mains_code(proj: Path, capsys):
    assert main(["keep", "nope"]) == 1
    assert "no branch exp/nope" in capsys.readouterr().err
    project, config = here(proj)
    ideas.new_idea(project, "notes", "only notes")
    tree = worktrees.new_worktree(project, config, "notes").path
    (tree / "0_docs" / "problem.md").write_text("thoughts, no code\n")
    git(tree, "commit", "-q", "-am", "notes only")
    assert main(["keep", "notes"]) == 1
    assert (
        f"exp/notes has the same code as main ({code_at(proj, 'main')}): there is nothing to keep"
        in capsys.readouterr().err
    )
