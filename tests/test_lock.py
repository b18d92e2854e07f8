"""The locked environment: uv.lock made from this pyproject.toml, constraints.txt its pip export, the venv made from it.

`just lock` writes both files; setup.sh installs with constraints.txt. These tests say "run `just lock`"
when pyproject.toml changed without it, and "run `bash setup.sh`" when the venv drifted from the lock.
"""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
LOCK = tomllib.loads((REPO / "uv.lock").read_text())
PACKAGES = {(canonicalize_name(p["name"]), p["version"]) for p in LOCK["package"] if p["name"] != "autoresearch"}


def constraints() -> list[Requirement]:
    lines = (REPO / "constraints.txt").read_text().splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]


def normalized(reqs: list[Requirement]) -> set[tuple[str, str, str]]:
    return {(canonicalize_name(r.name), str(r.specifier), str(r.marker or "")) for r in reqs}


def test_uv_lock_was_made_from_this_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    declared = [Requirement(r) for r in project["project"]["dependencies"]]
    for extra, reqs in project["project"]["optional-dependencies"].items():
        declared += [Requirement(f"{r} ; extra == '{extra}'") for r in reqs]
    (me,) = [p for p in LOCK["package"] if p["name"] == "autoresearch"]
    locked = [Requirement(f"{d['name']}{d.get('specifier', '')}" + (f" ; {d['marker']}" if "marker" in d else ""))
              for d in me["metadata"]["requires-dist"]]
    assert normalized(locked) == normalized(declared), "pyproject.toml's dependencies changed after uv.lock was made: run `just lock`"
    pins = [Requirement(f"{c['name']}{c['specifier']}") for c in LOCK["manifest"]["constraints"]]
    uv_pins = [Requirement(r) for r in project["tool"]["uv"]["constraint-dependencies"]]
    assert normalized(pins) == normalized(uv_pins), "[tool.uv] constraint-dependencies changed after uv.lock was made: run `just lock`"


def test_constraints_txt_is_the_pip_export_of_uv_lock() -> None:
    exported = {(canonicalize_name(r.name), str(r.specifier).removeprefix("==")) for r in constraints()}
    assert all(str(r.specifier).startswith("==") for r in constraints()), "constraints.txt pins every package exactly"
    assert exported == PACKAGES, "constraints.txt is not the export of uv.lock: run `just lock`"


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
    unlocked = sorted(needed - {name for name, _ in PACKAGES})
    assert not unlocked, f"installed but not in uv.lock: {', '.join(unlocked)}; add them to pyproject.toml and run `just lock`"
