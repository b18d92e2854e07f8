"""`autoresearch results export --format karpathy`: results.tsv in karpathy/autoresearch's five columns.

His analysis notebook reads `commit <metric> memory_gb status description` with status keep, discard
or crash, where the keep rows are the improvements that stuck, in order. Here a keep row is the first
ok row of each version of the code that main has held (the starting code, then each win `just keep`
merged: the champion line, read from main's first-parent history); every other ok row is discard;
a crashed row is crash (with a metric of 0.0, as he writes it). Usage:

    autoresearch results export --format karpathy > karpathy.tsv
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from autoresearch import fingerprints, repo
from autoresearch.taxonomy import git_pathspecs

if TYPE_CHECKING:
    from autoresearch.config import Config
    from autoresearch.paths import Project


def champion_codes(project: Project, config: Config) -> list[str]:
    """The code hashes main has held, oldest first (from main's first-parent history)."""
    root, main = project.root, config.main_branch
    if not repo.rev_exists(root, main):
        return []
    commits = repo.git(
        root, "log", "--first-parent", "--reverse", "--format=%H", main, "--", *git_pathspecs(config.code)
    ).split()
    first = repo.git(root, "rev-list", "--max-parents=0", "--first-parent", main).split()[-1:]
    codes: list[str] = []
    for commit in [*first, *commits]:
        code = fingerprints.code_hash_at(root, commit, config)
        if code not in codes:
            codes.append(code)
    return codes


def karpathy(project: Project, config: Config) -> str:
    from autoresearch import results

    record = results.load(project, config)
    name = config.metric.name
    champions = set(champion_codes(project, config))
    seen: set[str] = set()
    lines = [f"commit\t{name}\tmemory_gb\tstatus\tdescription"]
    for row in record.df.iter_rows(named=True):
        if row["status"] != "ok" or row[name] is None:
            status, value = "crash", 0.0
        elif row["code"] in champions and row["code"] not in seen:
            status, value = "keep", row[name]
            seen.add(row["code"])
        else:
            status, value = "discard", row[name]
        description = row["description"] or ""
        if row["idea"]:
            description = f"{row['idea']}: {description}"
        memory = row["memory_gb"] or 0.0
        lines.append(
            f"{(row['commit'] or '').removesuffix('-dirty')[:7]}\t{value:.6f}\t{memory:.1f}\t{status}\t{' '.join(description.split())}"
        )
    return "\n".join(lines) + "\n"
