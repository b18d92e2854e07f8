"""The project's definition of done: the whole research loop, from `init` to `check`, on both shipped problems.

Usage: python -m pytest tests/test_end_to_end.py -q -m slow     (a few minutes on two CPU cores)

In a temporary folder with real git, real worktrees and real processes (`just`, `python eval.py`, the
confined training process, the git hooks), a new user makes a project from the template (`init
--example lm`, the language model, val_bpb, lower is better; `--example digits`, the image classifier,
accuracy, higher is better) and follows program.md step by step: smoke, calibrate, an idea with its
critique and rating, a worktree, a real change, an eval from the worktree, compare, keep, report,
journal, status, leaderboard, plot, the queue, check. Every view must speak of the project's metric.

One honest shortcut, what a researcher may do: after `init`, in META_MODE and committed on main like
any such change, they shrink eval.py's `cpu` profile to a few seconds of training, so that row-writing
runs fit in a test. "Set up" is not `bash setup.sh` (that is the README's first command, which
`.ci/run` proves on a fresh machine): this interpreter has every dependency, `autoresearch` on PATH is
a two-line shim for it, and init installed the hooks.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROBLEMS = {
    # example: (metric, higher is better, the shrunk cpu budget, the change an experiment makes to train.py)
    "lm": (
        "val_bpb",
        False,
        ("budget=1_048_576", "budget=40_960, window=(1, 600)"),
        ("MATRIX_LR = 0.02", "MATRIX_LR = 0.03"),
    ),
    "digits": ("accuracy", True, ("budget=65_536", "budget=8_192"), ("LR = 3e-3", "LR = 6e-3")),
}


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
        self.env |= {
            "PATH": path,
            "GIT_CONFIG_GLOBAL": str(gitconfig),
            "GIT_CONFIG_NOSYSTEM": "1",
            "NO_COLOR": "1",
            "COLUMNS": "200",
        }

    def run(self, cwd: Path, *cmd: str, ok: bool = True, **extra: str) -> str:
        out = subprocess.run(cmd, cwd=cwd, env=self.env | extra, capture_output=True, text=True, timeout=900)
        if ok and out.returncode != 0:
            raise AssertionError(
                f"`{' '.join(cmd)}` exited {out.returncode} in {cwd}:\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}"
            )
        return out.stdout + out.stderr


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path.name} no longer has {old!r}: update this test's edit"
    path.write_text(text.replace(old, new))


@pytest.mark.slow
@pytest.mark.parametrize("example", sorted(PROBLEMS))
def test_a_new_user_runs_the_whole_loop(tmp_path: Path, example: str) -> None:
    metric, higher, budget, change = PROBLEMS[example]
    user = User(tmp_path)
    proj = tmp_path / "proj"
    out = user.run(
        tmp_path, "autoresearch", "init", str(proj), "--example", example, "--project", "A test of the whole loop."
    )
    assert "created" in out and (proj / ".git").is_dir()
    assert (proj / "results.tsv").read_text().startswith(f"commit\t{metric}\tmemory_gb\tstatus\tdescription\t")

    # The researcher fits the cpu profile to the test (META_MODE: eval.py is FROZEN), committed on main.
    edit(proj / "eval.py", budget[0], budget[1])
    edit(proj / "pyproject.toml", f"meaningful_effect = {0.02}", "meaningful_effect = 0.5")
    user.run(proj, "git", "commit", "-qam", "a budget that fits a test", META_MODE="1")
    assert "Meta-Mode:" in user.run(proj, "git", "log", "-1", "--format=%B")  # the hook stamped it

    assert f"{metric}:" in user.run(proj, "just", "smoke")
    calibration = user.run(
        proj, "just", "calibrate", "--profile", "cpu", "--seeds", "2", ok=False
    )  # a tiny budget is noisy: it may fail its checks
    assert "recorded in" in calibration and "threshold" in calibration
    user.run(proj, "git", "add", ".autoresearch", "RESEARCH_JOURNAL.md", "results.tsv")
    user.run(proj, "git", "commit", "-qm", "record: calibration")

    slug = "faster-learning"
    user.run(
        proj,
        "just",
        "idea",
        slug,
        "A higher learning rate",
        "--hypothesis",
        "twice the rate learns more per unit of budget",
    )
    (tmp_path / "critique.md").write_text("Sound, but may diverge; compare on two seeds.\n")
    user.run(proj, "just", "critique", slug, "--file", str(tmp_path / "critique.md"))
    user.run(proj, "just", "rate", slug, "7")
    user.run(proj, "git", "add", "1_ideas", "RESEARCH_JOURNAL.md")
    user.run(proj, "git", "commit", "-qm", "ideas")

    user.run(proj, "just", "wt", slug)
    tree = proj / "5_worktrees" / slug
    edit(tree / "train.py", change[0], change[1])
    user.run(tree, "just", "smoke")
    user.run(tree, "git", "commit", "-qam", f"exp({slug}): a higher learning rate")
    out = user.run(tree, "just", "eval", "--profile", "cpu", ok=False)
    assert len(out.splitlines()) <= 20 and f"{metric}:" in out
    lines = (proj / "results.tsv").read_text().splitlines()
    row = dict(zip(lines[0].split("\t"), lines[-1].split("\t")))
    assert row["idea"] == slug and row["status"] == "ok" and row["verdict"] in ("better", "within-noise", "worse")
    assert (
        row["sig"]
        and (proj / row["run"] / "log.txt").exists()
        and (proj / row["run"] / "diff.patch").read_text().count(change[1])
    )
    assert (
        user.run(tree, "git", "status", "--porcelain", "results.tsv") == ""
    )  # the row went to the root, not the worktree's copy

    compared = user.run(proj, "just", "compare", "main", slug, "--seeds", "2")
    assert f"compare {metric}" in compared and ("higher" if higher else "lower") + f" {metric} is better" in compared
    kept = user.run(proj, "just", "keep", slug, ok=False)
    assert "keep: KEPT" in kept or "keep: refused" in kept
    assert f"keep {slug}" in (proj / "RESEARCH_JOURNAL.md").read_text()

    report = next(Path(line) for line in user.run(proj, "just", "report", slug).splitlines() if line.endswith(".md"))
    assert report.parent == proj / "9_reports" and metric in report.read_text()
    user.run(
        proj,
        "just",
        "journal",
        f"{slug}: a first result",
        "--slug",
        slug,
        "--observation",
        "one row",
        "--inference",
        "too early to tell",
    )

    status = user.run(proj, "just", "status")
    assert f"{metric}, {'higher' if higher else 'lower'} is better" in status and "Next:" in status
    assert slug in user.run(proj, "just", "leaderboard", "--by", "idea")
    plot = next(Path(line) for line in user.run(proj, "just", "plot").splitlines() if line.endswith(".png"))
    assert plot.stat().st_size > 10_000 and oct(plot.stat().st_mode & 0o777) == "0o644"

    if shutil.which("tsp"):
        label = "Q: does the queue work here? H: one row with this label"
        user.run(proj, "just", "queue", label, "python", "eval.py", "--profile", "cpu", "--seed", "5")
        user.run(proj, "just", "queue-wait")
        review = user.run(proj, "just", "queue-review")
        assert "does the queue work here?" in review and f"observed {metric}" in review

    user.run(proj, "git", "add", "1_ideas", "9_reports", "RESEARCH_JOURNAL.md", "results.tsv")
    user.run(proj, "git", "commit", "-qm", f"record: {slug}")
    check = user.run(proj, "just", "check")
    assert re.search(r"check: ok", check), check
