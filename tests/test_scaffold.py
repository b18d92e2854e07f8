"""`autoresearch init`: a new project from the template, with fresh records, its own git and hooks.

The template here is a throw-away copy of this checkout with research records added (ideas, a
report, journal entries, result rows, a calibration), so the tests prove that none of it comes along.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autoresearch import scaffold
from autoresearch.cli import main
from autoresearch.journal import parse
from autoresearch.results import HEADER

REPO = Path(__file__).resolve().parents[1]
FLAGS = ["--project", "Teach a tiny GPT the synthetic language faster.", "--metric", "val_acc",
         "--direction", "higher", "--hypothesis-space", "optimiser and schedule changes in train.py"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def copy_checkout(dest: Path) -> Path:
    """This checkout's files (those init would use), copied into a new git repo at dest."""
    for rel in scaffold.checkout_files(REPO):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, dest / rel)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    return dest


@pytest.fixture
def identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git identity in a private global config, so the tests behave the same on every machine."""
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tname = Test Researcher\n\temail = test@example.com\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    return config


@pytest.fixture
def used_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, identity: Path) -> Path:
    """A template checkout full of this repo's research: ideas, a report, journal entries, rows, calibration."""
    root = copy_checkout(tmp_path / "template")
    (root / "1_ideas" / "2025-01-01_rotary.md").write_text("---\nslug: rotary\n---\n")
    (root / "9_reports" / "2025-01-02_rotary.md").write_text("# Report: rotary\n")
    (root / "0_docs" / "papers" / "attention.md").write_text("full text\n")
    (root / ".autoresearch").mkdir(exist_ok=True)
    (root / ".autoresearch" / "calibration.json").write_text('{"profiles": {}}\n')
    (root / "results.tsv").write_text(HEADER + "abc1234\t1.9" + "\t" * (HEADER.count("\t") - 1) + "\n")
    for name in ("RESEARCH_JOURNAL.md", "meta_journal.md", "human_journal.md"):
        path = root / name
        path.write_text(path.read_text().rstrip("\n") + "\n\n## 2025-01-01 00:00 UTC · an old entry\n\n**Observation:** x\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "research")
    template = scaffold.Template(root, tuple(scaffold.checkout_files(root)), "checkout")
    monkeypatch.setattr(scaffold, "find_template", lambda: template)
    return root


def test_init_copies_the_template_without_its_research(used_template: Path, tmp_path: Path, capsys) -> None:
    dest = tmp_path / "myproj"
    assert main(["init", str(dest), *FLAGS]) == 0
    files = set(git(dest, "ls-files").splitlines())
    for rel in ("program.md", "eval.py", "train.py", "model.py", "justfile", "pyproject.toml", "setup.sh",
                ".gitignore", "1_ideas/_TEMPLATE.md", "9_reports/_TEMPLATE.md", "5_worktrees/.gitkeep",
                "0_docs/problem.md", "0_docs/papers/.gitkeep", "src/autoresearch/cli.py"):
        assert rel in files, rel
    assert [p.name for p in (dest / "1_ideas").iterdir()] == ["_TEMPLATE.md"]
    assert [p.name for p in (dest / "9_reports").iterdir()] == ["_TEMPLATE.md"]
    assert [p.name for p in (dest / "0_docs" / "papers").iterdir()] == [".gitkeep"]
    assert [p.name for p in (dest / "5_worktrees").iterdir()] == [".gitkeep"]
    assert not (dest / ".autoresearch").exists()
    assert (dest / "results.tsv").read_text() == HEADER
    for name in ("RESEARCH_JOURNAL.md", "meta_journal.md", "human_journal.md"):
        header, entries = parse((dest / name).read_text())
        assert entries == [] and header.startswith("# ")


def test_init_makes_one_commit_on_main_with_the_hooks(used_template: Path, tmp_path: Path, capsys) -> None:
    dest = tmp_path / "myproj"
    main(["init", str(dest), *FLAGS])
    assert git(dest, "branch", "--show-current") == "main"
    assert git(dest, "log", "--format=%s") == scaffold.COMMIT_MESSAGE
    assert git(dest, "status", "--porcelain") == ""
    assert "autoresearch guard hook" in (dest / ".git" / "hooks" / "pre-commit").read_text()
    out = capsys.readouterr().out
    assert f"created {dest}" in out and "pre-commit installed" in out and "nothing left to fill in" in out


def test_init_fills_the_flags_into_program_problem_and_pyproject(used_template: Path, tmp_path: Path, capsys) -> None:
    dest = tmp_path / "myproj"
    main(["init", str(dest), *FLAGS])
    program = (dest / "program.md").read_text()
    assert "Project: Teach a tiny GPT the synthetic language faster.\n" in program
    assert "Metric: val_acc (higher is better)\n" in program
    assert "Hypothesis space: optimiser and schedule changes in train.py\n" in program
    problem = (dest / "0_docs" / "problem.md").read_text()
    assert "**Project:** Teach a tiny GPT the synthetic language faster.\n\n**Metric:**" in problem
    assert "**Metric:** `val_acc` (higher is better)\n" in problem
    assert "**Hypothesis space:** optimiser and schedule changes in train.py\n\n## " in problem
    assert "{FILL_IN" not in program + problem
    pyproject = (dest / "pyproject.toml").read_text()
    assert 'metric = "val_acc"' in pyproject and 'direction = "higher"' in pyproject


def test_init_without_flags_leaves_visible_fill_ins_and_lists_them(used_template: Path, tmp_path: Path, capsys) -> None:
    dest = tmp_path / "myproj"
    assert main(["init", str(dest)]) == 0
    program = (dest / "program.md").read_text()
    assert "Project: {FILL_IN: one sentence describing the research problem}" in program
    assert "Metric: {FILL_IN: what we optimize, e.g. val_bpb, accuracy, F1} (lower is better)" in program
    out = capsys.readouterr().out
    assert "still to fill in (6;" in out
    assert "  program.md:3: {FILL_IN: one sentence describing the research problem}" in out
    assert "  0_docs/problem.md:7: {FILL_IN: what class of approaches are in scope}" in out
    assert scaffold.fill_ins(dest) == [line.strip() for line in out.splitlines() if line.startswith("  ")]


def test_check_warns_while_a_fill_in_remains(used_template: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    dest = tmp_path / "myproj"
    main(["init", str(dest), "--project", "A problem."])
    capsys.readouterr()
    monkeypatch.chdir(dest)
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "program.md" in out and "FILL_IN" in out and "warning" in out


def test_init_refuses_a_non_empty_folder_and_writes_nothing(used_template: Path, tmp_path: Path, capsys) -> None:
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine\n")
    assert main(["init", str(dest), *FLAGS]) == 1
    err = capsys.readouterr().err
    assert err == f"autoresearch: {dest} is not empty; init writes only into a new or empty folder, so nothing was written\n"
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["busy", "template", "gitconfig"])


def test_init_fills_an_empty_existing_folder(used_template: Path, tmp_path: Path, capsys) -> None:
    dest = tmp_path / "empty"
    dest.mkdir()
    assert main(["init", str(dest)]) == 0
    assert (dest / "program.md").is_file() and (dest / ".git").is_dir()


def test_init_removes_everything_when_git_fails(used_template: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    dest = tmp_path / "myproj"
    monkeypatch.setattr(scaffold, "COMMIT_MESSAGE", "")  # git refuses an empty commit message
    assert main(["init", str(dest)]) == 1
    assert "`git commit` failed" in capsys.readouterr().err
    assert not dest.exists()


def test_init_sets_a_local_identity_only_when_git_has_none(used_template: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-such-config"))
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    dest = tmp_path / "myproj"
    assert main(["init", str(dest)]) == 0
    assert "note: git had no user.name or user.email" in capsys.readouterr().out
    assert git(dest, "config", "--local", "user.email") == scaffold.FALLBACK_IDENTITY[1]


def test_init_keeps_the_configured_identity(used_template: Path, tmp_path: Path, capsys) -> None:
    dest = tmp_path / "myproj"
    main(["init", str(dest)])
    assert "note:" not in capsys.readouterr().out
    assert git(dest, "log", "--format=%an <%ae>") == "Test Researcher <test@example.com>"
    assert subprocess.run(["git", "config", "--local", "user.name"], cwd=dest).returncode == 1


def test_init_rejects_a_bad_metric_name(used_template: Path, tmp_path: Path, capsys) -> None:
    assert main(["init", str(tmp_path / "p"), "--metric", "val bpb"]) == 1
    assert "--metric 'val bpb'" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_a_checkout_template_is_its_files_git_does_not_ignore(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    git(root, "init", "-q")
    (root / ".gitignore").write_text("*.log\n")
    (root / "kept.py").write_text("")
    (root / "new.md").write_text("")
    (root / "run.log").write_text("")
    git(root, "add", ".gitignore", "kept.py")
    assert scaffold.checkout_files(root) == [".gitignore", "kept.py", "new.md"]


def test_init_works_from_an_installed_wheel(tmp_path: Path, identity: Path) -> None:
    """Build a wheel from a clean copy of this checkout, install only it, and init from there."""
    source = copy_checkout(tmp_path / "source")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path / "dist"), str(source)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("autoresearch-*.whl")
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    shutil.rmtree(source)  # no checkout left to read from
    env = os.environ | {"PYTHONPATH": str(target)}
    out = subprocess.run([sys.executable, "-m", "autoresearch", "init", str(tmp_path / "fromwheel"), "--project", "P."],
                         cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert f"(package data {target / 'autoresearch' / '_template'}," in out.stdout
    dest = tmp_path / "fromwheel"
    files = set(git(dest, "ls-files").splitlines())
    assert {"program.md", "eval.py", "setup.sh", "setup.py", "src/autoresearch/scaffold.py", "1_ideas/_TEMPLATE.md"} <= files
    assert not any("__pycache__" in f for f in files)
    assert os.access(dest / "setup.sh", os.X_OK)
    assert (dest / "results.tsv").read_text() == HEADER
