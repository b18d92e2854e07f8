"""The locked environment: constraints.txt, resolved by uv for every platform from this pyproject.toml, and the venv made from it.

`just lock` writes it (uv pip compile --universal: the CUDA build's packages are pinned too, with their
markers); setup.sh installs exactly it. A uv.lock is not kept: it is the same resolution, and it
names the download hosts of every file. These tests say "run `just lock`" when pyproject.toml's
dependencies changed without it, and "run `bash setup.sh`" when the venv drifted from the lock.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import tomllib
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]


def constraints() -> list[Requirement]:
    lines = (REPO / "constraints.txt").read_text().splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]


def normalized(reqs: list[Requirement]) -> set[tuple[str, str, str]]:
    return {(canonicalize_name(r.name), str(r.specifier), str(r.marker or "")) for r in reqs}


def test_constraints_txt_was_made_from_this_pyproject() -> None:
    p = tomllib.loads((REPO / "pyproject.toml").read_text())
    tables = [p["project"]["dependencies"], p["project"]["optional-dependencies"], p["tool"]["uv"]]
    digest = hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()[:16]
    first = (REPO / "constraints.txt").read_text().splitlines()[0]
    assert first == f"# dependencies of pyproject.toml: {digest}", (
        "pyproject.toml's dependencies changed after the lock was made: run `just lock`"
    )
    assert all(str(r.specifier).startswith("==") for r in constraints()), "constraints.txt pins every package exactly"


def test_torch_is_locked_to_one_release() -> None:
    torch = [r for r in constraints() if r.name == "torch"]
    assert len(torch) == 1 and not torch[0].marker and str(torch[0].specifier).startswith("==")


def test_the_venv_has_the_locked_versions_and_nothing_unlocked() -> None:
    """Every locked package installed here has its locked version (a local build label aside: 2.13.0+cpu),
    and every package that autoresearch[dev] needs, all the way down, is in the lock."""
    env = default_environment()
    drifted = []
    for req in constraints():
        if req.marker and not req.marker.evaluate(env):
            continue
        try:
            installed = Version(importlib.metadata.version(req.name))
        except importlib.metadata.PackageNotFoundError:
            continue  # e.g. the CUDA packages on a CPU machine
        if Version(installed.public) not in req.specifier:
            drifted.append(f"{req.name} {installed} (locked {req.specifier})")
    assert not drifted, f"the venv differs from constraints.txt: {', '.join(drifted)}; run `bash setup.sh`"
    needed, todo = set(), [("autoresearch", frozenset({"dev"}))]
    while todo:
        name, extras = todo.pop()
        for line in importlib.metadata.requires(name) or []:
            req = Requirement(line)
            if req.marker and not any(req.marker.evaluate(env | {"extra": e}) for e in extras | {""}):
                continue
            key = canonicalize_name(req.name)
            if key not in needed:
                needed.add(key)
                todo.append((req.name, frozenset(req.extras)))
    unlocked = sorted(
        needed
        - {
            name
            for name, _ in {(canonicalize_name(r.name), str(r.specifier).removeprefix("==")) for r in constraints()}
        }
    )
    assert not unlocked, (
        f"installed but not in constraints.txt: {', '.join(unlocked)}; add them to pyproject.toml and run `just lock`"
    )
