"""`autoresearch compare A B`: is B better than A beyond the noise? Seeds paired across the two, a t-interval on the differences.

Usage: autoresearch compare BASELINE_COMMIT rotary-base [--seeds 3] [--profile cpu]   (or: just compare A B --seeds 3)

A and B are each a commit (a prefix of the `commit` column, or anything git can name: main,
HEAD~1) or an idea slug. An idea slug stands for the commit of its newest row (`idea` column or
branch exp/<slug>), or for the tip of exp/<slug> when it has no row yet. A side's value at a seed
is the mean of its ok rows of that commit, profile and seed (rows marked -dirty count as their
commit; the table shows them). With --seeds N the seeds 0..N-1 that a side lacks are run first, in
a temporary detached worktree of its commit, so both sides have every seed; those rows land in the
root results.tsv like any other. The interval is the paired Student-t interval (or a percentile
bootstrap with --method bootstrap) of B - A over the common seeds; the verdict (`stats.compare_verdict`)
is `better` or `worse` only when the whole interval lies on one side of zero.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from autoresearch import stats
from autoresearch.errors import UserError

if TYPE_CHECKING:
    import polars as pl

    from autoresearch.paths import Project


@dataclass(frozen=True)
class Side:
    name: str
    """as given on the command line"""
    commit: str
    """short hash"""
    idea: str = ""
    """the idea slug, when the side was named by one"""

    @property
    def label(self) -> str:
        return self.name if self.name == self.commit else f"{self.name} ({self.commit})"


def same_commit(row_commit: str, commit: str) -> bool:
    """Whether a `commit` cell (maybe -dirty, maybe abbreviated differently) names `commit`."""
    base = row_commit.removesuffix("-dirty")
    return bool(base) and (base.startswith(commit) or commit.startswith(base))


def _ok_rows(df: pl.DataFrame, profile: str | None = None) -> pl.DataFrame:
    import polars as pl

    ok = df.filter(pl.col("status") == "ok")
    return ok if profile is None else ok.filter(pl.col("profile") == profile)


def _git(project: Project, *args: str) -> str | None:
    """stdout of a git command in the root checkout, or None when it fails."""
    from autoresearch.gitinfo import git

    try:
        return git(project.root, *args)
    except RuntimeError:
        return None


def resolve(project: Project, df: pl.DataFrame, name: str, profile: str | None) -> Side:
    """The commit that `name` (an idea slug, a commit prefix or a git revision) stands for."""
    import polars as pl

    ok = _ok_rows(df, profile)
    of_idea = ok.filter((pl.col("idea") == name) | (pl.col("branch") == f"exp/{name}"))
    if of_idea.height:
        return Side(name, of_idea["commit"][-1].removesuffix("-dirty"), idea=name)
    tip = _git(project, "rev-parse", "--verify", "--quiet", "--short", f"refs/heads/exp/{name}")
    if tip:
        return Side(name, tip, idea=name)
    if re.fullmatch(r"[0-9a-f]{4,40}", name):
        commits = sorted({c.removesuffix("-dirty") for c in ok["commit"] if same_commit(c, name)})
        if len(commits) > 1:
            raise UserError(f"{name!r} matches the commits {', '.join(commits)} in results.tsv; give more of the hash")
        if commits:
            return Side(name, commits[0])
    commit = _git(project, "rev-parse", "--verify", "--quiet", "--short", f"{name}^{{commit}}")
    if commit:
        return Side(name, commit)
    raise UserError(
        f"{name!r} is not an idea with rows or a branch exp/{name}, nor a commit in results.tsv or in git; "
        "name a commit (see `just results`) or an idea slug (see `just ideas`)"
    )


def _side_rows(df: pl.DataFrame, side: Side, profile: str | None) -> pl.DataFrame:
    import polars as pl

    ok = _ok_rows(df, profile)
    return ok.filter(pl.col("commit").map_elements(lambda c: same_commit(c, side.commit), return_dtype=pl.Boolean))


def choose_profile(df: pl.DataFrame, sides: list[Side]) -> str:
    profiles = sorted({p for side in sides for p in _side_rows(df, side, None)["profile"]})
    if len(profiles) == 1:
        return profiles[0]
    names = " and ".join(s.label for s in sides)
    if not profiles:
        raise UserError(f"{names} have no ok rows yet; name the profile to run them on: --profile cpu --seeds 3")
    raise UserError(f"{names} have rows in profiles {', '.join(profiles)}; choose one with --profile")


def per_seed(df: pl.DataFrame, side: Side, profile: str) -> dict[int, list[float]]:
    values: dict[int, list[float]] = {}
    for row in _side_rows(df, side, profile).iter_rows(named=True):
        values.setdefault(row["seed"], []).append(row["val_bpb"])
    return values


def run_missing(project: Project, df: pl.DataFrame, side: Side, profile: str, seeds: int) -> None:
    """Run the seeds 0..seeds-1 that `side` lacks, in a temporary detached worktree of its commit."""
    from autoresearch.gitinfo import git
    from autoresearch.summary import run_eval

    have = per_seed(df, side, profile)
    missing = [s for s in range(seeds) if s not in have]
    if not missing:
        return
    tmp = Path(tempfile.mkdtemp(prefix=f"autoresearch-compare-{side.commit}-"))
    checkout = tmp / "checkout"
    try:
        git(project.root, "worktree", "add", "--detach", str(checkout), side.commit)
    except RuntimeError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise UserError(f"cannot check out {side.label} to run its missing seeds {missing} ({' '.join(str(e).split())}); compare without --seeds") from None
    try:
        for seed in missing:
            print(f"compare: {side.label}: running seed {seed} ({profile}) in a temporary worktree", flush=True)
            args = ["--profile", profile, "--seed", str(seed)] + (["--idea", side.idea] if side.idea else [])
            out = run_eval(checkout, args)
            if out.returncode != 0:
                why = out.figures.get("error") or f"exit code {out.returncode}"
                raise UserError(f"{side.label} seed {seed} crashed ({why}); its row is in results.tsv; fix the code, or compare without --seeds")
    finally:
        git(project.root, "worktree", "remove", "--force", str(checkout))
        shutil.rmtree(tmp, ignore_errors=True)


def compare(project: Project, a: str, b: str, seeds: int = 0, profile: str | None = None, method: str = "t") -> int:
    """Resolve A and B, run missing seeds when asked, print the paired table, the interval and the verdict."""
    from autoresearch.results import read_results
    from autoresearch.taxonomy import Taxonomy

    if seeds < 0:
        raise UserError(f"--seeds {seeds}: give the number of seeds each side needs (0..N-1), e.g. --seeds 3")
    if profile == "smoke":
        raise UserError("profile smoke writes no results rows, so there is nothing to compare; use --profile cpu (or cuda)")
    df = read_results(project.results)
    sides = [resolve(project, df, a, profile), resolve(project, df, b, profile)]
    if sides[0].commit == sides[1].commit:
        raise UserError(f"{a} and {b} are the same commit {sides[0].commit}; compare two different versions")
    profile = profile or choose_profile(df, sides)
    if seeds:
        for side in sides:
            run_missing(project, df, side, profile, seeds)
        df = read_results(project.results)
    values = [per_seed(df, side, profile) for side in sides]
    common = sorted(set(values[0]) & set(values[1]))
    if len(common) < 2:
        have = "; ".join(f"{s.label}: seeds {sorted(v) or 'none'}" for s, v in zip(sides, values))
        raise UserError(
            f"{a} and {b} share {len(common)} seed(s) of profile {profile} ({have}); pairing needs at least 2: "
            f"rerun with --seeds 3"
        )
    hashes = sorted({h for side in sides for h in _side_rows(df, side, profile)["val_hash"] if h})
    if len(hashes) > 1:
        raise UserError(f"the rows of {a} and {b} were scored on different validation splits (val_hash {', '.join(hashes)}); they are not comparable")
    xs = [stats.mean(values[0][s]) for s in common]
    ys = [stats.mean(values[1][s]) for s in common]
    paired = stats.paired_difference(xs, ys, method=method)
    direction = Taxonomy.load(project.pyproject).direction
    print_comparison(sides, profile, common, xs, ys, values, paired, stats.compare_verdict(paired, direction), direction)
    return 0


def print_comparison(sides, profile, common, xs, ys, values, paired: stats.Paired, verdict: str, direction: str) -> None:
    from rich.table import Table

    from autoresearch.leaderboard import console

    a, b = sides
    table = Table()
    for column in ("seed", "A", "B", "B - A"):
        table.add_column(column, justify="right")
    for seed, x, y in zip(common, xs, ys):
        counts = [len(values[0][seed]), len(values[1][seed])]
        note = "" if counts == [1, 1] else f"  (mean of {counts[0]} / {counts[1]} rows)"
        table.add_row(str(seed), f"{x:.6f}", f"{y:.6f}", f"{y - x:+.6f}{note}")
    out = console()
    out.print(f"compare, profile {profile}: A = {a.label}, B = {b.label}", highlight=False)
    out.print(table)
    unpaired = sorted((set(values[0]) | set(values[1])) - set(common))
    if unpaired:
        out.print(f"seeds {unpaired} are on one side only: left out of the pairing")
    how = "paired Student-t interval" if paired.method == "t" else "percentile bootstrap interval, 10,000 resamples"
    out.print(
        f"mean difference B - A: {paired.mean_diff:+.6f}; {paired.confidence:.0%} {how} "
        f"[{paired.ci_low:+.6f}, {paired.ci_high:+.6f}] over {paired.n} seeds; p = {paired.p_value:.3g}"
    )
    better = "lower" if direction == "lower" else "higher"
    out.print(f"verdict: B is {verdict} relative to A ({better} is better; better/worse only when the interval excludes 0)")
