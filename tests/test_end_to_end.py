"""The project's definition of done: the whole research loop, from `init` to `check`, as a new user runs it.

Usage: python -m pytest tests/test_end_to_end.py -q     (about two minutes on two CPU cores)

In a temporary folder with real git, real worktrees and real subprocesses (`just`, `python eval.py`,
the git hooks), it follows program.md step by step and asserts each artifact where program.md says
it lands.

Two honest shortcuts, each what a researcher may legitimately do:
- "Set up" is not `bash setup.sh`: that makes a venv and pip-installs torch, which is the README's
  first command, proven by `.ci/run` on a fresh machine. Here the interpreter running the test (it
  has every dependency) runs the new project's own copy of the toolkit (PYTHONPATH=<project>/src),
  `autoresearch` on PATH is a two-line shim for `python -m autoresearch`, and init installed the hooks.
- The budget: the researcher fills in the problem after `init`. Here, in meta-mode and committed on
  main like any such change, they shrink eval.py's `cpu` profile to a few seconds, so that a
  row-writing eval fits in a test, and set `meaningful_effect` to what a 10-step budget can resolve.

Calibration runs on `smoke`, as a first calibration does: it proves the path (four runs, the checks,
the record). The experiment's row is on `cpu`, so its verdict is `uncalibrated`: calibrating `cpu`
means four runs inside its 1-10 minute window, too slow here. The calibrated verdicts themselves
(better, within-noise, worse) are proven by the stats and harness tests.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SMALL_CPU_BUDGET = "train_tokens=20_480"  # 10 steps of 8 x 256 tokens, like smoke
MEANINGFUL_EFFECT = "meaningful_effect = 0.1"
SLUGS = ("higher-matrix-lr", "rotary-base-50k", "deeper-narrower")


def just_binary() -> str:
    found = shutil.which("just") or str(Path(sys.executable).parent / "just")
    assert Path(found).exists(), "no `just` on PATH or next to python: run bash setup.sh (it installs rust-just)"
    return found


class User:
    """Runs commands the way a researcher types them, in a given folder, and fails loudly with their output."""

    def __init__(self, tmp: Path):
        shims = tmp / "bin"
        shims.mkdir()
        for name, command in (("python", ""), ("autoresearch", " -m autoresearch")):
            (shims / name).write_text(f'#!/bin/sh\nexec "{sys.executable}"{command} "$@"\n')
            (shims / name).chmod(0o755)
        gitconfig = tmp / "gitconfig"
        gitconfig.write_text("[user]\n\tname = New User\n\temail = new.user@example.com\n")
        path = os.pathsep.join([str(shims), str(Path(just_binary()).parent), os.environ["PATH"]])
        self.env = {k: v for k, v in os.environ.items() if k not in ("META_MODE", "AUTORESEARCH_LABEL", "PYTHONPATH")}
        self.env |= {"PATH": path, "GIT_CONFIG_GLOBAL": str(gitconfig), "GIT_CONFIG_NOSYSTEM": "1", "NO_COLOR": "1",
                     "COLUMNS": "120"}

    def run(self, cwd: Path, *args: str, src: Path, ok: bool = True, **extra_env: str) -> str:
        env = self.env | {"PYTHONPATH": str(src)} | extra_env
        out = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
        text = out.stdout + out.stderr
        if ok:
            assert out.returncode == 0, f"`{' '.join(args)}` in {cwd} exited {out.returncode}:\n{text}"
        return text


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path.name} no longer has {old!r}: update this test's edit"
    path.write_text(text.replace(old, new, 1))


def newest_entry(journal: Path) -> str:
    from autoresearch.journal import parse

    _, entries = parse(journal.read_text())
    assert entries, f"{journal.name} has no entries"
    return entries[0].text


def rows(project: Path) -> list[dict[str, str]]:
    header, *lines = (project / "results.tsv").read_text().splitlines()
    return [dict(zip(header.split("\t"), line.split("\t"))) for line in lines]


def test_a_new_user_runs_the_whole_loop(tmp_path: Path) -> None:
    user = User(tmp_path)
    proj = tmp_path / "myproj"
    src = proj / "src"
    just = just_binary()
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")

    # 1. init a project from this checkout
    out = user.run(REPO, just, "new", str(proj), "--project", "Teach a small GPT the synthetic language in fewer tokens.",
                   "--metric", "val_bpb", "--direction", "lower", "--hypothesis-space", "optimiser changes in train.py",
                   src=REPO / "src")
    assert f"created {proj}" in out and "nothing left to fill in" in out
    assert git(proj, "log", "--format=%s") == "init from autoresearch template"
    assert (proj / "program.md").read_text().splitlines()[2] == "Project: Teach a small GPT the synthetic language in fewer tokens."

    # 2. set up (see the docstring), and fill in the problem in meta-mode: a seconds-long cpu budget,
    #    and a meaningful effect that fits a 10-step budget (its seeds spread by ~0.01 bpb)
    replace(proj / "eval.py", "train_tokens=1_048_576", SMALL_CPU_BUDGET)
    replace(proj / "pyproject.toml", "meaningful_effect = 0.02", MEANINGFUL_EFFECT)
    refused = user.run(proj, "git", "commit", "-qam", "problem: a small budget", src=src, ok=False)
    assert "eval.py" in refused and git(proj, "rev-list", "--count", "HEAD") == "1", "the hook let a FROZEN edit through"
    user.run(proj, "git", "commit", "-qam", "problem: a small budget", src=src, META_MODE="1")

    # 3. calibrate on the smoke profile; the researcher commits its record (meta_journal.md is FROZEN)
    out = user.run(proj, just, "calibrate", "--profile", "smoke", src=src)
    assert "verdicts of profile smoke now use threshold" in out
    calibration = json.loads((proj / ".autoresearch" / "calibration.json").read_text())["profiles"]["smoke"]
    assert calibration["passed"] and calibration["deterministic"] and calibration["threshold"] > 0
    assert newest_entry(proj / "meta_journal.md").startswith("## ") and "calibrate smoke: pass" in newest_entry(proj / "meta_journal.md")
    assert rows(proj) == [], "smoke calibration wrote rows"
    user.run(proj, "git", "add", ".autoresearch", "meta_journal.md", src=src)
    user.run(proj, "git", "commit", "-qm", "calibration: smoke", src=src, META_MODE="1")

    # 4. three ideas; critique and rate one; commit the record on main
    for slug, title in zip(SLUGS, ("Higher Muon learning rate", "Rotary base 50k", "Deeper, narrower model")):
        user.run(proj, just, "idea", slug, title, "--hypothesis", f"{title} learns more per token.", src=src)
    assert user.run(proj, "autoresearch", "idea", "count", src=src).strip() == "3"
    idea_file = proj / "1_ideas" / f"{today}_{SLUGS[0]}.md"
    assert idea_file.is_file()
    user.run(proj, just, "critique", SLUGS[0], "--text", "Sound, but the schedule may need retuning. Testable in one run.", src=src)
    user.run(proj, just, "rate", SLUGS[0], "8", src=src)
    assert "rating: 8" in idea_file.read_text() and "the schedule may need retuning" in idea_file.read_text()
    assert user.run(proj, "autoresearch", "idea", "next", src=src).startswith(SLUGS[0])
    user.run(proj, "git", "add", "1_ideas", src=src)
    user.run(proj, "git", "commit", "-qm", "ideas: three", src=src)

    # 5. its worktree, and a real change in train.py
    user.run(proj, just, "wt", SLUGS[0], src=src)
    wt = proj / "5_worktrees" / SLUGS[0]
    assert git(wt, "branch", "--show-current") == f"exp/{SLUGS[0]}"
    train_py = wt / "train.py"
    text = train_py.read_text()
    assert re.search(r"^MATRIX_LR = 0\.02\b", text, re.MULTILINE), "train.py's MATRIX_LR changed: update this edit"
    train_py.write_text(re.sub(r"^MATRIX_LR = 0\.02\b", "MATRIX_LR = 0.03", text, count=1, flags=re.MULTILINE))
    user.run(wt, "git", "commit", "-qam", f"exp({SLUGS[0]}): Muon lr 0.02 -> 0.03", src=src)

    # 6. smoke (no row), then eval from the worktree: the row lands in the ROOT results.tsv with its verdict
    before = rows(proj)
    out = user.run(wt, just, "smoke", src=src)
    assert "not written (smoke)" in out and rows(proj) == before
    out = user.run(wt, just, "eval", "--profile", "cpu", src=src)
    assert re.search(r"^val_bpb:\s+\d", out, re.MULTILINE)
    new = rows(proj)[len(before):]
    assert len(new) == 1
    row = new[0]
    assert row["status"] == "ok" and row["profile"] == "cpu" and row["kind"] == "experiment"
    assert row["idea"] == SLUGS[0] and row["branch"] == f"exp/{SLUGS[0]}"
    assert row["commit"] == git(wt, "rev-parse", "--short", "HEAD")
    assert row["verdict"] == "uncalibrated"  # only smoke is calibrated (see the docstring)
    assert float(row["val_bpb"]) > float(row["floor_bpb"])
    assert git(wt, "status", "--porcelain") == "", "the eval changed the worktree (its results.tsv?)"

    # 7. a report prefilled with the row, then a journal entry at the top
    out = user.run(proj, just, "report", SLUGS[0], src=src)
    report = proj / "9_reports" / f"{today}_{SLUGS[0]}.md"
    assert report.is_file() and row["commit"] in report.read_text()
    user.run(wt, just, "journal", f"{SLUGS[0]}: Muon lr 0.03 on the small cpu budget", "--slug", SLUGS[0],
             "--observation", f"val_bpb {row['val_bpb']} at {row['commit']}, seed 0, verdict {row['verdict']}",
             "--inference", "one seed: not evidence either way yet", src=src)
    first_entry = newest_entry(proj / "RESEARCH_JOURNAL.md")
    assert f"Muon lr 0.03 on the small cpu budget · [{SLUGS[0]}]" in first_entry.splitlines()[0]
    assert "**Observation:** val_bpb" in first_entry
    user.run(proj, "autoresearch", "idea", "set-status", SLUGS[0], "done", src=src)

    # 8. status and plot
    out = user.run(proj, just, "status", src=src)
    assert SLUGS[0] in out and row["val_bpb"][:5] in out
    user.run(proj, just, "plot", src=src)
    png = proj / "9_reports" / "progress.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # 9. remove the worktree, keeping its branch
    user.run(proj, just, "wt-rm", SLUGS[0], src=src)
    assert not wt.exists()
    assert git(proj, "rev-parse", "--short", f"exp/{SLUGS[0]}") == row["commit"]

    # 10. commit the record on main, and check passes
    user.run(proj, "git", "add", "1_ideas", "9_reports", "RESEARCH_JOURNAL.md", "results.tsv", src=src)
    user.run(proj, "git", "commit", "-qm", f"record: {SLUGS[0]}", src=src)
    out = user.run(proj, just, "check", src=src)
    assert "check: ok" in out
