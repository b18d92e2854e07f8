"""Red team: one test per way an agent might game the research record; each is refused or flagged, saying what to do.

This file is the catalogue. Attacks on the record and the file rules are here; attacks from inside
the training process (the metric, the budget, the clock, the row, the toolkit, the data) are in
tests/test_redteam_boundary.py; the shell spellings of switching a guard off are in
tests/test_shellguard.py (a table of over 200).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from autoresearch import hooks
from autoresearch.cli import main

SRC = Path(__file__).resolve().parents[1] / "src"
ENTRY_A = "## 2025-01-01 10:00 UTC · first\n\n**Observation:** a\n"
ENTRY_B = "## 2025-01-02 10:00 UTC · second\n\n**Observation:** b\n"


def git(repo: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env)


def hook_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "META_MODE"}
    return env | {"PYTHONPATH": str(SRC)} | extra


def commit(repo: Path, *paths: str, env: dict | None = None) -> subprocess.CompletedProcess:
    assert git(repo, "add", "--", *paths).returncode == 0
    return git(repo, "commit", "-q", "-m", "attempt", env=env or hook_env())


def with_entries(repo: Path, *entries: str) -> str:
    from autoresearch.journal import parse

    header, _ = parse((repo / "RESEARCH_JOURNAL.md").read_text())
    return header + "\n" + "\n".join(entries)


@pytest.fixture
def hooked(project: Path) -> Path:
    assert hooks.install(project) == 0
    return project


def check_lines(capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["check"])
    return code, capsys.readouterr().out


def test_editing_eval_and_committing_is_refused(hooked: Path, capsys) -> None:
    (hooked / "eval.py").write_text((hooked / "eval.py").read_text().replace("DATA_SEED = 1337", "DATA_SEED = 7"))
    out = commit(hooked, "eval.py")
    assert out.returncode == 1
    assert (
        "eval.py is FROZEN (program.md, 'Which files you may touch') and META_MODE is off: undo the change with `git checkout main -- eval.py`"
        in out.stderr
    )
    code, text = check_lines(capsys)
    assert code == 1 and text.startswith("eval.py: FROZEN")


def test_editing_an_old_journal_entry_is_refused_and_flagged(hooked: Path, capsys) -> None:
    journal = hooked / "RESEARCH_JOURNAL.md"
    journal.write_text(with_entries(hooked, ENTRY_B, ENTRY_A))
    assert commit(hooked, "RESEARCH_JOURNAL.md").returncode == 0
    journal.write_text(
        with_entries(hooked, ENTRY_B, ENTRY_A.replace("**Observation:** a", "**Observation:** a, as predicted"))
    )
    code, text = check_lines(capsys)
    assert code == 1 and "RESEARCH_JOURNAL.md: APPEND-ONLY: entry '2025-01-01 10:00 UTC · first' was changed" in text
    out = commit(hooked, "RESEARCH_JOURNAL.md")
    assert out.returncode == 1
    assert (
        "RESEARCH_JOURNAL.md: entry '2025-01-01 10:00 UTC · first' was changed; restore it with `git checkout RESEARCH_JOURNAL.md`, "
        "then add a new entry instead (`just journal ...`)"
    ) in out.stderr


def test_reordering_journal_entries_is_refused(hooked: Path, capsys) -> None:
    journal = hooked / "RESEARCH_JOURNAL.md"
    journal.write_text(with_entries(hooked, ENTRY_B, ENTRY_A))
    assert commit(hooked, "RESEARCH_JOURNAL.md").returncode == 0
    journal.write_text(with_entries(hooked, ENTRY_A, ENTRY_B))
    out = commit(hooked, "RESEARCH_JOURNAL.md")
    assert (
        out.returncode == 1
        and "was moved out of order; restore it with `git checkout RESEARCH_JOURNAL.md`" in out.stderr
    )
    assert check_lines(capsys)[0] == 1


def test_committing_results_from_a_worktree_is_refused(hooked: Path) -> None:
    from records import format_line, row

    assert git(hooked, "worktree", "add", "-q", "5_worktrees/rotary", "-b", "exp/rotary").returncode == 0
    wt = hooked / "5_worktrees" / "rotary"
    with (wt / "results.tsv").open("a") as f:
        f.write(format_line(row(hooked, val_bpb=0.5, description="a great result")))
    out = commit(wt, "results.tsv")
    assert out.returncode == 1
    assert (
        "results.tsv is GLOBAL (program.md, 'Which files you may touch'): it is committed only from the main checkout, not from worktree 5_worktrees/rotary"
        in out.stderr
    )
    assert "drop it here with `git checkout HEAD -- results.tsv`" in out.stderr


def test_a_claude_code_edit_of_program_md_is_blocked(project: Path) -> None:
    data = {
        "session_id": "abc123",
        "transcript_path": "/tmp/t.jsonl",
        "cwd": str(project),
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": "Edit",
        "tool_use_id": "toolu_01",
        "tool_input": {
            "file_path": str(project / "program.md"),
            "old_string": "Never touch",
            "new_string": "Feel free to touch",
        },
    }
    out = subprocess.run(
        [sys.executable, "-m", "autoresearch", "guard", "agent"],
        input=json.dumps(data),
        capture_output=True,
        text=True,
        cwd=project,
        env=hook_env(),
    )
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == (
        "autoresearch guard: program.md is FROZEN (program.md, 'Which files you may touch') and META_MODE is off: leave it as it is "
        "and change train.py or model.py instead; only the researcher may allow it, with META_MODE=1 in human_journal.md\n"
    )


def test_loosening_the_taxonomy_in_pyproject_does_not_loosen_the_guards(hooked: Path, capsys) -> None:
    pyproject = hooked / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"eval.py", ', "").replace('"pyproject.toml", ', ""))
    (hooked / "eval.py").write_text((hooked / "eval.py").read_text() + "# easier\n")
    out = commit(hooked, "pyproject.toml", "eval.py")
    assert out.returncode == 1 and "pyproject.toml is FROZEN" in out.stderr and "eval.py is FROZEN" in out.stderr
    from autoresearch.guard import agent_problem

    assert "eval.py is FROZEN" in agent_problem(
        {"tool_name": "Edit", "tool_input": {"file_path": "eval.py"}, "cwd": str(hooked)}
    )
    code, text = check_lines(capsys)
    assert code == 1 and "eval.py: FROZEN" in text and "pyproject.toml: FROZEN" in text


# Gaming the record -------------------------------------------------------------------------
#
# attack                                              caught by                                 when
# sed -i deletes crash rows, committed on main        check: results.tsv history (prefix)       next check
# a row typed in by hand (no or a made-up signature)  check: row signature                      next check
# a row appended with `echo >>`                       check: row signature                      next check
# a row copied from another project on this machine   check: the row's commit exists nowhere    next check
# eval.py committed with --no-verify                  check: FROZEN history (no trailer)        next check; rows made with it
#                                                                                               warned, main not advised to worktrees
# a FROZEN change reached by a fast-forward merge     check: FROZEN history (every commit)      next check
# a hand-typed Meta-Mode trailer                      check: trailer signature                  next check
# the researcher acknowledges a past violation        check: a note, green again                next check
# the journal repair check prescribes                 the pre-commit hook accepts it            at commit; check green after
# Before this audit, every attack above left `check` green (issue 12).

SED_CRASH_ROWS = r"sed -i '/\tcrash\t/d' results.tsv"


@pytest.fixture
def keyed(hooked: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A hooked project whose signing key lives in the test's own folder (the hook processes inherit it)."""
    monkeypatch.setenv("AUTORESEARCH_KEYS", str(tmp_path / "keys"))
    return hooked


def sh(repo: Path, command: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", command], cwd=repo, capture_output=True, text=True, env=env or hook_env(), check=False
    )


def short_head(repo: Path) -> str:
    return git(repo, "rev-parse", "--short=8", "HEAD").stdout.strip()


def acknowledge_advice(commit: str) -> str:
    return (
        f"a commit cannot be undone: if you, the researcher, accept it, acknowledge it with "
        f'`just journal "acknowledge {commit}" --journal human --observation "acknowledge: {commit} <why>"`'
    )


def test_a_frozen_commit_in_meta_mode_is_allowed_and_signed(keyed: Path, capsys) -> None:
    (keyed / "eval.py").write_text((keyed / "eval.py").read_text() + "# a new metric column, asked for by the human\n")
    out = commit(keyed, "eval.py", env=hook_env(META_MODE="1"))
    assert out.returncode == 0, out.stderr
    assert "\nMeta-Mode: " in git(keyed, "log", "-1", "--format=%B").stdout
    assert check_lines(capsys) == (0, "check: ok\n")


def test_deleting_crash_rows_with_sed_and_committing_on_main_is_named_by_check(keyed: Path, capsys) -> None:
    from records import append_row

    for seed, status in enumerate(("ok", "crash", "ok", "crash")):
        append_row(keyed, seed=seed, status=status)
    assert commit(keyed, "results.tsv").returncode == 0
    assert sh(keyed, SED_CRASH_ROWS).returncode == 0 and "crash" not in (keyed / "results.tsv").read_text()
    out = commit(keyed, "results.tsv")
    assert out.returncode == 0, out.stderr  # the pre-commit hook does not read rows: the audit does
    bad = short_head(keyed)
    code, text = check_lines(capsys)
    assert code == 1 and text.splitlines()[0] == (
        f"results.tsv: commit {bad} ('attempt') removed or changed committed rows (line 3 of the version before it is not kept as it was); "
        + acknowledge_advice(bad)
    )


def test_a_hand_typed_row_is_flagged(keyed: Path, capsys) -> None:
    from records import append_row, format_line, row

    append_row(keyed)
    with (keyed / "results.tsv").open("a") as f:
        f.write(format_line(row(keyed, val_bpb=0.5, description="a great result"), sig="looks-signed"))
    code, text = check_lines(capsys)
    assert code == 1 and text.splitlines()[0] == (
        "results.tsv line 3: the signature does not match the row: eval.py did not write it as it stands (typed in by hand, appended by a "
        "shell command or by the training code); not committed yet: drop the uncommitted rows with `git checkout results.tsv`, then "
        "`autoresearch check --restore-rows` puts back the genuine ones from their run folders"
    )


def test_a_typed_row_with_an_invented_key_id_is_only_a_warning(keyed: Path, capsys) -> None:
    """Not covered: a signature with a key id this machine lacks cannot be told from a row made on another machine."""
    from records import format_line, row

    with (keyed / "results.tsv").open("a") as f:
        f.write(format_line(row(keyed, val_bpb=0.5), sig="1a2b3c4d:" + "0" * 32))
    code, text = check_lines(capsys)
    assert (
        code == 0
        and "results.tsv: line 2 is signed with a key this machine does not have" in text
        and "or forged with an invented key id" in text
    )


def test_a_row_appended_by_echo_is_flagged(keyed: Path, capsys) -> None:
    from records import append_row

    genuine = append_row(keyed, val_bpb=2.5)
    forged = genuine.replace("\t2.500000\t", "\t1.100000\t").rstrip("\n")
    assert sh(keyed, f"echo {shlex.quote(forged)} >> results.tsv").returncode == 0
    code, text = check_lines(capsys)
    assert code == 1 and text.splitlines()[0].startswith(
        "results.tsv line 3: the signature does not match the row: eval.py did not write it as it stands (typed in by hand, appended by a shell command"
    )


def test_a_row_copied_from_another_project_on_this_machine_is_flagged_by_its_commit(
    keyed: Path, tmp_path: Path, capsys
) -> None:
    from conftest import make_project
    from records import append_row

    other = make_project(tmp_path / "other")
    (other / "train.py").write_text("# another project's history\n")
    git(other, "commit", "-qam", "their work")
    line = append_row(other, description="their best run")  # signed: this machine holds both projects' keys
    with (keyed / "results.tsv").open("a") as f:
        f.write(line)
    code, text = check_lines(capsys)
    theirs = git(other, "rev-parse", "--short", "HEAD").stdout.strip()
    assert code == 1 and text.splitlines()[0].startswith(
        f"results.tsv line 2: its commit {theirs} exists nowhere in this repository: the row was not made here"
    )


def test_eval_committed_with_no_verify_is_named_and_main_is_not_advised(keyed: Path, capsys) -> None:
    from records import append_row

    assert git(keyed, "worktree", "add", "-q", "5_worktrees/rotary", "-b", "exp/rotary").returncode == 0
    (keyed / "eval.py").write_text((keyed / "eval.py").read_text() + "# easier\n")
    assert git(keyed, "add", "eval.py").returncode == 0
    assert git(keyed, "commit", "-q", "--no-verify", "-m", "tweak eval", env=hook_env()).returncode == 0
    bad = short_head(keyed)
    append_row(keyed)
    code, text = check_lines(capsys)
    lines = text.splitlines()
    assert (
        code == 1
        and (
            f"commit {bad} ('tweak eval'): changed FROZEN files (eval.py) and has no Meta-Mode trailer (the prepare-commit-msg hook writes one "
            f"when META_MODE is on): made without META_MODE, or with the hooks skipped; rows made with it are not trusted; {acknowledge_advice(bad)}"
        )
        in lines
    )
    assert any(
        line.startswith("warning: results.tsv: line 2 has eval_hash") and "matches no authorised version" in line
        for line in lines
    )
    assert any("do not merge it until the researcher has settled them" in line for line in lines)
    assert not any("merge main into it" in line for line in lines)


def test_a_frozen_change_reached_by_a_fast_forward_merge_is_named(keyed: Path, capsys) -> None:
    assert git(keyed, "worktree", "add", "-q", "5_worktrees/rotary", "-b", "exp/rotary").returncode == 0
    wt = keyed / "5_worktrees" / "rotary"
    (wt / "eval.py").write_text((wt / "eval.py").read_text() + "# easier\n")
    assert git(wt, "add", "eval.py").returncode == 0
    assert git(wt, "commit", "-q", "--no-verify", "-m", "tweak eval on the branch", env=hook_env()).returncode == 0
    bad = short_head(wt)
    assert (
        git(keyed, "merge", "-q", "--ff-only", "exp/rotary", env=hook_env()).returncode == 0
    )  # no commit made, so no hook ran
    code, text = check_lines(capsys)
    assert (
        code == 1
        and (f"commit {bad} ('tweak eval on the branch'): changed FROZEN files (eval.py) and has no Meta-Mode trailer")
        in text
    )


def test_a_hand_typed_meta_mode_trailer_is_flagged(keyed: Path, capsys) -> None:
    (keyed / "eval.py").write_text((keyed / "eval.py").read_text() + "# easier\n")
    assert git(keyed, "add", "eval.py").returncode == 0
    message = ["-m", "tweak eval", "-m", "Meta-Mode: on (the environment has META_MODE=1)"]
    assert git(keyed, "commit", "-q", "--no-verify", *message, env=hook_env()).returncode == 0
    bad = short_head(keyed)
    assert "Meta-Mode: on" in git(keyed, "log", "-1", "--format=%B").stdout
    code, text = check_lines(capsys)
    assert (
        code == 1
        and (
            f"commit {bad} ('tweak eval'): changed FROZEN files (eval.py) and its Meta-Mode trailer was not written by the hook "
            "(typed by hand or copied from another commit); rows made with it are not trusted"
        )
        in text
    )


def test_a_trailer_copied_from_a_real_meta_mode_commit_is_flagged(keyed: Path, capsys) -> None:
    (keyed / "eval.py").write_text((keyed / "eval.py").read_text() + "# asked for\n")
    assert commit(keyed, "eval.py", env=hook_env(META_MODE="1")).returncode == 0
    real = [
        line for line in git(keyed, "log", "-1", "--format=%B").stdout.splitlines() if line.startswith("Meta-Mode:")
    ]
    assert len(real) == 1
    (keyed / "eval.py").write_text((keyed / "eval.py").read_text() + "# easier\n")
    assert git(keyed, "add", "eval.py").returncode == 0
    assert git(keyed, "commit", "-q", "--no-verify", "-m", "tweak eval", "-m", real[0], env=hook_env()).returncode == 0
    code, text = check_lines(capsys)
    assert (
        code == 1
        and "its Meta-Mode trailer was not written by the hook (typed by hand or copied from another commit)" in text
    )


def test_only_the_researcher_acknowledges_and_then_check_is_green(keyed: Path, capsys) -> None:
    from autoresearch.guard import agent_problem

    (keyed / "eval.py").write_text((keyed / "eval.py").read_text() + "# a comment, reviewed\n")
    assert git(keyed, "add", "eval.py").returncode == 0
    assert git(keyed, "commit", "-q", "--no-verify", "-m", "tweak eval", env=hook_env()).returncode == 0
    bad = short_head(keyed)
    assert check_lines(capsys)[0] == 1
    prescribed = f'just journal "acknowledge {bad}" --journal human --observation "acknowledge: {bad} only a comment"'
    assert "human_journal.md is the researcher's journal" in agent_problem(
        {"tool_name": "Bash", "tool_input": {"command": prescribed}, "cwd": str(keyed)}
    )
    assert (
        main(
            [
                "journal",
                "add",
                "--title",
                f"acknowledge {bad}",
                "--journal",
                "human",
                "--observation",
                f"acknowledge: {bad} only a comment",
            ]
        )
        == 0
    )
    code, text = check_lines(capsys)
    assert code == 0 and text.splitlines()[0].startswith("note: acknowledged in human_journal.md (")
    assert f"only a comment): commit {bad} ('tweak eval'): changed FROZEN files (eval.py)" in text


def test_the_journal_repair_check_prescribes_passes_the_hooks_and_check_is_green_after(keyed: Path, capsys) -> None:
    from autoresearch.guard import agent_problem

    journal = keyed / "RESEARCH_JOURNAL.md"
    journal.write_text(with_entries(keyed, ENTRY_A))
    assert commit(keyed, "RESEARCH_JOURNAL.md").returncode == 0
    journal.write_text(with_entries(keyed, ENTRY_A.replace("**Observation:** a", "**Observation:** a, as predicted")))
    assert git(keyed, "commit", "-q", "--no-verify", "-am", "rewrite", env=hook_env()).returncode == 0
    code, text = check_lines(capsys)
    fix = "autoresearch check --repair RESEARCH_JOURNAL.md"
    assert code == 1 and f"put it back with `{fix}` and commit that" in text
    assert agent_problem({"tool_name": "Bash", "tool_input": {"command": fix}, "cwd": str(keyed)}) is None
    assert main(["check", "--repair", "RESEARCH_JOURNAL.md"]) == 0
    out = commit(keyed, "RESEARCH_JOURNAL.md")
    assert out.returncode == 0, out.stderr  # refused before: "entry ... was changed"
    code, text = check_lines(capsys)
    assert (
        code == 0
        and text.endswith("check: ok\n")
        and "was changed by commit" in text
        and "and put back by commit" in text
    )
