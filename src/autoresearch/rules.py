"""What the guards share: the project's taxonomy, committed and staged file contents, the rule texts.

`check`, the git hook (`guard commit`) and the agent hook (`guard agent`) all explain a refusal with
the same words, so they come from here. Plain `git` subprocesses, no GitPython. Usage:

    tax = load_taxonomy(project)                    # main's committed [tool.autoresearch]; UserError when none
    blobs = read_blobs(checkout, ["main:eval.py", ":eval.py"])   # spec -> bytes, or None if absent
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from autoresearch.errors import UserError
from autoresearch.taxonomy import Taxonomy

if TYPE_CHECKING:
    from autoresearch.paths import Project

WHERE = "program.md, 'Which files you may touch'"
ASK_HUMAN = "only the researcher may allow it, by writing META_MODE=1 in a new human_journal.md entry"


def taxonomy_from_text(text: str) -> Taxonomy | None:
    """The taxonomy in a pyproject.toml text, or None when it has no [tool.autoresearch] table."""
    try:
        table = tomllib.loads(text).get("tool", {}).get("autoresearch")
    except tomllib.TOMLDecodeError:
        return None
    if not table or not all(k in table for k in ("frozen", "global", "append_only")):
        return None
    return Taxonomy.from_table(table)


def project_taxonomy(project: Project) -> Taxonomy | None:
    """The taxonomy as committed on the main branch, so that editing pyproject.toml cannot loosen it;
    the working copy's until main has one. None when neither has a [tool.autoresearch] table."""
    path = project.pyproject
    local = taxonomy_from_text(path.read_text(encoding="utf-8")) if path.exists() else None
    main = local.main_branch if local else "main"
    committed = read_blobs(project.root, [f"{main}:pyproject.toml"])[f"{main}:pyproject.toml"]
    return (taxonomy_from_text(committed.decode("utf-8", "replace")) if committed else None) or local


def load_taxonomy(project: Project) -> Taxonomy:
    tax = project_taxonomy(project)
    if tax is None:
        raise UserError(f"{project.pyproject}: no readable [tool.autoresearch] table (frozen, global, append_only); restore it with `git checkout pyproject.toml`")
    return tax


def run_git(checkout: Path, *args: str, ok: tuple[int, ...] = (0,)) -> str:
    out = subprocess.run(["git", *args], cwd=checkout, capture_output=True, text=True)
    if out.returncode not in ok:
        raise UserError(f"git {' '.join(args)} failed in {checkout}: {out.stderr.strip()}")
    return out.stdout


def rev_exists(checkout: Path, rev: str) -> bool:
    return subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=checkout, capture_output=True).returncode == 0


def read_blobs(checkout: Path, specs: Iterable[str]) -> dict[str, bytes | None]:
    """Contents of `rev:path` / `:path` (staged) / blob-sha specs in one `git cat-file --batch`; None when absent."""
    specs = list(dict.fromkeys(specs))
    if not specs:
        return {}
    out = subprocess.run(
        ["git", "cat-file", "--batch"], cwd=checkout, input="".join(s + "\n" for s in specs).encode(), capture_output=True
    )
    if out.returncode != 0:
        raise UserError(f"git cat-file failed in {checkout}: {out.stderr.decode().strip()}")
    data, pos, found = out.stdout, 0, {}
    for spec in specs:
        end = data.index(b"\n", pos)
        head = data[pos:end].split()
        pos = end + 1
        if head[-1] in (b"missing", b"ambiguous") or len(head) != 3:
            found[spec] = None
            continue
        size = int(head[2])
        found[spec] = data[pos : pos + size] if head[1] == b"blob" else None
        pos += size + 1
    return found


def frozen_problem(rel: str, fix: str) -> str:
    return f"{rel} is FROZEN ({WHERE}) and META_MODE is off: {fix}; {ASK_HUMAN}"


def global_problem(rel: str, where: str, fix: str) -> str:
    return (
        f"{rel} is GLOBAL ({WHERE}): it is committed only from the main checkout, not {where}; {fix}. "
        "Rows and journal entries go to the root copy by themselves (`just eval`, `just journal`)"
    )
