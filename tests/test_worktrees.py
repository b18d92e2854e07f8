"""worktrees.py: one real git worktree per idea (plain git), the branch kept and the logs saved on removal,
"main moved" when a win changed main's code, and the record written from a worktree landing in the root."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import append_rows

from autoresearch import ideas, journal, results, worktrees
from autoresearch.cli import main
from autoresearch.config import Config
from autoresearch.errors import UserError
from autoresearch.paths import Project


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def here() -> tuple[Project, Config]:
    project = Project.find()
    return project, Config.load(project)


def branches(repo: Path) -> list[str]:
    return git(repo, "branch", "--format=%(refname:short)").splitlines()


@pytest.fixture
def idea(project: Path) -> str:
    ideas.new_idea(Project.find(), "rotary", "Rotary embeddings", "position by rotation")
    return "rotary"


@pytest.fixture
def tree(project: Path, idea: str) -> Path:
    return worktrees.new_worktree(*here(), idea).path


def test_new_worktree_branches_from_main_and_marks_the_idea(
    project: Path, idea: str, capsys: pytest.CaptureFixture
) -> None:
    assert main(["worktree", "new", idea]) == 0
    path = project / "5_worktrees" / idea
    assert (path / "train.py").exists() and (path / ".git").is_file()
    assert git(path, "rev-parse", "--abbrev-ref", "HEAD") == "exp/rotary"
    assert git(project, "rev-parse", "exp/rotary") == git(project, "rev-parse", "main")
    assert ideas.parse_idea(ideas.find_idea(Project.find(), idea)).status == "implementing"
    out = capsys.readouterr().out
    for step in ("cd 5_worktrees/rotary", "train.py", "just smoke", "just eval", "just report rotary"):
        assert step in out


def test_new_worktree_branches_from_main_even_when_the_root_is_elsewhere(project: Path, idea: str) -> None:
    git(project, "checkout", "-q", "-b", "side")
    (project / "side.txt").write_text("x")
    git(project, "add", "side.txt")
    git(project, "commit", "-qm", "side")
    new = worktrees.new_worktree(*here(), idea)
    assert git(new.path, "rev-parse", "HEAD") == git(project, "rev-parse", "main")
    assert (new.branch, new.main, new.parent) == ("exp/rotary", "main", git(project, "rev-parse", "--short", "main"))


def test_new_worktree_refuses_a_missing_idea(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["worktree", "new", "nope"]) == 1
    assert 'just idea nope "title"' in capsys.readouterr().err
    assert branches(project) == ["main"] and not (project / "5_worktrees" / "nope").exists()


def test_new_worktree_refuses_an_existing_branch(project: Path, idea: str, capsys: pytest.CaptureFixture) -> None:
    git(project, "branch", "exp/rotary")
    assert main(["worktree", "new", idea]) == 1
    err = capsys.readouterr().err
    assert "branch exp/rotary exists already" in err and "just wt-rm rotary --delete-branch" in err
    assert not (project / "5_worktrees" / idea).exists()
    assert ideas.parse_idea(ideas.find_idea(Project.find(), idea)).status == "proposed"


def test_new_worktree_refuses_an_existing_folder(project: Path, idea: str, capsys: pytest.CaptureFixture) -> None:
    (project / "5_worktrees" / idea).mkdir()
    assert main(["worktree", "new", idea]) == 1
    assert "5_worktrees/rotary exists already" in capsys.readouterr().err
    assert branches(project) == ["main"]
    assert ideas.parse_idea(ideas.find_idea(Project.find(), idea)).status == "proposed"


def test_commands_outside_a_git_repo_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    bare = tmp_path / "plain"
    bare.mkdir()
    monkeypatch.chdir(bare)
    assert main(["worktree", "list"]) == 1
    assert "is not inside a git checkout" in capsys.readouterr().err


def test_new_worktree_from_inside_a_worktree_acts_on_the_root(
    project: Path, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree)
    ideas.new_idea(Project.find(), "warmup", "Warmup")
    assert list((project / "1_ideas").glob("*_warmup.md")) and not list((tree / "1_ideas").glob("*_warmup.md"))
    assert main(["worktree", "new", "warmup"]) == 0
    assert (project / "5_worktrees" / "warmup" / "train.py").exists()
    assert not (tree / "5_worktrees" / "warmup").exists()


def test_list_worktrees_reports_dirty_ahead_and_last_result(project: Path, tree: Path, result_row) -> None:
    (info,) = worktrees.list_worktrees(*here())
    assert (info.slug, info.branch, info.dirty, info.ahead, info.last_result) == (
        "rotary",
        "exp/rotary",
        False,
        0,
        None,
    )
    assert info.path.resolve() == tree.resolve()
    with (tree / "train.py").open("a") as f:
        f.write("\n# tweak\n")
    assert worktrees.list_worktrees(*here())[0].dirty
    git(tree, "commit", "-qam", "exp(rotary): tweak")
    append_rows(project, [result_row(idea="rotary", val_bpb=1.9), result_row(idea="rotary", val_bpb=1.8)])
    (info,) = worktrees.list_worktrees(*here(), results.load(*here()))
    assert (info.dirty, info.ahead, info.last_result) == (False, 1, "1.8000 ok (cpu)")
    append_rows(project, [result_row(idea="rotary", status="crash", reason="nan")])
    assert worktrees.list_worktrees(*here(), results.load(*here()))[0].last_result == "crash: nan (cpu)"


def test_list_worktrees_ignores_worktrees_outside_5_worktrees(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    git(project, "worktree", "add", "-q", str(tmp_path / "elsewhere"), "-b", "other")
    assert worktrees.list_worktrees(*here()) == []
    assert main(["worktree", "list"]) == 0
    assert "no worktrees" in capsys.readouterr().out


def test_worktree_list_cli_prints_a_table(project: Path, tree: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["worktree", "list"]) == 0
    assert "exp/rotary" in capsys.readouterr().out


def test_worktree_eval_appends_to_root(project: Path, tree: Path, result_row) -> None:
    """What eval.py does from a worktree: Project.find() there resolves the ROOT results.tsv."""
    from_tree = Project.find(tree)
    assert from_tree.root == project and from_tree.checkout == tree and from_tree.in_worktree
    before = (tree / "results.tsv").read_bytes()
    results.append(from_tree, "val_bpb", result_row(idea="rotary", branch="exp/rotary", val_bpb=1.77))
    assert results.load(from_tree, Config.load(from_tree)).df["val_bpb"].to_list() == [1.77]
    assert results.load(Project.find(project), Config.load(Project.find(project))).df["val_bpb"].to_list() == [1.77]
    assert (tree / "results.tsv").read_bytes() == before


def test_journal_from_a_worktree_lands_in_the_root(project: Path, tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree / "1_ideas")  # anywhere inside the worktree
    assert main(["journal", "add", "--title", "from the tree", "--slug", "rotary", "--observation", "o"]) == 0
    _, root_entries = journal.parse((project / "RESEARCH_JOURNAL.md").read_text())
    assert [e.heading.split(" · ", 1)[1] for e in root_entries] == ["from the tree · [rotary]"]
    assert journal.parse((tree / "RESEARCH_JOURNAL.md").read_text())[1] == []


def test_remove_keeps_the_branch_by_default(project: Path, tree: Path, capsys: pytest.CaptureFixture) -> None:
    (tree / "model.py").write_text("# changed\n")
    git(tree, "commit", "-qam", "exp(rotary): change")
    commit = git(tree, "rev-parse", "HEAD")
    assert main(["worktree", "remove", "rotary"]) == 0
    assert not tree.exists() and worktrees.list_worktrees(*here()) == []
    assert git(project, "rev-parse", "exp/rotary") == commit
    assert "kept branch exp/rotary" in capsys.readouterr().out


def test_remove_refuses_a_dirty_worktree_without_force(
    project: Path, tree: Path, capsys: pytest.CaptureFixture
) -> None:
    (tree / "notes.txt").write_text("untracked work")
    assert main(["worktree", "remove", "rotary"]) == 1
    assert "uncommitted changes" in capsys.readouterr().err.replace("\n", " ")
    assert (tree / "notes.txt").exists()
    with pytest.raises(UserError, match="--force"):
        worktrees.remove_worktree(*here(), "rotary")
    assert main(["worktree", "remove", "rotary", "--force"]) == 0
    assert not tree.exists() and "exp/rotary" in branches(project)


def test_remove_with_delete_branch_deletes_an_unmerged_branch(
    project: Path, tree: Path, capsys: pytest.CaptureFixture
) -> None:
    (tree / "model.py").write_text("# changed\n")
    git(tree, "commit", "-qam", "exp(rotary): unmerged")
    commit = git(tree, "rev-parse", "HEAD")
    assert main(["worktree", "remove", "rotary", "--delete-branch"]) == 0
    assert branches(project) == ["main"]
    assert f"git branch exp/rotary {commit[:12]}" in capsys.readouterr().out


def test_remove_an_unknown_worktree_is_refused(project: Path, idea: str, capsys: pytest.CaptureFixture) -> None:
    git(project, "branch", "exp/rotary")
    assert main(["worktree", "remove", "rotary"]) == 1
    err = capsys.readouterr().err
    assert "no worktree 5_worktrees/rotary" in err and "git branch -D exp/rotary" in err
    assert "exp/rotary" in branches(project)


def test_remove_refuses_from_inside_that_worktree(project: Path, tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    with pytest.raises(UserError, match="you are inside 5_worktrees/rotary"):
        worktrees.remove_worktree(*here(), "rotary")
    assert tree.exists()


def test_remove_moves_the_log_files_left_in_the_worktree_into_7_runs(
    project: Path, tree: Path, capsys: pytest.CaptureFixture
) -> None:
    (tree / "run.log").write_text("step 1 loss 5.5\n")  # ignored by .gitignore: the worktree stays clean
    (tree / "notes.txt").write_text("not a log")
    (tree / "out").mkdir()
    (tree / "out" / "train.log").write_text("step 2 loss 4.4\n")
    assert main(["worktree", "remove", "rotary", "--force"]) == 0
    out = capsys.readouterr().out
    (saved,) = (project / "7_runs").iterdir()
    assert saved.name.endswith("_rotary_worktree-logs") and f"moved to 7_runs/{saved.name}" in out
    assert {p.name: p.read_text() for p in saved.iterdir()} == {
        "run.log": "step 1 loss 5.5\n",
        "out__train.log": "step 2 loss 4.4\n",
    }
    assert not tree.exists() and "exp/rotary" in branches(project)


def test_remove_of_a_clean_worktree_with_an_ignored_run_log_needs_no_force(project: Path, tree: Path) -> None:
    (tree / "run.log").write_text("the log the manual tells the agent to read\n")
    removed = worktrees.remove_worktree(*here(), "rotary")
    assert removed.kept_branch and removed.logs is not None
    assert (removed.logs / "run.log").read_text() == "the log the manual tells the agent to read\n"


def test_remove_without_logs_makes_no_run_folder(project: Path, tree: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["worktree", "remove", "rotary"]) == 0
    assert "moved to" not in capsys.readouterr().out and not (project / "7_runs").exists()


def test_list_says_main_moved_when_mains_code_changed_since_the_fork(
    project: Path, tree: Path, capsys: pytest.CaptureFixture
) -> None:
    (project / "RESEARCH_JOURNAL.md").write_text((project / "RESEARCH_JOURNAL.md").read_text() + "\n")
    git(project, "commit", "-qam", "record: a commit on main that changes no code")
    assert not worktrees.list_worktrees(*here())[0].behind_champion
    assert main(["worktree", "list"]) == 0
    assert "main moved" not in capsys.readouterr().out
    (project / "model.py").write_text((project / "model.py").read_text() + "\n# a kept win\n")
    git(project, "commit", "-qam", "keep: a win")
    assert worktrees.list_worktrees(*here())[0].behind_champion
    assert main(["worktree", "list"]) == 0
    assert "(main moved: merge main)" in capsys.readouterr().out
    git(tree, "merge", "-q", "main")
    assert not worktrees.list_worktrees(*here())[0].behind_champion


def test_new_worktree_starts_from_mains_current_code_so_wins_stack(project: Path, idea: str) -> None:
    (project / "train.py").write_text((project / "train.py").read_text().replace("LR = 0.05", "LR = 0.07"))
    git(project, "commit", "-qam", "keep: LR 0.07")
    path = worktrees.new_worktree(*here(), idea).path
    assert "LR = 0.07" in (path / "train.py").read_text()
