"""guard.py: the git pre-commit guard (through real hooks and real commits) and the Claude Code hook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autoresearch import guard, hooks
from autoresearch.paths import Project

SRC = Path(__file__).resolve().parents[1] / "src"
OLD_ENTRY = "## 2025-01-01 10:00 UTC · first\n\n**Observation:** a\n"


def git(repo: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env)


def hook_env(**extra: str) -> dict:
    """The environment a commit runs in: the package importable by the hook's python, META_MODE off."""
    env = {k: v for k, v in os.environ.items() if k != "META_MODE"}
    return env | {"PYTHONPATH": str(SRC)} | extra


@pytest.fixture
def hooked(project: Path) -> Path:
    assert hooks.install(project) == 0
    return project


def worktree(repo: Path, slug: str) -> Path:
    assert git(repo, "worktree", "add", "-q", f"5_worktrees/{slug}", "-b", f"exp/{slug}", "main").returncode == 0
    return repo / "5_worktrees" / slug


def commit(repo: Path, *paths: str, env: dict | None = None, message: str = "change") -> subprocess.CompletedProcess:
    assert git(repo, "add", "--", *paths).returncode == 0
    return git(repo, "commit", "-q", "-m", message, env=env or hook_env())


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def add_entry_on_top(path: Path, entry: str) -> None:
    from autoresearch.journal import parse

    text = path.read_text()
    header, _ = parse(text)
    path.write_text(header + ("" if header.endswith("\n\n") else "\n") + entry + "\n" + text[len(header) :])


def test_hooks_go_into_the_common_git_dir_so_worktrees_share_them(hooked: Path) -> None:
    wt = worktree(hooked, "rotary")
    for name in hooks.HOOKS:
        path = hooked / ".git" / "hooks" / name
        assert os.access(path, os.X_OK) and hooks.MARKER in path.read_text()
        assert sys.executable in path.read_text()
    append(wt / "eval.py", "# tweak\n")
    out = commit(wt, "eval.py")
    assert out.returncode == 1 and "eval.py is FROZEN" in out.stderr


def test_install_twice_changes_nothing(hooked: Path, capsys) -> None:
    before = {p.name: p.read_text() for p in (hooked / ".git" / "hooks").iterdir()}
    capsys.readouterr()
    assert hooks.install(hooked) == 0
    assert capsys.readouterr().out.count("already installed") == len(hooks.HOOKS)
    assert {p.name: p.read_text() for p in (hooked / ".git" / "hooks").iterdir()} == before


def test_install_keeps_a_users_hook_and_runs_it_after_ours(project: Path, capsys) -> None:
    user_hook = project / ".git" / "hooks" / "pre-commit"
    user_hook.write_text(f"#!/bin/sh\necho ran >> {project / 'user-hook-ran'}\n")
    user_hook.chmod(0o755)
    assert hooks.install(project) == 0
    assert "your previous hook is now pre-commit.user and runs after ours" in capsys.readouterr().out
    assert (project / ".git" / "hooks" / "pre-commit.user").read_text().startswith("#!/bin/sh\necho ran")
    assert hooks.install(project) == 0  # a second install neither moves ours onto theirs nor chains twice
    assert "pre-commit.user" in (project / ".git" / "hooks" / "pre-commit").read_text()

    (project / "notes.md").write_text("a regular file\n")
    assert commit(project, "notes.md").returncode == 0
    assert (project / "user-hook-ran").read_text() == "ran\n"
    append(project / "eval.py", "# tweak\n")
    assert commit(project, "eval.py").returncode == 1
    assert (project / "user-hook-ran").read_text() == "ran\n"  # refused by ours first: theirs did not run


def test_install_refuses_when_a_foreign_hook_and_its_backup_both_exist(project: Path, capsys) -> None:
    from autoresearch.cli import main

    for name in ("pre-commit", "pre-commit.user"):
        (project / ".git" / "hooks" / name).write_text("#!/bin/sh\nexit 0\n")
    assert main(["hooks", "install"]) == 1
    err = capsys.readouterr().err
    assert "pre-commit is not ours" in err and "merge them into" in err
    assert (project / ".git" / "hooks" / "pre-commit").read_text() == "#!/bin/sh\nexit 0\n"


def test_install_refuses_with_core_hooks_path_and_says_what_to_do(project: Path, capsys) -> None:
    from autoresearch.cli import main

    git(project, "config", "core.hooksPath", ".githooks")
    assert main(["hooks", "install"]) == 1
    err = capsys.readouterr().err
    assert "core.hooksPath is set to .githooks" in err and "git config --unset core.hooksPath" in err
    assert not (project / ".git" / "hooks" / "pre-commit").exists()


def test_install_outside_git_is_a_note_and_exit_0(tmp_path: Path, monkeypatch, capsys) -> None:
    from autoresearch.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["hooks", "install"]) == 0
    assert "is not a git repository, so no git hooks were installed" in capsys.readouterr().out


def test_install_in_a_repo_that_is_not_an_autoresearch_project_does_nothing(tmp_path: Path, capsys) -> None:
    git(tmp_path, "init", "-q")
    assert hooks.install(tmp_path) == 0
    assert "not an autoresearch project" in capsys.readouterr().out
    assert not (tmp_path / ".git" / "hooks" / "pre-commit").exists()


def test_hooks_status_reports_what_is_in_place(hooked: Path, capsys) -> None:
    assert hooks.status(hooked) == 0
    out = capsys.readouterr().out
    assert "pre-commit: installed" in out and "Claude Code hook: registered" in out


def test_the_first_commit_of_a_new_project_is_allowed(tmp_path: Path) -> None:
    from conftest import REPO, TEMPLATE_FILES

    repo = tmp_path / "fresh"
    repo.mkdir()
    for rel in TEMPLATE_FILES:
        if (REPO / rel).exists():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (repo / rel).write_bytes((REPO / rel).read_bytes())
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "T")
    git(repo, "config", "user.email", "t@example.com")
    assert hooks.install(repo) == 0
    assert commit(repo, ".").returncode == 0


def test_regular_files_commit_freely_from_a_worktree(hooked: Path) -> None:
    wt = worktree(hooked, "rotary")
    append(wt / "train.py", "# a change\n")
    out = commit(wt, "train.py")
    assert out.returncode == 0, out.stderr


def test_frozen_toolkit_file_is_refused_without_meta_mode(hooked: Path) -> None:
    (hooked / "justfile").write_text((hooked / "justfile").read_text() + "\n# sneaky\n")
    out = commit(hooked, "justfile")
    assert out.returncode == 1
    assert (
        "justfile is FROZEN" in out.stderr
        and "git checkout main -- justfile" in out.stderr
        and "META_MODE=1" in out.stderr
    )


def test_meta_mode_from_the_newest_human_journal_entry_allows_frozen_commits(hooked: Path) -> None:
    human = hooked / "human_journal.md"
    add_entry_on_top(human, "## 2025-01-01 09:00 UTC · revise the program\n\nMETA_MODE=1\n")
    append(hooked / "program.md", "\nA new rule.\n")
    out = commit(hooked, "program.md", "human_journal.md")
    assert out.returncode == 0, out.stderr
    add_entry_on_top(human, "## 2025-01-02 09:00 UTC · back to research\n\nThanks.\n")
    assert commit(hooked, "human_journal.md").returncode == 0
    append(hooked / "program.md", "\nAnother rule.\n")
    out = commit(hooked, "program.md")
    assert out.returncode == 1 and "program.md is FROZEN" in out.stderr


def test_merging_main_into_a_branch_after_a_meta_mode_change_is_allowed(hooked: Path) -> None:
    wt = worktree(hooked, "rotary")
    append(wt / "train.py", "# branch work\n")
    assert commit(wt, "train.py").returncode == 0
    append(hooked / "eval.py", "# new metric column\n")
    assert commit(hooked, "eval.py", env=hook_env(META_MODE="1")).returncode == 0
    out = git(wt, "merge", "--no-ff", "-q", "-m", "merge main", "main", env=hook_env())  # runs pre-merge-commit
    assert out.returncode == 0, out.stderr
    assert (wt / "eval.py").read_text() == (hooked / "eval.py").read_text()


def test_merging_a_branch_that_changed_eval_into_main_is_refused(hooked: Path) -> None:
    wt = worktree(hooked, "rotary")
    append(wt / "eval.py", "# easier metric\n")
    assert commit(wt, "eval.py", env=hook_env(META_MODE="1")).returncode == 0
    append(hooked / "train.py", "# main moved on\n")
    assert commit(hooked, "train.py").returncode == 0
    out = git(hooked, "merge", "--no-ff", "-q", "-m", "merge", "exp/rotary", env=hook_env())
    assert out.returncode != 0 and "eval.py is FROZEN" in out.stderr


def test_restoring_a_frozen_file_to_mains_copy_is_allowed(hooked: Path) -> None:
    wt = worktree(hooked, "rotary")
    append(wt / "eval.py", "# oops\n")
    assert commit(wt, "eval.py", env=hook_env(META_MODE="1")).returncode == 0
    assert git(wt, "checkout", "main", "--", "eval.py").returncode == 0
    assert commit(wt, "eval.py").returncode == 0


def test_global_files_commit_from_the_root_on_main(hooked: Path) -> None:
    add_entry_on_top(hooked / "RESEARCH_JOURNAL.md", OLD_ENTRY)
    out = commit(hooked, "RESEARCH_JOURNAL.md")
    assert out.returncode == 0, out.stderr


def test_global_files_are_refused_on_another_branch_in_the_root(hooked: Path) -> None:
    git(hooked, "checkout", "-q", "-b", "side")
    add_entry_on_top(hooked / "RESEARCH_JOURNAL.md", OLD_ENTRY)
    out = commit(hooked, "RESEARCH_JOURNAL.md")
    assert out.returncode == 1 and "RESEARCH_JOURNAL.md is GLOBAL" in out.stderr and "branch side" in out.stderr


def test_a_new_journal_entry_on_top_is_allowed_and_deleting_a_journal_is_not(hooked: Path) -> None:
    journal = hooked / "RESEARCH_JOURNAL.md"
    add_entry_on_top(journal, OLD_ENTRY)
    assert commit(hooked, "RESEARCH_JOURNAL.md").returncode == 0
    add_entry_on_top(journal, "## 2025-01-02 10:00 UTC · second\n\n**Observation:** b\n")
    assert commit(hooked, "RESEARCH_JOURNAL.md").returncode == 0
    git(hooked, "rm", "-q", "human_journal.md")
    out = git(hooked, "commit", "-q", "-m", "tidy", env=hook_env())
    assert out.returncode == 1 and "human_journal.md is APPEND-ONLY and the commit deletes it" in out.stderr


def test_commit_a_uses_the_index_the_commit_will_have(hooked: Path) -> None:
    append(hooked / "eval.py", "# tweak\n")
    out = git(hooked, "commit", "-q", "-am", "all", env=hook_env())
    assert out.returncode == 1 and "eval.py is FROZEN" in out.stderr


# The Claude Code hook ------------------------------------------------------------------------


def hook_input(tool: str, path: str, cwd: Path, **tool_input) -> dict:
    key = "notebook_path" if tool == "NotebookEdit" else "file_path"
    return {
        "session_id": "abc123",
        "transcript_path": "/home/user/.claude/projects/p/abc123.jsonl",
        "cwd": str(cwd),
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": {key: path, **tool_input},
        "tool_use_id": "toolu_01",
    }


def run_agent(data: dict | str, capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = guard.agent(data if isinstance(data, str) else json.dumps(data))
    return code, capsys.readouterr().err


@pytest.mark.parametrize("tool", ["Edit", "Write", "MultiEdit"])
def test_agent_edit_of_eval_is_blocked_with_exit_2(project: Path, tool: str, capsys) -> None:
    code, err = run_agent(hook_input(tool, str(project / "eval.py"), project, old_string="a", new_string="b"), capsys)
    assert code == 2
    assert err.count("\n") == 1 and "eval.py is FROZEN" in err and "change train.py or model.py instead" in err


def test_agent_edit_of_train_is_allowed_in_root_and_worktree(project: Path, capsys) -> None:
    wt = worktree(project, "rotary")
    assert run_agent(hook_input("Edit", str(project / "train.py"), project), capsys) == (0, "")
    assert run_agent(hook_input("Edit", "train.py", wt), capsys) == (0, "")
    assert run_agent(hook_input("Write", "new_dir/helper.py", wt, content="x = 1\n"), capsys) == (0, "")


def test_agent_relative_path_is_resolved_against_cwd_in_a_worktree(project: Path, capsys) -> None:
    wt = worktree(project, "rotary")
    code, err = run_agent(hook_input("Edit", "eval.py", wt), capsys)
    assert code == 2 and "eval.py is FROZEN" in err
    code, err = run_agent(hook_input("Write", "../src/autoresearch/harness.py", wt / "0_docs"), capsys)
    assert code == 2 and "src/autoresearch/harness.py is FROZEN" in err
    code, err = run_agent(hook_input("Edit", "5_worktrees/rotary/program.md", project), capsys)
    assert code == 2 and "program.md is FROZEN" in err


def test_agent_edit_through_a_symlink_to_a_frozen_file_is_blocked(project: Path, capsys) -> None:
    (project / "notes").symlink_to(project / "program.md")
    code, err = run_agent(hook_input("Edit", "notes", project), capsys)
    assert code == 2 and "program.md is FROZEN" in err


def test_agent_may_edit_frozen_files_in_meta_mode(project: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("META_MODE", "1")
    assert run_agent(hook_input("Edit", "eval.py", project), capsys) == (0, "")


@pytest.mark.parametrize(
    ("rel", "says"),
    [
        ("results.tsv", "is written by the tools only (eval.py appends the rows"),
        ("RESEARCH_JOURNAL.md", 'add a new entry with `just journal "title" --observation'),
        ("meta_journal.md", '`just journal "title" --journal meta'),
        ("human_journal.md", "the agent never writes it"),
        (".git/hooks/pre-commit", "inside git's own files"),
        (".git/config", "inside git's own files"),
    ],
)
def test_agent_may_not_write_the_record_or_git_even_in_meta_mode(
    project: Path, monkeypatch, rel: str, says: str, capsys
) -> None:
    monkeypatch.setenv("META_MODE", "1")
    code, err = run_agent(hook_input("Write", str(project / rel), project, content=""), capsys)
    assert code == 2 and says in err


def test_agent_notebook_edit_uses_notebook_path(project: Path, capsys) -> None:
    assert run_agent(hook_input("NotebookEdit", "0_docs/look.ipynb", project, new_source="1"), capsys) == (0, "")
    (project / "src" / "autoresearch").mkdir(parents=True)
    code, err = run_agent(hook_input("NotebookEdit", "src/autoresearch/x.ipynb", project, new_source="1"), capsys)
    assert code == 2 and "is FROZEN" in err


def test_agent_outside_any_project_is_allowed(tmp_path: Path, capsys) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    assert run_agent(hook_input("Write", str(other / "eval.py"), other), capsys) == (0, "")
    git(other, "init", "-q")
    assert run_agent(hook_input("Write", str(other / "eval.py"), other), capsys) == (0, "")


def test_agent_other_tools_pass_and_unreadable_input_blocks(project: Path, capsys) -> None:
    assert run_agent({"tool_name": "Read", "tool_input": {"file_path": "eval.py"}, "cwd": str(project)}, capsys) == (
        0,
        "",
    )
    code, err = run_agent("not json", capsys)
    assert code == 2 and "could not read the hook input" in err
    code, err = run_agent({"tool_name": "Edit", "tool_input": {}, "cwd": str(project)}, capsys)
    assert code == 2 and "cannot tell which file" in err


def registered(project: Path, matcher: str) -> str:
    settings = json.loads((project / ".claude" / "settings.json").read_text())
    (command,) = [e["hooks"][0]["command"] for e in settings["hooks"]["PreToolUse"] if e["matcher"] == matcher]
    return command


def test_settings_json_registers_the_hook_for_edit_tools_and_bash(project: Path) -> None:
    assert "guard agent" in registered(project, "Edit|Write|MultiEdit|NotebookEdit")
    assert "guard agent" in registered(project, "Bash")


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("META_MODE=1 git commit -am 'tweak eval'", "META_MODE is the researcher's switch"),
        ("export META_MODE=1 && just check", "META_MODE is the researcher's switch"),
        ("git commit --no-verify -m x", "skipping the git hooks"),
        ("git add -A; git commit -qnm x", "skipping the git hooks"),
        ("git config core.hooksPath /dev/null", "core.hooksPath"),
        (
            "just journal 'go ahead' --observation META_MODE --journal human",
            "human_journal.md is the researcher's journal",
        ),
    ],
)
def test_agent_bash_commands_that_switch_a_guard_off_are_blocked(
    project: Path, command: str, says: str, capsys
) -> None:
    data = {
        "tool_name": "Bash",
        "tool_input": {"command": command},
        "cwd": str(project),
        "hook_event_name": "PreToolUse",
    }
    code, err = run_agent(data, capsys)
    assert code == 2 and says in err


@pytest.mark.parametrize(
    "command",
    [
        "just eval",
        "git commit -am 'exp(rotary): base 50k'",
        'git commit -m "exp(heads): -n 4 heads, --no-verify-free"',
        "grep -n 'META_MODE=1' program.md",
        "git log -n 3",
        "just journal x --journal meta",
    ],
)
def test_agent_ordinary_bash_commands_pass(project: Path, command: str, capsys) -> None:
    data = {
        "tool_name": "Bash",
        "tool_input": {"command": command},
        "cwd": str(project),
        "hook_event_name": "PreToolUse",
    }
    assert run_agent(data, capsys) == (0, "")


def test_agent_bash_may_repeat_meta_mode_once_the_researcher_set_it(project: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("META_MODE", "1")
    data = {"tool_name": "Bash", "tool_input": {"command": "META_MODE=1 git commit -am x"}, "cwd": str(project)}
    assert run_agent(data, capsys) == (0, "")


@pytest.mark.parametrize("started_in", ["root", "worktree"])
def test_settings_json_command_finds_the_root_venv_from_root_and_worktrees(project: Path, started_in: str) -> None:
    """Run the registered command as Claude Code does: bash, CLAUDE_PROJECT_DIR, the JSON on stdin."""
    shim = project / ".venv" / "bin" / "autoresearch"  # what setup.sh's pip install puts there
    shim.parent.mkdir(parents=True)
    shim.write_text(f'#!/bin/sh\nPYTHONPATH={SRC} exec {sys.executable} -m autoresearch "$@"\n')
    shim.chmod(0o755)
    wt = worktree(project, "rotary")
    start = project if started_in == "root" else wt
    command = registered(project, "Edit|Write|MultiEdit|NotebookEdit")
    env = hook_env(CLAUDE_PROJECT_DIR=str(start))
    env.pop("PYTHONPATH")

    def run(rel: str) -> subprocess.CompletedProcess:
        data = json.dumps(hook_input("Edit", rel, start, old_string="a", new_string="b"))
        return subprocess.run(["bash", "-c", command], input=data, capture_output=True, text=True, env=env, cwd=start)

    blocked = run("program.md")
    assert blocked.returncode == 2 and "program.md is FROZEN" in blocked.stderr
    allowed = run("model.py")
    assert allowed.returncode == 0, allowed.stderr
    bash = registered(project, "Bash")
    data = json.dumps({"tool_name": "Bash", "tool_input": {"command": "git commit --no-verify"}, "cwd": str(start)})
    out = subprocess.run(["bash", "-c", bash], input=data, capture_output=True, text=True, env=env, cwd=start)
    assert out.returncode == 2 and "skipping the git hooks" in out.stderr
    shim.unlink()
    env["PATH"] = "/usr/bin:/bin"
    broken = run("model.py")
    assert broken.returncode == 2 and "could not run" in broken.stderr  # edits fail closed
    out = subprocess.run(["bash", "-c", bash], input=data, capture_output=True, text=True, env=env, cwd=start)
    assert (
        out.returncode == 1 and "could not run" in out.stderr
    )  # shell commands fail open (exit 1: shown to the user), so `bash setup.sh` can still run


def test_guard_commit_is_quiet_with_nothing_staged(project: Path) -> None:
    assert guard.commit_problems(Project.find()) == []
