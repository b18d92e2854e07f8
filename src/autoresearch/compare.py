"""`autoresearch compare A B`: is B better than A beyond the noise? Seeds paired across the two, a t-interval on the differences.

Usage: autoresearch compare main rotary-base [--seeds 3] [--profile cpu]   (or: just compare A B --seeds 3)

A version is identified by the content of the agent's code (the row's `code` hash), so record
commits on main never orphan its rows. A and B are each an idea slug (the tip of exp/<slug>, or the
code of the idea's newest row when the branch is gone), a git revision (main, HEAD~1, a commit) or a
code hash from results.tsv. A side's value at a seed is the mean of its ok rows of that profile,
budget mode and seed. With --seeds N the seeds 0..N-1 that a side lacks are run first, in a
temporary detached worktree of its commit; those rows land in the root results.tsv like any other.
The interval is the paired Student-t interval (or a percentile bootstrap with --method bootstrap)
of B - A over the common seeds; the verdict (`stats.compare_verdict`) is `better` or `worse` only
when the whole interval lies on one side of zero.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from autoresearch import fingerprints, repo, stats
from autoresearch.errors import UserError

if TYPE_CHECKING:
    from autoresearch.config import Config
    from autoresearch.paths import Project
    from autoresearch.results import Record


@dataclass(frozen=True)
class Side:
    name: str
    """as given on the command line"""
    code: str
    """code hash: the version"""
    commit: str | None
    """a commit with this code, to run missing seeds in (None when only rows know it)"""
    idea: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} (code {self.code})"


def resolve(project: Project, config: Config, record: Record, name: str) -> Side:
    """The version `name` stands for: an idea slug, a git revision, or a code hash in results.tsv."""
    import polars as pl

    root = project.root
    tip = repo.resolve(root, f"refs/heads/exp/{name}")
    if tip:
        return Side(name, fingerprints.code_hash_at(root, tip, config), tip, idea=name)
    of_idea = record.ok(record.df.filter(pl.col("idea") == name))
    if of_idea.height:
        last = of_idea.row(-1, named=True)
        return Side(name, last["code"], _known_commit(root, [last["commit"]]), idea=name)
    commit = repo.resolve(root, name)
    if commit:
        return Side(name, fingerprints.code_hash_at(root, commit, config), commit)
    if re.fullmatch(r"[0-9a-f]{4,12}", name):
        codes = sorted({c for c in record.df["code"].drop_nulls().to_list() if c.startswith(name)})
        if len(codes) > 1:
            raise UserError(f"{name!r} matches the code hashes {', '.join(codes)} in results.tsv; give more of it")
        if codes:
            commits = record.df.filter(pl.col("code") == codes[0])["commit"].to_list()
            return Side(name, codes[0], _known_commit(root, commits))
    raise UserError(
        f"{name!r} is not an idea branch exp/{name} or an idea with rows, nor a git revision or a code hash in results.tsv; "
        "name an idea (`just ideas`), main, a commit, or a code hash (`just results`)"
    )


def _known_commit(root: Path, commits: list[str]) -> str | None:
    """The newest clean (not -dirty) commit of `commits` that git has: rows may come from another clone."""
    clean = [c for c in commits if c and not c.endswith("-dirty")]
    exists = repo.objects_exist(root, clean)
    return next((c for c in reversed(clean) if exists[c]), None)


def per_seed(record: Record, side: Side, profile: str, budget: str) -> dict[int, list[float]]:
    rows = record.of_code(side.code, profile, budget)
    values: dict[int, list[float]] = {}
    for seed, value in zip(rows["seed"].to_list(), rows[record.value].to_list()):
        values.setdefault(seed, []).append(value)
    return values


def choose_profile(record: Record, sides: list[Side]) -> str:
    import polars as pl

    profiles = sorted(
        set(record.ok(record.df.filter(pl.col("code").is_in([s.code for s in sides])))["profile"].to_list())
    )
    if len(profiles) == 1:
        return profiles[0]
    names = " and ".join(s.label for s in sides)
    if not profiles:
        raise UserError(f"{names} have no ok rows yet; name the profile to run them on: --profile cpu --seeds 3")
    raise UserError(f"{names} have rows in profiles {', '.join(profiles)}; choose one with --profile")


def run_seeds(
    project: Project, side: Side, profile: str, seeds: list[int], budget: str = "units", kind: str = "experiment"
) -> None:
    """Run eval.py for `seeds` in a temporary detached worktree of the side's commit; its rows go to the root."""
    if not seeds:
        return
    if side.commit is None:
        raise UserError(
            f"{side.label} has no clean commit to run its missing seeds {seeds} in; commit it, or compare without --seeds"
        )
    tmp = Path(tempfile.mkdtemp(prefix=f"autoresearch-{side.code}-"))
    checkout = tmp / "checkout"
    try:
        repo.git(project.root, "worktree", "add", "-q", "--detach", str(checkout), side.commit)
        for seed in seeds:
            summary = tmp / f"seed{seed}.json"
            args = [
                "--profile",
                profile,
                "--seed",
                str(seed),
                "--budget",
                budget,
                "--kind",
                kind,
                "--summary",
                str(summary),
            ]
            if side.idea:
                args += ["--idea", side.idea]
            print(f"{side.name}: running seed {seed} ({profile}) at {side.commit[:12]}", file=sys.stderr, flush=True)
            done = subprocess.run([sys.executable, "eval.py", *args], cwd=checkout, stdout=subprocess.DEVNULL)
            figures = json.loads(summary.read_text())[-1] if summary.exists() else {}
            if done.returncode != 0:
                why = figures.get("error") or f"exit code {done.returncode}"
                raise UserError(
                    f"{side.label} seed {seed} crashed ({why}); its row is in results.tsv; fix the code, or compare without --seeds"
                )
    finally:
        if checkout.exists():
            repo.git(project.root, "worktree", "remove", "--force", str(checkout))
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass(frozen=True)
class Comparison:
    a: Side
    b: Side
    profile: str
    budget: str
    seeds: list[int]
    xs: list[float]
    ys: list[float]
    counts: list[tuple[int, int]]
    unpaired: list[int]
    paired: stats.Paired
    verdict: str
    metric_name: str
    direction: str


def paired(record: Record, a: Side, b: Side, profile: str, budget: str, method: str = "t") -> Comparison:
    values = [per_seed(record, side, profile, budget) for side in (a, b)]
    common = sorted(set(values[0]) & set(values[1]))
    if len(common) < 2:
        have = "; ".join(f"{s.label}: seeds {sorted(v) or 'none'}" for s, v in zip((a, b), values))
        raise UserError(
            f"{a.name} and {b.name} share {len(common)} seed(s) of profile {profile} ({have}); pairing needs at least 2: rerun with --seeds 3"
        )
    _same_split(record, [a, b], profile)
    xs = [stats.mean(values[0][s]) for s in common]
    ys = [stats.mean(values[1][s]) for s in common]
    p = stats.paired_difference(xs, ys, method=method)
    unpaired = sorted((set(values[0]) | set(values[1])) - set(common))
    counts = [(len(values[0][s]), len(values[1][s])) for s in common]
    metric = record.metric
    return Comparison(
        a,
        b,
        profile,
        budget,
        common,
        xs,
        ys,
        counts,
        unpaired,
        p,
        stats.compare_verdict(p, metric.direction),
        metric.name,
        metric.direction,
    )


def _same_split(record: Record, sides: list[Side], profile: str) -> None:
    import polars as pl

    rows = record.ok(record.df.filter(pl.col("code").is_in([s.code for s in sides]) & (pl.col("profile") == profile)))
    hashes = sorted({h for h in rows["val_hash"].to_list() if h})
    if len(hashes) > 1:
        raise UserError(
            f"the rows of {' and '.join(s.name for s in sides)} were scored on different validation splits (val_hash {', '.join(hashes)}); they are not comparable"
        )


def compare(
    project: Project,
    config: Config,
    a: str,
    b: str,
    seeds: int = 0,
    profile: str | None = None,
    method: Literal["t", "bootstrap"] = "t",
    budget: str = "units",
) -> Comparison:
    """Resolve A and B, run missing seeds when asked, and pair them."""
    from autoresearch import results

    if seeds < 0:
        raise UserError(f"--seeds {seeds}: give the number of seeds each side needs (0..N-1), e.g. --seeds 3")
    if profile == "smoke":
        raise UserError(
            "profile smoke writes no results rows, so there is nothing to compare; use --profile cpu (or cuda)"
        )
    record = results.load(project, config)
    sides = [resolve(project, config, record, a), resolve(project, config, record, b)]
    if sides[0].code == sides[1].code:
        raise UserError(f"{a} and {b} are the same code ({sides[0].code}); compare two different versions")
    profile = profile or choose_profile(record, sides)
    if seeds:
        for side in sides:
            have = per_seed(record, side, profile, budget)
            run_seeds(project, side, profile, [s for s in range(seeds) if s not in have], budget)
        record = results.load(project, config)
    return paired(record, sides[0], sides[1], profile, budget, method)


def render(c: Comparison) -> list:
    from autoresearch import ui

    t = ui.table("seed", "A", "B", "B - A", right=("seed", "A", "B", "B - A"))
    for seed, x, y, (na, nb) in zip(c.seeds, c.xs, c.ys, c.counts):
        note = "" if (na, nb) == (1, 1) else f"  (mean of {na} / {nb} rows)"
        t.add_row(str(seed), f"{x:.6f}", f"{y:.6f}", f"{y - x:+.6f}{note}")
    p = c.paired
    how = "paired Student-t interval" if p.method == "t" else "percentile bootstrap interval, 10,000 resamples"
    lines = [
        f"compare {c.metric_name}, profile {c.profile} (budget {c.budget}): A = {c.a.label}, B = {c.b.label}",
        t,
    ]
    if c.unpaired:
        lines.append(f"seeds {c.unpaired} are on one side only: left out of the pairing")
    lines.append(
        f"mean difference B - A: {p.mean_diff:+.6f}; {p.confidence:.0%} {how} [{p.ci_low:+.6f}, {p.ci_high:+.6f}] over {p.n} seeds; p = {p.p_value:.3g}"
    )
    lines.append(
        f"verdict: B is {c.verdict} relative to A ({c.direction} {c.metric_name} is better; better/worse only when the interval excludes 0)"
    )
    return lines
