"""check.py: `autoresearch check` over the root, every worktree, main's history and results.tsv."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from autoresearch import gitinfo, hooks, results
from autoresearch.check import known_frozen_hashes
from autoresearch.cli import main
from autoresearch.taxonomy import Taxonomy

ENTRY_A = "## 2025-01-01 10:00 UTC · first\n\n**Observation:** a\n"
ENTRY_B = "## 2025-01-02 10:00 UTC · second\n\n**Observation:** b\n"


@pytest.fixture(autouse=True)
def hooked(project: Path) -> Path:
    """As after setup.sh: the guard hooks are installed (commits below skip them with --no-verify)."""
    assert hooks.install(project) == 0
    return project


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def check(capsys) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(["check"])
    return code, capsys.readouterr().out.splitlines()


def commit_all(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)


def with_entries(repo: Path, *entries: str) -> str:
    """RESEARCH_JOURNAL.md's header followed by these entries (newest first)."""
    from autoresearch.journal import parse

    header, _ = parse((repo / "RESEARCH_JOURNAL.md").read_text())
    return header + "\n" + "\n".join(entries)


def worktree(repo: Path, slug: str) -> Path:
    git(repo, "worktree", "add", "-q", f"5_worktrees/{slug}", "-b", f"exp/{slug}", "main")
    return repo / "5_worktrees" / slug


def test_a_fresh_project_is_ok(project: Path, capsys) -> None:
    assert check(capsys) == (0, ["check: ok"])


def test_an_edited_frozen_file_is_a_violation_naming_file_and_rule(project: Path, capsys) -> None:
    (project / "eval.py").write_text((project / "eval.py").read_text() + "# x\n")
    code, lines = check(capsys)
    assert code == 1 and lines[-1] == "check: 1 violation"
    assert lines[0].startswith("eval.py: FROZEN") and "git checkout main -- eval.py" in lines[0]


def test_meta_mode_allows_frozen_changes_and_says_so(project: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("META_MODE", "1")
    (project / "eval.py").write_text((project / "eval.py").read_text() + "# x\n")
    code, lines = check(capsys)
    assert code == 0 and lines[0].startswith("note: META_MODE is on (the environment has META_MODE=1)")


def test_a_new_toolkit_file_is_flagged_even_untracked(project: Path, capsys) -> None:
    (project / "src" / "autoresearch").mkdir(parents=True)
    (project / "src" / "autoresearch" / "evil.py").write_text("x = 1\n")
    code, lines = check(capsys)
    assert code == 1 and lines[0].startswith("src/autoresearch/evil.py: FROZEN") and "a new file that main does not have" in lines[0]


def test_frozen_edits_in_worktrees_are_found_with_their_path(project: Path, capsys) -> None:
    wt = worktree(project, "rotary")
    (wt / "program.md").write_text("# mine now\n")
    code, lines = check(capsys)
    assert code == 1
    assert lines[0].startswith("5_worktrees/rotary/program.md: FROZEN") and "git -C 5_worktrees/rotary checkout main -- program.md" in lines[0]


def test_a_worktree_behind_a_meta_mode_change_gets_a_warning_not_a_violation(project: Path, capsys) -> None:
    worktree(project, "rotary")
    (project / "eval.py").write_text((project / "eval.py").read_text() + "# new column\n")
    commit_all(project, "meta: eval change")
    code, lines = check(capsys)
    assert code == 0
    assert any(line.startswith("warning: 5_worktrees/rotary/eval.py: main changed this FROZEN file") and "merge main" in line for line in lines)


def test_an_edited_old_journal_entry_is_a_violation(project: Path, capsys) -> None:
    (project / "RESEARCH_JOURNAL.md").write_text(with_entries(project, ENTRY_B, ENTRY_A))
    commit_all(project)
    assert check(capsys)[0] == 0
    (project / "RESEARCH_JOURNAL.md").write_text(with_entries(project, ENTRY_B, ENTRY_A.replace("a\n", "a, or rather c\n")))
    code, lines = check(capsys)
    assert code == 1 and "RESEARCH_JOURNAL.md: APPEND-ONLY: entry '2025-01-01 10:00 UTC · first' was changed" in lines[0]


def test_reordered_journal_entries_are_a_violation(project: Path, capsys) -> None:
    (project / "RESEARCH_JOURNAL.md").write_text(with_entries(project, ENTRY_B, ENTRY_A))
    commit_all(project)
    (project / "RESEARCH_JOURNAL.md").write_text(with_entries(project, ENTRY_A, ENTRY_B))
    code, lines = check(capsys)
    assert code == 1 and any("was moved out of order" in line for line in lines)


def test_a_history_rewrite_committed_past_the_hook_is_found_in_mains_history(project: Path, capsys) -> None:
    (project / "RESEARCH_JOURNAL.md").write_text(with_entries(project, ENTRY_A))
    commit_all(project, "journal")
    (project / "RESEARCH_JOURNAL.md").write_text(with_entries(project, ENTRY_A.replace("**Observation:** a", "**Observation:** z")))
    commit_all(project, "rewrite")
    bad = git(project, "rev-parse", "--short=8", "HEAD").strip()
    code, lines = check(capsys)
    assert code == 1
    assert f"by commit {bad} on main" in lines[0] and f"git show {bad}~1:RESEARCH_JOURNAL.md" in lines[0]


def test_global_files_in_a_branchs_own_commits_are_a_violation(project: Path, capsys) -> None:
    wt = worktree(project, "rotary")
    (wt / "results.tsv").write_text((wt / "results.tsv").read_text() + "forged\n")
    commit_all(wt, "sneak results")
    code, lines = check(capsys)
    assert code == 1
    assert any(line.startswith("results.tsv: GLOBAL") and "changed by the commits of exp/rotary" in line for line in lines)


def test_global_files_changed_in_a_worktree_copy_are_a_violation(project: Path, capsys) -> None:
    wt = worktree(project, "rotary")
    (wt / "RESEARCH_JOURNAL.md").write_text((wt / "RESEARCH_JOURNAL.md").read_text() + "\nnote\n")
    code, lines = check(capsys)
    assert code == 1 and lines[0].startswith("5_worktrees/rotary/RESEARCH_JOURNAL.md: GLOBAL") and "changed in a worktree" in lines[0]


def test_a_results_file_that_does_not_parse_is_a_violation(project: Path, result_row, capsys) -> None:
    results.append_row(project / "results.tsv", result_row())
    with (project / "results.tsv").open("a") as f:
        f.write("abc1234\t1.9\n")
    code, lines = check(capsys)
    assert code == 1 and "results.tsv line 3: 2 fields" in lines[0] and lines[0].endswith("(GLOBAL: written only by eval.py)")


def test_rows_from_a_modified_harness_are_a_warning(project: Path, result_row, capsys) -> None:
    tax = Taxonomy.load(project / "pyproject.toml")
    good = gitinfo.frozen_hash(project, tax)
    for h in (good, "deadbeef0000", "deadbeef0000"):
        results.append_row(project / "results.tsv", result_row(eval_hash=h))
    code, lines = check(capsys)
    assert code == 0 and lines[-1] == "check: ok (1 warning)"
    assert lines[0] == (
        "warning: results.tsv: 2 rows (lines 3, 4) have eval_hash deadbeef0000, which matches no committed version of the FROZEN files "
        "on main: made by a modified harness, so do not trust them; rerun those commits from a clean checkout"
    )


def test_rows_made_before_a_meta_mode_change_still_match_their_commit(project: Path, result_row, capsys) -> None:
    tax = Taxonomy.load(project / "pyproject.toml")
    old = gitinfo.frozen_hash(project, tax)
    (project / "eval.py").write_text((project / "eval.py").read_text() + "# new column\n")
    commit_all(project, "meta: eval change")
    new = gitinfo.frozen_hash(project, tax)
    assert old != new and {old, new} <= known_frozen_hashes(project, tax, "main")
    for h in (old, new):
        results.append_row(project / "results.tsv", result_row(eval_hash=h))
    assert check(capsys) == (0, ["check: ok"])


def test_a_changed_validation_split_is_a_warning(project: Path, result_row, capsys) -> None:
    h = gitinfo.frozen_hash(project, Taxonomy.load(project / "pyproject.toml"))
    for v in ("aaaa", "aaaa", "bbbb"):
        results.append_row(project / "results.tsv", result_row(eval_hash=h, val_hash=v))
    code, lines = check(capsys)
    assert code == 0 and "profile cpu has 2 validation splits (aaaa from line 2, bbbb from line 4)" in lines[0]


@pytest.mark.parametrize("rel", ["program.md", "0_docs/problem.md"])
def test_fill_in_placeholders_are_a_warning(project: Path, rel: str, capsys) -> None:
    path = project / rel
    path.write_text(path.read_text() + "\nProject: {FILL_IN: one sentence}\n")
    commit_all(project, "template with a gap")
    code, lines = check(capsys)
    assert code == 0 and lines[0].startswith(f"warning: {rel}: {{FILL_IN...}} placeholder left on line")


def test_missing_guard_hooks_are_a_warning(project: Path, capsys) -> None:
    (project / ".git" / "hooks" / "pre-commit").unlink()
    code, lines = check(capsys)
    assert code == 0 and lines[0].startswith("warning: the git pre-commit guard hook is missing") and "autoresearch hooks install" in lines[0]
    git(project, "config", "core.hooksPath", "/dev/null")
    assert "core.hooksPath is set to /dev/null" in check(capsys)[1][0]


def test_check_is_fast_enough_to_run_often(project: Path, result_row, capsys) -> None:
    import time

    for i in range(3):
        worktree(project, f"idea-{i}")
    rows = "".join(results.format_row(result_row(seed=i)) for i in range(2000))
    (project / "results.tsv").write_text(results.HEADER + rows)
    t = time.perf_counter()
    check(capsys)
    assert time.perf_counter() - t < 5
