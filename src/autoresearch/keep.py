"""`autoresearch keep SLUG`: the champion line. main holds the best code; a change joins it only when
it beats main's code beyond the noise, so every later worktree starts from the win and wins stack.

The rule: exp/SLUG must have forked from main's current code (merge main into it first if a win was
kept meanwhile), then both versions run the calibrated number of seeds (the missing ones are run
here, in temporary worktrees), and the paired comparison must say `better`: the whole 95% interval
of the paired differences on the better side, AND the mean gain larger than the calibrated noise
threshold. Then, with `[tool.autoresearch] keep = "agent"`, exp/SLUG is merged into main
(`git merge --no-ff`, from the root checkout); with keep = "researcher" the merge command is printed
for the morning. Every decision, kept or refused, is journaled with its numbers. Usage:

    autoresearch keep rotary-base [--profile cpu]      (or: just keep rotary-base)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from autoresearch import fingerprints, repo, stats
from autoresearch.compare import Comparison, Side, paired, per_seed, run_seeds
from autoresearch.errors import UserError

if TYPE_CHECKING:
    from autoresearch.config import Config
    from autoresearch.paths import Project


@dataclass(frozen=True)
class Decision:
    slug: str
    kept: bool
    merged: bool
    """False when the researcher merges (keep = "researcher") or when refused"""
    why: str
    comparison: Comparison
    threshold: float
    merge_command: str


def keep(project: Project, config: Config, slug: str, profile: str | None = None, budget: str = "units") -> Decision:
    from autoresearch import ideas, journal, results

    root, main = project.root, config.main_branch
    branch = f"exp/{slug}"
    tip = repo.resolve(root, f"refs/heads/{branch}")
    if tip is None:
        raise UserError(
            f"no branch {branch}; `just wts` lists the experiments (keep merges an experiment branch into {main})"
        )
    worktree = project.worktrees / slug
    if worktree.exists() and fingerprints.code_hash(worktree, config) != fingerprints.code_hash_at(root, tip, config):
        raise UserError(
            f"5_worktrees/{slug} has uncommitted code; commit it (`git -C 5_worktrees/{slug} commit -am ...`) and keep again"
        )
    champion = fingerprints.code_hash_at(root, main, config)
    candidate = fingerprints.code_hash_at(root, tip, config)
    if candidate == champion:
        raise UserError(f"{branch} has the same code as {main} ({champion}): there is nothing to keep")
    fork = repo.merge_base(root, main, tip)
    if fork is None or fingerprints.code_hash_at(root, fork, config) != champion:
        raise UserError(
            f"{main}'s code changed since {branch} forked (a win was kept meanwhile), so {slug} was not tested against the current "
            f"champion: merge it in (`git -C 5_worktrees/{slug} merge {main}`), then `just keep {slug}` again"
        )
    calibrations = stats.load_all_calibrations(project.calibration)
    profile = profile or _only_profile(calibrations)
    calibration = calibrations.get(profile)
    if calibration is None:
        raise UserError(
            f"profile {profile} is not calibrated, so the noise is unknown: run `just calibrate --profile {profile}` first"
        )
    seeds, threshold = len(calibration["seeds"]), float(calibration["threshold"])
    a = Side(main, champion, repo.resolve(root, main))
    b = Side(slug, candidate, tip, idea=slug)
    record = results.load(project, config)
    for side in (a, b):
        have = per_seed(record, side, profile, budget)
        run_seeds(project, side, profile, [s for s in range(seeds) if s not in have], budget)
    c = paired(results.load(project, config), a, b, profile, budget)
    gain = config.metric.gain(stats.mean(c.xs), stats.mean(c.ys))
    if c.verdict != "better":
        why = f"the paired interval is {c.verdict}: [{c.paired.ci_low:+.6f}, {c.paired.ci_high:+.6f}] over {c.paired.n} seeds includes no clear gain"
    elif gain <= threshold:
        why = f"the mean gain {gain:+.6f} is not beyond the calibrated noise threshold {threshold:.6f}"
    else:
        why = f"mean gain {gain:+.6f} > threshold {threshold:.6f}, interval [{c.paired.ci_low:+.6f}, {c.paired.ci_high:+.6f}] over {c.paired.n} seeds"
    kept = c.verdict == "better" and gain > threshold
    message = f"keep({slug}): {config.metric.name} {stats.mean(c.xs):.6f} -> {stats.mean(c.ys):.6f} over seeds {c.seeds} ({profile})"
    command = f"git merge --no-ff -m {message!r} {branch}"
    has_idea = slug in ideas.idea_paths(project)  # an exp/ branch made by hand may have no idea file
    merged = False
    if kept and config.keep == "agent":
        _merge(project, config, branch, message)
        merged = True
        if has_idea:
            ideas.set_field(project, slug, "status", "kept")
    title = f"keep {slug}: {'kept' if merged else 'proposed for the researcher' if kept else 'refused'}, {config.metric.name} gain {gain:+.4f}"
    observation = (
        f"Paired over seeds {c.seeds} of profile {profile}: main's code {champion} mean {stats.mean(c.xs):.6f}, "
        f"{slug}'s code {candidate} mean {stats.mean(c.ys):.6f}; 95% interval of B - A [{c.paired.ci_low:+.6f}, {c.paired.ci_high:+.6f}]; "
        f"noise threshold {threshold:.6f}."
    )
    inference = f"{why}. " + (
        "Merged into main: new worktrees start from it."
        if merged
        else f"The researcher merges it: `{command}`."
        if kept
        else "Not kept; the branch stays for reference."
    )
    journal.add_entry(project, "research", title, slug if has_idea else "", observation, inference)
    return Decision(slug, kept, merged, why, c, threshold, command)


def _only_profile(calibrations: dict[str, dict]) -> str:
    if len(calibrations) == 1:
        return next(iter(calibrations))
    if not calibrations:
        raise UserError("nothing is calibrated, so the noise is unknown: run `just calibrate` first")
    raise UserError(f"profiles {', '.join(sorted(calibrations))} are calibrated; choose one with --profile")


def _merge(project: Project, config: Config, branch: str, message: str) -> None:
    root, main = project.root, config.main_branch
    if repo.branch(root) != main:
        raise UserError(f"the root checkout {root} is not on {main}; check out {main} there, then keep again")
    if fingerprints.code_hash(root, config) != fingerprints.code_hash_at(root, main, config):
        raise UserError("the root checkout has uncommitted code changes; commit or stash them, then keep again")
    out = repo.run(root, "merge", "--no-ff", "-m", message, branch, ok=(0, 1, 128))
    if out.returncode != 0:
        said = (out.stdout + out.stderr).decode(errors="replace").strip().splitlines()
        repo.run(root, "merge", "--abort", ok=(0, 128))
        raise UserError(
            f"merging {branch} into {main} failed ({said[-1] if said else 'no message'}); nothing was merged: resolve it in the worktree (`git merge {main}` there) and keep again"
        )
