"""check.py and audit.py: `autoresearch check` over the root, every worktree, main's whole history and results.tsv.

Real git repositories and real commits through the installed hooks (pre-commit, prepare-commit-msg);
rows signed by results.append with a key folder of the test's own (AUTORESEARCH_KEYS).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

import pytest
from records import append_row, format_line, row, run_folder

from autoresearch import audit, fingerprints, hooks
from autoresearch.cli import main
from autoresearch.config import Config
from autoresearch.paths import Project

SRC = Path(__file__).resolve().parents[1] / "src"
ENTRY_A = "## 2025-01-01 10:00 UTC · first\n\n**Observation:** a\n"
ENTRY_B = "## 2025-01-02 10:00 UTC · second\n\n**Observation:** b\n"


@pytest.fixture(autouse=True)
def hooked(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """As after setup.sh: the hooks are installed, and this test's own signing key folder."""
    monkeypatch.setenv("AUTORESEARCH_KEYS", str(tmp_path / "keys"))
    monkeypatch.setenv("PYTHONPATH", str(SRC))
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        assert hooks.install(project) == 0
    return project


def git(repo: Path, *args: str, env: dict | None = None) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env).stdout


def env(meta: bool = False) -> dict:
    base = {k: v for k, v in os.environ.items() if k != "META_MODE"}
    return base | ({"META_MODE": "1"} if meta else {})


def check(capsys) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(["check"])
    return code, capsys.readouterr().out.splitlines()


def commit_all(repo: Path, message: str = "change", meta: bool = False) -> str:
    """Commit everything past the pre-commit hook (prepare-commit-msg still runs: META_MODE signs); the short id."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message, env=env(meta))
    return git(repo, "rev-parse", "--short=8", "HEAD").strip()


def with_entries(repo: Path, *entries: str) -> str:
    """RESEARCH_JOURNAL.md's header followed by these entries (newest first)."""
    from autoresearch.journal import parse

    header, _ = parse((repo / "RESEARCH_JOURNAL.md").read_text())
    return header + "\n" + "\n".join(entries)


def worktree(repo: Path, slug: str) -> Path:
    git(repo, "worktree", "add", "-q", f"5_worktrees/{slug}", "-b", f"exp/{slug}", "main")
    return repo / "5_worktrees" / slug


def acknowledge(repo: Path, commit: str, why: str = "I read it: harmless") -> None:
    """What the researcher runs: `just journal "..." --journal human --observation "acknowledge: <commit> <why>"`."""
    assert (
        main(
            [
                "journal",
                "add",
                "--title",
                f"acknowledge {commit}",
                "--journal",
                "human",
                "--observation",
                f"acknowledge: {commit} {why}",
            ]
        )
        == 0
    )


def ack_advice(commit: str) -> str:
    return (
        f"a commit cannot be undone: if you, the researcher, accept it, acknowledge it with "
        f'`just journal "acknowledge {commit}" --journal human --observation "acknowledge: {commit} <why>"`'
    )


def subject(repo: Path, commit: str) -> str:
    return git(repo, "log", "-1", "--format=%s", commit).strip()


# ---------------------------------------------------------------------------------- working copies


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
    assert (
        code == 1
        and lines[0].startswith("src/autoresearch/evil.py: FROZEN")
        and "a new file that main does not have" in lines[0]
    )


def test_frozen_edits_in_worktrees_are_found_with_their_path(project: Path, capsys) -> None:
    wt = worktree(project, "rotary")
    (wt / "program.md").write_text("# mine now\n")
    code, lines = check(capsys)
    assert code == 1
    assert (
        lines[0].startswith("5_worktrees/rotary/program.md: FROZEN")
        and "git -C 5_worktrees/rotary checkout main -- program.md" in lines[0]
    )


def test_a_worktree_behind_a_meta_mode_change_is_advised_to_merge_main(project: Path, capsys) -> None:
    worktree(project, "rotary")
    (project / "eval.py").write_text((project / "eval.py").read_text() + "# new column\n")
    commit_all(project, "meta: eval change", meta=True)
    code, lines = check(capsys)
    assert code == 0
    assert any(
        line.startswith("warning: 5_worktrees/rotary/eval.py: main changed this FROZEN file")
        and "merge main into it (`git -C 5_worktrees/rotary merge main`)" in line
        for line in lines
    )


def test_an_edited_old_journal_entry_is_a_violation(project: Path, capsys) -> None:
    (project / "RESEARCH_JOURNAL.md").write_text(with_entries(project, ENTRY_B, ENTRY_A))
    commit_all(project)
    assert check(capsys)[0] == 0
    (project / "RESEARCH_JOURNAL.md").write_text(
        with_entries(project, ENTRY_B, ENTRY_A.replace("a\n", "a, or rather c\n"))
    )
    code, lines = check(capsys)
    assert (
        code == 1 and "RESEARCH_JOURNAL.md: APPEND-ONLY: entry '2025-01-01 10:00 UTC · first' was changed" in lines[0]
    )


def test_reordered_journal_entries_are_a_violation(project: Path, capsys) -> None:
    (project / "RESEARCH_JOURNAL.md").write_text(with_entries(project, ENTRY_B, ENTRY_A))
    commit_all(project)
    (project / "RESEARCH_JOURNAL.md").write_text(with_entries(project, ENTRY_A, ENTRY_B))
    code, lines = check(capsys)
    assert code == 1 and any("was moved out of order" in line for line in lines)


def test_global_files_in_a_branchs_own_commits_are_a_violation(project: Path, capsys) -> None:
    wt = worktree(project, "rotary")
    (wt / "RESEARCH_JOURNAL.md").write_text((wt / "RESEARCH_JOURNAL.md").read_text() + "\nforged\n")
    commit_all(wt, "sneak a journal line")
    code, lines = check(capsys)
    assert code == 1
    assert any(
        line.startswith("RESEARCH_JOURNAL.md: GLOBAL") and "changed by the commits of exp/rotary" in line
        for line in lines
    )


def test_global_files_changed_in_a_worktree_copy_are_a_violation(project: Path, capsys) -> None:
    wt = worktree(project, "rotary")
    (wt / "RESEARCH_JOURNAL.md").write_text((wt / "RESEARCH_JOURNAL.md").read_text() + "\nnote\n")
    code, lines = check(capsys)
    assert (
        code == 1
        and lines[0].startswith("5_worktrees/rotary/RESEARCH_JOURNAL.md: GLOBAL")
        and "changed in a worktree" in lines[0]
    )


@pytest.mark.parametrize(
    "damage, message",
    [
        (
            lambda line: line + "abc1234\t1.9\n",
            "results.tsv line 4: 2 fields, expected 32 (column memory_gb onwards is missing)",
        ),
        (lambda line: line + "\n", "results.tsv line 4: blank line; delete it"),
        (lambda line: line + line[:40], "results.tsv line 4: torn last line (no newline: a write was cut off)"),
    ],
    ids=["wrong-field-count", "blank-line", "torn-last-line"],
)
def test_a_results_file_that_does_not_parse_is_named_by_line_never_rewritten(
    project: Path, damage, message: str, capsys
) -> None:
    append_row(project)
    line = append_row(project, seed=1)
    path = project / "results.tsv"
    text = path.read_text()
    path.write_text(text[: -len(line)] + damage(line))
    before = path.read_bytes()
    code, lines = check(capsys)
    assert code == 1 and lines[0].startswith(message) and lines[0].endswith("(GLOBAL: written only by eval.py)"), lines
    assert path.read_bytes() == before


# ------------------------------------------------------------------------------ results.tsv history


def test_a_commit_that_drops_rows_is_named_as_the_first_that_broke_the_record(project: Path, capsys) -> None:
    for seed in range(3):
        append_row(project, seed=seed, status="crash" if seed == 1 else "ok")
    commit_all(project, "record")
    path = project / "results.tsv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:2] + lines[3:]))
    bad = commit_all(project, "tidy the record")
    append_row(project, seed=7)
    commit_all(project, "record again")
    code, out = check(capsys)
    assert code == 1
    assert out[0] == (
        f"results.tsv: commit {bad} ('tidy the record') removed or changed committed rows (line 3 of the version before it is not kept as it was); "
        + ack_advice(bad)
    )


def test_a_working_copy_that_drops_committed_rows_is_a_violation_with_the_restore(project: Path, capsys) -> None:
    append_row(project)
    append_row(project, seed=1)
    commit_all(project, "record")
    path = project / "results.tsv"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:2]))
    code, out = check(capsys)
    assert code == 1 and out[0] == (
        "results.tsv: the working copy removed the rows at the end (lines 3-3 of HEAD): it is append-only (GLOBAL: written only by eval.py); "
        "restore the committed rows with `git checkout results.tsv`, then `autoresearch check --restore-rows` puts back the rows made since "
        "from their run folders"
    )
    git(project, "checkout", "results.tsv")
    assert check(capsys) == (0, ["check: ok"])


def test_a_row_with_a_changed_value_fails_its_signature_and_the_fix_restores_the_genuine_rows(
    project: Path, capsys
) -> None:
    run = run_folder(project, "20250101-000000_base_s0", "")
    genuine = append_row(project, run=run)
    (project / run / "row.tsv").write_text(genuine)
    path = project / "results.tsv"
    path.write_text(path.read_text().replace("\t2.000000\t", "\t1.500000\t"))
    code, out = check(capsys)
    assert code == 1 and out[0] == (
        "results.tsv line 2: the signature does not match the row: eval.py did not write it as it stands (typed in by hand, appended by a shell "
        "command or by the training code); not committed yet: drop the uncommitted rows with `git checkout results.tsv`, then "
        "`autoresearch check --restore-rows` puts back the genuine ones from their run folders"
    )
    git(project, "checkout", "results.tsv")
    assert main(["check", "--restore-rows"]) == 0
    assert path.read_text().endswith(genuine) and check(capsys) == (0, ["check: ok"])


def test_a_committed_forged_row_names_its_commit_and_an_acknowledgement_settles_it(project: Path, capsys) -> None:
    append_row(project)
    with (project / "results.tsv").open("a") as f:
        f.write(format_line(row(project, val_bpb=0.9, seed=3)))
    bad = commit_all(project, "record")
    code, out = check(capsys)
    assert code == 1 and out[0] == (
        "results.tsv line 3: no signature: eval.py did not write it (typed in by hand, appended by a shell command or by the training code); "
        f"committed by commit {bad} ('record'); " + ack_advice(bad)
    )
    acknowledge(project, bad, "a row I typed in myself, by hand, for a slide")
    code, out = check(capsys)
    assert (
        code == 0
        and out[0].startswith("note: acknowledged in human_journal.md (")
        and out[0].endswith(
            f"a row I typed in myself, by hand, for a slide): results.tsv line 3: no signature: eval.py did not write it (typed in by hand, "
            f"appended by a shell command or by the training code); committed by commit {bad} ('record')"
        )
    )


def test_a_row_signed_on_another_machine_is_a_warning(project: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("AUTORESEARCH_KEYS", str(tmp_path / "other-machine"))
    append_row(project)
    monkeypatch.setenv("AUTORESEARCH_KEYS", str(tmp_path / "keys"))
    code, out = check(capsys)
    assert code == 0 and out[0] == (
        f"warning: results.tsv: line 2 is signed with a key this machine does not have: made on another machine (copy its key file "
        f"into {tmp_path / 'keys'} to verify them), or forged with an invented key id (if every eval ran on this machine, they are forged)"
    )


def test_a_row_whose_commit_exists_nowhere_is_a_violation(project: Path, capsys) -> None:
    append_row(project, commit="1234567-dirty")
    code, out = check(capsys)
    assert code == 1 and out[0].startswith(
        "results.tsv line 2: its commit 1234567 exists nowhere in this repository: the row was not made here, or its commit was lost"
    )


def test_a_run_folder_whose_row_is_missing_is_restored_by_the_command_check_gives(project: Path, capsys) -> None:
    first = append_row(project, run="7_runs/a")
    line = row(project, seed=2, run="7_runs/b")
    from autoresearch import results
    from autoresearch.signing import sign

    text = results.format_cells(line, "val_bpb")
    run_folder(project, "a", first)
    run_folder(project, "b", f"{text}\t{sign(Project.find(project), text)}\n")
    run_folder(project, "smoke", "")
    (project / "7_runs" / "smoke" / "row.tsv").unlink()
    code, out = check(capsys)
    assert (
        code == 1
        and out[0]
        == "results.tsv: 1 run folder (7_runs/b) holds a row that results.tsv lacks: put the rows back with `autoresearch check --restore-rows`"
    )
    capsys.readouterr()
    assert main(["check", "--restore-rows"]) == 0 and capsys.readouterr().out == "7_runs/b: row restored\n"
    assert check(capsys) == (0, ["check: ok"])


def test_a_forged_run_folder_row_is_not_restored(project: Path, capsys) -> None:
    append_row(project)
    run_folder(project, "x", format_line(row(project, run="7_runs/x"), sig="0" * 8 + ":" + "0" * 32))
    capsys.readouterr()
    assert main(["check", "--restore-rows"]) == 0
    assert (
        capsys.readouterr().out
        == "7_runs/x/row.tsv: not restored: its line is not one row signed by eval.py on this machine (unknown-key)\n"
    )


def test_rows_from_a_modified_harness_are_a_warning(project: Path, capsys) -> None:
    append_row(project)
    append_row(project, eval_hash="deadbeef0000")
    append_row(project, eval_hash="deadbeef0000")
    code, lines = check(capsys)
    assert code == 0 and lines[-1] == "check: ok (1 warning)"
    assert lines[0] == (
        "warning: results.tsv: 2 rows (lines 3, 4) have eval_hash deadbeef0000, which matches no authorised version of the FROZEN files "
        "on main (one committed in META_MODE, or older than audit_since): made by a modified harness, so do not trust them; "
        "rerun those commits from a clean checkout"
    )


def test_rows_made_before_a_meta_mode_change_still_match_their_commit(project: Path, capsys) -> None:
    append_row(project)
    (project / "eval.py").write_text((project / "eval.py").read_text() + "# new column\n")
    commit_all(project, "meta: eval change", meta=True)
    append_row(project)
    rows = (project / "results.tsv").read_text().splitlines()
    assert rows[1].split("\t")[-4] != rows[2].split("\t")[-4]
    assert check(capsys) == (0, ["check: ok"])


def test_a_changed_validation_split_is_a_warning(project: Path, capsys) -> None:
    for v in ("aaaa", "aaaa", "bbbb"):
        append_row(project, val_hash=v)
    code, lines = check(capsys)
    assert code == 0 and "profile cpu has 2 validation splits (aaaa from line 2, bbbb from line 4)" in lines[0]


def test_verified_pairs_are_cached_signed_and_an_edited_cache_is_ignored(project: Path, capsys) -> None:
    for n in range(3):
        append_row(project, seed=n)
        commit_all(project, f"record {n}")
    assert check(capsys) == (0, ["check: ok"])
    cache = audit.Cache.path(Project.find(project))
    facts = cache.read_text().splitlines()
    assert (
        facts[0] == audit.Cache.HEADER
        and facts[-1].startswith("sig ")
        and sum(f.startswith("results ") for f in facts) == 3
    )
    cache.write_text("\n".join([*facts[:-2], "trailer 0123 ok", facts[-1]]) + "\n")
    code, lines = check(capsys)
    assert code == 0 and lines[0] == f"warning: {cache} was not written by check (edited?): ignored and rebuilt"


# ----------------------------------------------------------------------------------- FROZEN history


def test_a_meta_mode_commit_carries_a_signed_trailer_and_passes(project: Path, capsys) -> None:
    (project / "eval.py").write_text((project / "eval.py").read_text() + "# asked for by the researcher\n")
    commit_all(project, "meta: eval change", meta=True)
    message = git(project, "log", "-1", "--format=%B")
    assert [line.split()[0] for line in message.splitlines() if line.startswith("Meta-Mode:")] == ["Meta-Mode:"]
    assert "the environment has META_MODE=1" in message
    assert check(capsys) == (0, ["check: ok"])


def test_a_meta_mode_commit_in_a_worktree_is_signed_too(project: Path) -> None:
    wt = worktree(project, "tooling")
    (wt / "eval.py").write_text((wt / "eval.py").read_text() + "# asked for\n")
    commit_all(wt, "meta in a worktree", meta=True)
    message, tree = git(wt, "log", "-1", "--format=%B"), git(wt, "log", "-1", "--format=%T").strip()
    assert audit.trailer_verdict(message, tree) == "ok"


def test_an_amended_meta_mode_commit_keeps_a_valid_trailer(project: Path, capsys) -> None:
    (project / "eval.py").write_text((project / "eval.py").read_text() + "# one\n")
    commit_all(project, "meta: eval change", meta=True)
    (project / "eval.py").write_text((project / "eval.py").read_text() + "# two\n")
    git(project, "commit", "-q", "--no-verify", "--amend", "-am", "meta: eval change, amended", env=env(meta=True))
    assert git(project, "log", "-1", "--format=%B").count("Meta-Mode:") == 1
    assert check(capsys) == (0, ["check: ok"])


def test_a_frozen_commit_without_meta_mode_is_named_and_main_is_not_advised(project: Path, capsys) -> None:
    worktree(project, "rotary")
    (project / "eval.py").write_text((project / "eval.py").read_text() + "# easier\n")
    bad = commit_all(project, "tweak eval")
    append_row(project)
    code, out = check(capsys)
    assert code == 1
    assert (
        "warning: 5_worktrees/rotary/eval.py: main changed this FROZEN file since exp/rotary branched off; runs there use the old harness: "
        "but main has FROZEN changes made without META_MODE (above): do not merge it until the researcher has settled them"
    ) in out
    assert (
        f"commit {bad} ('tweak eval'): changed FROZEN files (eval.py) and has no Meta-Mode trailer (the prepare-commit-msg hook writes one when META_MODE is on): made without META_MODE, or with the hooks skipped; rows made with it are not trusted; {ack_advice(bad)}"
        in out
    )
    assert any(line.startswith("warning: results.tsv: line 2 has eval_hash") for line in out)
    assert not any("merge main into it" in line for line in out)


def test_a_merge_whose_frozen_files_differ_from_every_parent_needs_a_trailer(project: Path, capsys) -> None:
    git(project, "checkout", "-q", "-b", "side")
    (project / "train.py").write_text((project / "train.py").read_text() + "# side\n")
    commit_all(project, "side work")
    git(project, "checkout", "-q", "main")
    (project / "model.py").write_text((project / "model.py").read_text() + "# main\n")
    commit_all(project, "main work")
    git(project, "merge", "-q", "--no-ff", "--no-commit", "side")
    (project / "program.md").write_text((project / "program.md").read_text() + "\nslipped into the merge\n")
    git(project, "add", "program.md")
    git(project, "commit", "-q", "--no-verify", "-m", "merge side", env=env())
    bad = git(project, "rev-parse", "--short=8", "HEAD").strip()
    code, out = check(capsys)
    assert code == 1 and out[0].startswith(
        f"commit {bad} ('merge side'): a merge whose FROZEN files differ from every parent (program.md) and has no Meta-Mode trailer"
    )


def test_an_ordinary_merge_after_a_meta_change_needs_no_trailer(project: Path, capsys) -> None:
    git(project, "checkout", "-q", "-b", "exp/rotary")
    (project / "train.py").write_text((project / "train.py").read_text() + "# idea\n")
    commit_all(project, "idea")
    git(project, "checkout", "-q", "main")
    (project / "eval.py").write_text((project / "eval.py").read_text() + "# meta\n")
    commit_all(project, "meta", meta=True)
    git(project, "merge", "-q", "--no-ff", "-m", "keep rotary", "exp/rotary", env=env())
    assert check(capsys) == (0, ["check: ok"])


def test_audit_since_exempts_older_history_and_a_foreign_one_exempts_nothing(project: Path, capsys) -> None:
    (project / "eval.py").write_text((project / "eval.py").read_text() + "# old, before trailers\n")
    old = commit_all(project, "old toolkit work")
    assert check(capsys)[0] == 1
    pyproject = project / "pyproject.toml"
    text = "\n".join(line for line in pyproject.read_text().splitlines() if not line.startswith("audit_since"))
    pyproject.write_text(text.replace('main_branch = "main"', f'main_branch = "main"\naudit_since = "{old}"') + "\n")
    commit_all(project, "audit from here on", meta=True)
    assert check(capsys) == (0, ["check: ok"])
    pyproject.write_text(pyproject.read_text().replace(old, "0123456789ab"))
    commit_all(project, "as copied from another repository", meta=True)
    code, out = check(capsys)
    assert code == 1 and out[0].startswith(
        f"commit {old} ('old toolkit work'): changed FROZEN files (eval.py) and has no Meta-Mode trailer"
    )


# ------------------------------------------------------------------------- journals and repairs


def test_a_journal_edit_in_history_is_repaired_by_the_prescribed_fix_through_the_hook(project: Path, capsys) -> None:
    from autoresearch.guard import agent_problem
    from autoresearch.journal import parse

    journal = project / "RESEARCH_JOURNAL.md"
    journal.write_text(with_entries(project, ENTRY_A))
    commit_all(project, "journal")
    journal.write_text(with_entries(project, ENTRY_A.replace("**Observation:** a", "**Observation:** z")))
    bad = commit_all(project, "rewrite")
    journal.write_text(with_entries(project, ENTRY_B, ENTRY_A.replace("**Observation:** a", "**Observation:** z")))
    commit_all(project, "a later entry")
    code, out = check(capsys)
    assert code == 1 and out[0] == (
        f"RESEARCH_JOURNAL.md: entry '2025-01-01 10:00 UTC · first' was changed by commit {bad} ('rewrite') on main (APPEND-ONLY; the commit "
        "skipped the hook); put it back with `autoresearch check --repair RESEARCH_JOURNAL.md` and commit that; or, to keep it as it is: "
        + ack_advice(bad)
    )
    fix, commit = (
        "autoresearch check --repair RESEARCH_JOURNAL.md",
        'git commit -m "repair RESEARCH_JOURNAL.md" RESEARCH_JOURNAL.md',
    )
    for command in (fix, commit):
        assert agent_problem({"tool_name": "Bash", "tool_input": {"command": command}, "cwd": str(project)}) is None
    assert main(["check", "--repair", "RESEARCH_JOURNAL.md"]) == 0
    assert parse(journal.read_text())[1] == parse(with_entries(project, ENTRY_B, ENTRY_A))[1]
    done = subprocess.run(
        ["git", "commit", "-q", "-m", "repair RESEARCH_JOURNAL.md", "RESEARCH_JOURNAL.md"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    fixed = git(project, "rev-parse", "--short=8", "HEAD").strip()
    assert check(capsys) == (
        0,
        [
            f"note: RESEARCH_JOURNAL.md: entry '2025-01-01 10:00 UTC · first' was changed by commit {bad[:8]} and put back by commit {fixed}",
            "check: ok",
        ],
    )


def test_the_hook_still_refuses_an_edit_dressed_as_a_repair(project: Path) -> None:
    journal = project / "RESEARCH_JOURNAL.md"
    journal.write_text(with_entries(project, ENTRY_A))
    commit_all(project, "journal")
    journal.write_text(with_entries(project, ENTRY_A.replace("**Observation:** a", "**Observation:** z")))
    commit_all(project, "rewrite")
    journal.write_text(with_entries(project, ENTRY_A.replace("**Observation:** a", "**Observation:** y")))
    done = subprocess.run(
        ["git", "commit", "-q", "-m", "repair", "RESEARCH_JOURNAL.md"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and "entry '2025-01-01 10:00 UTC · first' was changed" in done.stderr


def test_repair_refuses_when_there_is_nothing_to_put_back(project: Path, capsys) -> None:
    assert main(["check", "--repair", "RESEARCH_JOURNAL.md"]) == 1
    assert (
        "RESEARCH_JOURNAL.md: main's history has no edited entry to put back; nothing to repair"
        in capsys.readouterr().err
    )


def test_an_acknowledgement_of_an_unknown_commit_is_a_warning(project: Path, capsys) -> None:
    acknowledge(project, "abcdef0123")
    code, out = check(capsys)
    assert (
        code == 0
        and out[0].startswith("warning: human_journal.md entry '")
        and out[0].endswith("acknowledge: abcdef0123 names no commit of this repository")
    )


def test_every_fix_check_prescribes_passes_the_agent_hook_but_the_acknowledgement(project: Path, capsys) -> None:
    """The toolkit never prescribes a fix its own hooks refuse; acknowledging is the researcher's, so the agent is refused."""
    import re

    from autoresearch.guard import agent_problem

    append_row(project)
    commit_all(project, "record")
    journal = project / "RESEARCH_JOURNAL.md"
    journal.write_text(with_entries(project, ENTRY_A))
    commit_all(project, "journal")
    journal.write_text(with_entries(project, ENTRY_A.replace("**Observation:** a", "**Observation:** z")))
    (project / "eval.py").write_text((project / "eval.py").read_text() + "# easier\n")
    commit_all(project, "rewrite and tweak")
    (project / "program.md").write_text("# mine now\n")
    path = project / "results.tsv"
    path.write_text(path.read_text().replace("\t2.000000\t", "\t1.000000\t") + format_line(row(project)))
    run_folder(project, "lost", append_row(project, run="7_runs/lost"))
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))
    wt = worktree(project, "rotary")
    (wt / "RESEARCH_JOURNAL.md").write_text((wt / "RESEARCH_JOURNAL.md").read_text() + "\nnote\n")
    code, out = check(capsys)
    commands = sorted({c for line in out for c in re.findall(r"`([^`]+)`", line)})
    assert code == 1 and len(commands) >= 7, out
    for command in commands:
        problem = agent_problem({"tool_name": "Bash", "tool_input": {"command": command}, "cwd": str(project)})
        if "--journal human" in command:
            assert problem is not None and "human_journal.md" in problem, command
        else:
            assert problem is None, (command, problem)


# ----------------------------------------------------------------------------------------- the rest


@pytest.mark.parametrize("rel", ["program.md", "0_docs/problem.md"])
def test_fill_in_placeholders_are_a_warning(project: Path, rel: str, capsys) -> None:
    path = project / rel
    path.write_text(path.read_text() + "\nProject: {FILL_IN: one sentence}\n")
    commit_all(project, "template with a gap", meta=True)
    code, lines = check(capsys)
    assert code == 0 and lines[0].startswith(f"warning: {rel}: {{FILL_IN...}} placeholder left on line")


def test_missing_guard_hooks_are_a_warning(project: Path, capsys) -> None:
    (project / ".git" / "hooks" / "prepare-commit-msg").unlink()
    code, lines = check(capsys)
    assert (
        code == 0
        and lines[0].startswith("warning: the git prepare-commit-msg guard hook is missing")
        and "autoresearch hooks install" in lines[0]
    )
    git(project, "config", "core.hooksPath", "/dev/null")
    assert "core.hooksPath is set to /dev/null" in check(capsys)[1][0]


def test_check_is_fast_enough_to_run_often(project: Path, capsys) -> None:
    for i in range(3):
        worktree(project, f"idea-{i}")
    line = append_row(project)
    path = project / "results.tsv"
    path.write_text(path.read_text() + line * 2000)
    t = time.perf_counter()
    check(capsys)
    assert time.perf_counter() - t < 5


def test_the_eval_hash_of_main_is_its_fingerprint(project: Path) -> None:
    project_ = Project.find(project)
    config = Config.committed(project_)
    hist = audit.History.load(project_, config)
    cache = audit.Cache(project_, set())
    assert audit.eval_hashes(hist, config, [hist.main], cache) == {fingerprints.frozen_hash(project, config)}
