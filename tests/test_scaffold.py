"""`autoresearch init` and `autoresearch update`: projects rendered from a template's last commit, and later template commits merged into them.

Each test's template is a throw-away git repository made from this checkout's files, with research
records committed in it (ideas, a report, journal entries, result rows, a calibration), so the
tests prove that none of it comes along, and with the tiny example of tests/fixtures/examples/ in
its examples folder. "The checkout this package runs from" is pointed at that repository. The
update tests then commit a second version of the template, with real git and the project's own
guard hooks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import records

from autoresearch import scaffold
from autoresearch.cli import main
from autoresearch.journal import parse
from autoresearch.results import header

REPO = Path(__file__).resolve().parents[1]
TINY = Path(__file__).resolve().parent / "fixtures" / "examples" / "tiny"
FLAGS = [
    "--project",
    "Teach a tiny GPT the synthetic language faster.",
    "--metric",
    "val_acc",
    "--direction",
    "higher",
    "--hypothesis-space",
    "optimiser and schedule changes in train.py",
]
HEADER = header("val_bpb")  # the template's metric
ROW = "abc1234\t1.9" + "\t" * (HEADER.count("\t") - 1) + "\n"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def checkout_files(root: Path) -> list[str]:
    """The files of a checkout that git does not ignore (tracked or new), as they are on disk."""
    out = git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    return sorted({f for f in out.split("\0") if f and (root / f).is_file()})


def copy_checkout(dest: Path) -> Path:
    """This checkout's files (its working state), copied into a new git repo at dest, staged, not committed."""
    for rel in checkout_files(REPO):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, dest / rel)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    return dest


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path.name} no longer has {old!r}: update this test's edit"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git identity in a private global config, so the tests behave the same on every machine."""
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tname = Test Researcher\n\temail = test@example.com\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("META_MODE", raising=False)
    return config


@pytest.fixture
def used_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, identity: Path) -> Path:
    """A committed template full of this repo's research; init's default template (the package's checkout)."""
    root = copy_checkout(tmp_path / "template")
    (root / "1_ideas" / "2025-01-01_rotary.md").write_text("---\nslug: rotary\n---\n")
    (root / "9_reports" / "2025-01-02_rotary.md").write_text("# Report: rotary\n")
    (root / "0_docs" / "papers" / "attention.md").write_text("full text\n")
    (root / ".autoresearch").mkdir(exist_ok=True)
    (root / ".autoresearch" / "calibration.json").write_text('{"profiles": {}}\n')
    (root / "results.tsv").write_text(HEADER + ROW)
    for name in ("RESEARCH_JOURNAL.md", "meta_journal.md", "human_journal.md"):
        append(root / name, "\n## 2025-01-01 00:00 UTC · an old entry\n\n**Observation:** x\n")
    shutil.copytree(TINY, root / scaffold.EXAMPLES / "tiny")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "research")
    monkeypatch.setattr(scaffold, "_package_checkout", lambda: root)
    return root


def commit_template(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def record(project: Path) -> dict:
    import tomllib

    return tomllib.loads((project / "pyproject.toml").read_text())["tool"]["autoresearch"]["template"]


def test_init_copies_the_template_without_its_research(used_template: Path, tmp_path: Path, capsys) -> None:
    dest = tmp_path / "myproj"
    assert main(["init", str(dest), *FLAGS]) == 0
    files = set(git(dest, "ls-files").splitlines())
    for rel in (
        "program.md",
        "eval.py",
        "train.py",
        "model.py",
        "justfile",
        "pyproject.toml",
        "setup.sh",
        "constraints.txt",
        ".gitignore",
        "1_ideas/_TEMPLATE.md",
        "9_reports/_TEMPLATE.md",
        "5_worktrees/.gitkeep",
        "0_docs/problem.md",
        "0_docs/papers/.gitkeep",
        "src/autoresearch/cli.py",
    ):
        assert rel in files, rel
    assert [p.name for p in (dest / "1_ideas").iterdir()] == ["_TEMPLATE.md"]
    assert [p.name for p in (dest / "9_reports").iterdir()] == ["_TEMPLATE.md"]
    assert [p.name for p in (dest / "0_docs" / "papers").iterdir()] == [".gitkeep"]
    assert [p.name for p in (dest / "5_worktrees").iterdir()] == [".gitkeep"]
    assert not (dest / ".autoresearch").exists()
    assert (dest / "results.tsv").read_text() == header("val_acc")
    for name in ("RESEARCH_JOURNAL.md", "meta_journal.md", "human_journal.md"):
        head, entries = parse((dest / name).read_text())
        assert entries == [] and head.startswith("# ")
    assert os.access(dest / "setup.sh", os.X_OK)


def test_init_makes_one_commit_on_main_with_the_hooks_and_keeps_it_as_the_template_branch(
    used_template: Path, tmp_path: Path, capsys
) -> None:
    dest = tmp_path / "myproj"
    main(["init", str(dest), *FLAGS])
    assert git(dest, "branch", "--show-current") == "main"
    assert git(dest, "log", "--format=%s") == scaffold.COMMIT_MESSAGE
    assert git(dest, "rev-parse", scaffold.TEMPLATE_BRANCH) == git(dest, "rev-parse", "HEAD")
    assert git(dest, "status", "--porcelain") == ""
    assert "autoresearch guard hook" in (dest / ".git" / "hooks" / "pre-commit").read_text()
    out = capsys.readouterr().out
    assert f"created {dest}" in out and "pre-commit installed" in out and "nothing left to fill in" in out
    assert f"at {git(used_template, 'rev-parse', '--short=7', 'HEAD')} (example lm," in out


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


def test_init_records_the_template_commit_and_the_answers(used_template: Path, tmp_path: Path, capsys) -> None:
    dest = tmp_path / "myproj"
    main(["init", str(dest), *FLAGS])
    assert record(dest) == {
        "source": str(used_template),
        "commit": git(used_template, "rev-parse", "HEAD"),
        "example": "lm",
        "project": FLAGS[1],
        "metric": "val_acc",
        "direction": "higher",
        "hypothesis_space": FLAGS[7],
    }


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


def test_init_with_an_example_lays_its_files_and_settings_over_the_template(
    used_template: Path, tmp_path: Path, capsys
) -> None:
    dest = tmp_path / "shapes"
    assert main(["init", str(dest), "--example", "tiny"]) == 0
    assert (dest / "train.py").read_text() == (TINY / "train.py").read_text()
    assert (dest / "shapes.md").read_text() == (TINY / "shapes.md").read_text()
    assert (dest / "model.py").read_text() == (
        used_template / "model.py"
    ).read_text()  # not in the example: the template's
    assert not (dest / "example.toml").exists()
    import tomllib

    settings = tomllib.loads((dest / "pyproject.toml").read_text())["tool"]["autoresearch"]
    assert (settings["metric"], settings["direction"], settings["meaningful_effect"]) == ("accuracy", "higher", 0.05)
    assert settings["template"]["example"] == "tiny"
    program = (dest / "program.md").read_text()
    assert "Project: Sort tiny shapes into their classes.\n" in program
    assert "Metric: accuracy, the share of validation shapes classified right (higher is better)\n" in program
    assert "Hypothesis space: the classifier in train.py\n" in program
    assert (dest / "0_docs" / "problem.md").read_text() == (
        TINY / "0_docs" / "problem.md"
    ).read_text()  # its own, as written
    assert "nothing left to fill in" in capsys.readouterr().out


def test_init_with_the_digits_example_of_this_template(used_template: Path, tmp_path: Path, capsys) -> None:
    digits = REPO / scaffold.EXAMPLES / "digits"
    dest = tmp_path / "digits"
    assert main(["init", str(dest), "--example", "digits"]) == 0
    for rel in ("eval.py", "train.py", "model.py", "0_docs/problem.md"):
        assert (dest / rel).read_text() == (digits / rel).read_text(), rel
    import tomllib

    spec = tomllib.loads((digits / "example.toml").read_text())
    settings = tomllib.loads((dest / "pyproject.toml").read_text())["tool"]["autoresearch"]
    assert (settings["metric"], settings["direction"]) == (spec["metric"], spec["direction"]) == ("accuracy", "higher")
    assert (dest / "results.tsv").read_text() == header("accuracy")
    assert (dest / "program.md").read_text().splitlines()[2] == f"Project: {spec['project']}"
    assert "nothing left to fill in" in capsys.readouterr().out


def test_init_flags_win_over_the_example(used_template: Path, tmp_path: Path, capsys) -> None:
    dest = tmp_path / "shapes"
    main(["init", str(dest), "--example", "tiny", "--project", "Mine.", "--direction", "lower"])
    program = (dest / "program.md").read_text()
    assert "Project: Mine.\n" in program
    assert "Metric: accuracy, the share of validation shapes classified right (lower is better)\n" in program
    assert "Hypothesis space: the classifier in train.py\n" in program
    assert 'direction = "lower"' in (dest / "pyproject.toml").read_text()
    problem = (dest / "0_docs" / "problem.md").read_text()
    assert "**Project:** Mine.\n" in problem and "**Hypothesis space:** the classifier.\n" in problem
    assert "**Metric:** accuracy, the share of validation shapes classified right (lower is better)\n" in problem


def test_init_with_an_unknown_example_names_the_known_ones(used_template: Path, tmp_path: Path, capsys) -> None:
    assert main(["init", str(tmp_path / "p"), "--example", "vision"]) == 1
    err = capsys.readouterr().err
    assert "--example vision:" in err and "src/autoresearch/examples/vision/" in err
    assert {"lm", "tiny"} <= set(err.split("its examples are: ")[1].strip().split(", "))
    assert not (tmp_path / "p").exists()


def test_init_renders_the_last_commit_and_warns_of_uncommitted_changes(
    used_template: Path, tmp_path: Path, capsys
) -> None:
    append(used_template / "program.md", "\nNot committed yet.\n")
    (used_template / "new_tool.py").write_text("")
    append(used_template / "results.tsv", ROW)  # the template's own record: never rendered, so no warning
    dest = tmp_path / "myproj"
    assert main(["init", str(dest), *FLAGS]) == 0
    assert "Not committed yet." not in (dest / "program.md").read_text()
    assert not (dest / "new_tool.py").exists()
    out = capsys.readouterr().out
    assert out.startswith(f"warning: the template {used_template} has uncommitted changes (new_tool.py, program.md); ")
    assert "results.tsv" not in out.splitlines()[0]


def test_init_refuses_a_template_that_is_not_a_git_checkout(used_template: Path, tmp_path: Path, capsys) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert main(["init", str(tmp_path / "p"), "--template", str(plain)]) == 1
    assert f"template {plain} is not a git checkout" in capsys.readouterr().err


def test_init_refuses_a_non_empty_folder_and_writes_nothing(used_template: Path, tmp_path: Path, capsys) -> None:
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine\n")
    assert main(["init", str(dest), *FLAGS]) == 1
    err = capsys.readouterr().err
    assert (
        err
        == f"autoresearch: {dest} is not empty; init writes only into a new or empty folder, so nothing was written\n"
    )
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["busy", "template", "gitconfig"])


def test_init_fills_an_empty_existing_folder(used_template: Path, tmp_path: Path, capsys) -> None:
    dest = tmp_path / "empty"
    dest.mkdir()
    assert main(["init", str(dest)]) == 0
    assert (dest / "program.md").is_file() and (dest / ".git").is_dir()


def test_init_removes_everything_when_git_fails(used_template: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    dest = tmp_path / "myproj"
    monkeypatch.setattr(scaffold, "TEMPLATE_BRANCH", "no..branch")  # git refuses this name, after the first commit
    assert main(["init", str(dest)]) == 1
    assert "`git branch` failed" in capsys.readouterr().err
    assert not dest.exists()


def test_init_sets_a_local_identity_only_when_git_has_none(
    used_template: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
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
    assert subprocess.run(["git", "config", "--local", "user.name"], cwd=dest, check=False).returncode == 1


def test_init_rejects_a_bad_metric_name(used_template: Path, tmp_path: Path, capsys) -> None:
    assert main(["init", str(tmp_path / "p"), "--metric", "val bpb"]) == 1
    assert "--metric 'val bpb'" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_init_works_from_an_installed_wheel_given_a_template(used_template: Path, tmp_path: Path) -> None:
    """Build a wheel from a copy of this checkout (pyproject alone, no build code), install only it, init from there.

    The wheel holds the package, not the template: init needs --template, and says so without it.
    """
    source = copy_checkout(tmp_path / "source")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("autoresearch-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    package = [rel.removeprefix("src/") for rel in checkout_files(source) if rel.startswith("src/autoresearch/")]
    assert package and set(package) <= shipped, "the wheel lacks files of the package folder"
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    shutil.rmtree(source)
    env = os.environ | {"PYTHONPATH": str(target)}
    init = [sys.executable, "-m", "autoresearch", "init", str(tmp_path / "fromwheel"), "--project", "P."]
    out = subprocess.run(init, cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 1 and "give the template with --template PATH" in out.stderr, out.stderr
    out = subprocess.run(
        [*init, "--template", str(used_template)], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert f"from the autoresearch template {used_template} at " in out.stdout
    dest = tmp_path / "fromwheel"
    files = set(git(dest, "ls-files").splitlines())
    assert {"program.md", "eval.py", "setup.sh", "src/autoresearch/scaffold.py", "1_ideas/_TEMPLATE.md"} <= files
    assert not any("__pycache__" in f for f in files)
    assert (dest / "results.tsv").read_text() == HEADER


# update: a project made from template v1 does its own work; the template moves on to v2; update merges v2 in.


@pytest.fixture
def project(used_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    """A project from the template with a night of its own work committed: a journal entry, a train.py change, a row."""
    dest = tmp_path / "myproj"
    assert main(["init", str(dest), *FLAGS]) == 0
    monkeypatch.chdir(dest)
    assert main(["journal", "add", "--title", "first night", "--observation", "loss fell", "--inference", "lr ok"]) == 0
    append(dest / "train.py", "\nPROJECT_TWEAK = 1\n")
    records.append_row(dest)  # signed, as the eval process writes it
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "night 1")  # through the project's guard hook, like the agent's commits
    capsys.readouterr()
    return dest


def template_v2(root: Path) -> str:
    """The template's next version: program.md, the justfile and a toolkit file change."""
    append(root / "program.md", "\n## Added in template v2\n\nA new rule.\n")
    append(root / "justfile", "\n# added in template v2\nhello:\n    @echo hello\n")
    append(root / "src" / "autoresearch" / "paths.py", "\nV2 = True\n")
    return commit_template(root, "template v2")


def test_update_merges_template_changes_and_keeps_the_projects_work(
    used_template: Path, project: Path, monkeypatch, capsys
) -> None:
    main_before = git(project, "rev-parse", "HEAD")
    rows_before = (project / "results.tsv").read_text()
    line = records.append_row(project)  # a row not committed yet, as after an eval
    v2 = template_v2(used_template)
    monkeypatch.setenv("META_MODE", "1")
    assert main(["update"]) == 0
    out = capsys.readouterr().out
    assert f"update: merged the template {v2[:7]} (was " in out and "4 files changed" in out
    assert "## Added in template v2\n\nA new rule.\n" in (project / "program.md").read_text()
    assert "hello:\n    @echo hello\n" in (project / "justfile").read_text()
    assert "V2 = True" in (project / "src" / "autoresearch" / "paths.py").read_text()
    assert record(project)["commit"] == v2
    # the project's own work and answers are kept
    assert (project / "program.md").read_text().splitlines()[2] == f"Project: {FLAGS[1]}"
    assert "PROJECT_TWEAK = 1" in (project / "train.py").read_text()
    assert (project / "results.tsv").read_text() == rows_before + line
    assert parse((project / "RESEARCH_JOURNAL.md").read_text())[1][0].heading.endswith("first night")
    # history: a merge of main and the template branch, whose new rendering sits on the first one
    assert git(project, "rev-list", "--parents", "-n1", "HEAD").split()[1:] == [
        main_before,
        git(project, "rev-parse", scaffold.TEMPLATE_BRANCH),
    ]
    assert git(project, "rev-parse", f"{scaffold.TEMPLATE_BRANCH}^") == git(
        project, "rev-list", "--max-parents=0", "HEAD"
    )
    assert git(project, "status", "--porcelain") == "M results.tsv"
    assert main(["check"]) == 0


def test_update_keeps_the_example_and_takes_its_changes(
    used_template: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    dest = tmp_path / "shapes"
    main(["init", str(dest), "--example", "tiny"])
    append(used_template / scaffold.EXAMPLES / "tiny" / "shapes.md", "And a hexagon.\n")
    append(used_template / "train.py", "\nLM_ONLY = 1\n")  # the template's own train.py: the example replaces it
    commit_template(used_template, "template v2")
    monkeypatch.chdir(dest)
    monkeypatch.setenv("META_MODE", "1")
    assert main(["update"]) == 0
    assert (dest / "shapes.md").read_text().endswith("And a hexagon.\n")
    assert (dest / "train.py").read_text() == (TINY / "train.py").read_text()
    assert "Project: Sort tiny shapes into their classes.\n" in (dest / "program.md").read_text()


def test_update_stops_on_a_conflict_with_gits_markers_and_says_how_to_finish(
    used_template: Path, project: Path, monkeypatch, capsys
) -> None:
    line = "You are the researcher on this project, working alone for hours at a time."
    monkeypatch.setenv("META_MODE", "1")
    replace(project / "program.md", line, "You are the researcher here; the project's version of this line.")
    git(project, "commit", "-q", "-am", "program: our rule")
    replace(used_template / "program.md", line, "You are the researcher; the template's new version of this line.")
    commit_template(used_template, "template v2")
    main_before = git(project, "rev-parse", "HEAD")
    assert main(["update"]) == 1
    out = capsys.readouterr().out
    assert "stopped on conflicts in 1 of 2 files:\n  program.md\n" in out
    assert "`git add` the files, then `META_MODE=1 git commit --no-edit`; or `git merge --abort`" in out
    assert git(project, "diff", "--name-only", "--diff-filter=U") == "program.md"
    text = (project / "program.md").read_text()
    assert "<<<<<<<" in text and "the project's version" in text and "the template's new version" in text
    assert (project / "train.py").read_text().endswith("PROJECT_TWEAK = 1\n")
    # abort, and update again: the same rendering is merged again, to the same conflict
    git(project, "merge", "--abort")
    assert git(project, "rev-parse", "HEAD") == main_before
    rendered = git(project, "rev-parse", scaffold.TEMPLATE_BRANCH)
    assert main(["update"]) == 1
    assert git(project, "rev-parse", scaffold.TEMPLATE_BRANCH) == rendered
    assert "stopped on conflicts" in capsys.readouterr().out


def test_update_without_meta_mode_refuses_and_changes_nothing(used_template: Path, project: Path, capsys) -> None:
    before = git(project, "rev-parse", "HEAD", scaffold.TEMPLATE_BRANCH)
    template_v2(used_template)
    assert main(["update"]) == 1
    err = capsys.readouterr().err
    assert "update merges template changes into FROZEN files" in err
    assert "run `META_MODE=1 autoresearch update`, or add a human_journal.md entry with the line META_MODE=1" in err
    assert git(project, "rev-parse", "HEAD", scaffold.TEMPLATE_BRANCH) == before


def test_update_when_the_template_has_not_moved_merges_nothing(project: Path, monkeypatch, capsys) -> None:
    before = git(project, "rev-parse", "HEAD", scaffold.TEMPLATE_BRANCH)
    monkeypatch.setenv("META_MODE", "1")
    assert main(["update"]) == 0
    assert "already at the template's last commit" in capsys.readouterr().out
    assert git(project, "rev-parse", "HEAD", scaffold.TEMPLATE_BRANCH) == before


def test_a_template_commit_that_renders_the_same_changes_only_the_record(
    used_template: Path, project: Path, monkeypatch, capsys
) -> None:
    """Rendering is deterministic: init's commit and update's rendering differ only by what the template changed."""
    (used_template / "1_ideas" / "2025-02-01_more.md").write_text("---\nslug: more\n---\n")  # research: not rendered
    commit_template(used_template, "template: an idea")
    monkeypatch.setenv("META_MODE", "1")
    assert main(["update"]) == 0
    assert "1 file changed" in capsys.readouterr().out
    assert git(project, "diff", "--name-only", "HEAD^", "HEAD") == "pyproject.toml"


def test_update_from_a_moved_template_needs_its_new_place(
    used_template: Path, project: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    moved = tmp_path / "moved"
    used_template.rename(moved)
    monkeypatch.setenv("META_MODE", "1")
    assert main(["update"]) == 1
    assert (
        f"the template {used_template} recorded in [tool.autoresearch.template] is gone; give its new place with --template PATH"
        in capsys.readouterr().err
    )
    template_v2(moved)
    assert main(["update", "--template", str(moved)]) == 0
    assert (
        record(project)["source"] == str(moved)
        and "V2 = True" in (project / "src" / "autoresearch" / "paths.py").read_text()
    )


def test_update_refuses_a_project_without_the_template_branch(project: Path, monkeypatch, capsys) -> None:
    git(project, "branch", "-D", scaffold.TEMPLATE_BRANCH)
    monkeypatch.setenv("META_MODE", "1")
    assert main(["update"]) == 1
    assert f"has no branch {scaffold.TEMPLATE_BRANCH}" in capsys.readouterr().err
