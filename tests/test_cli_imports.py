"""The bookkeeping CLI starts fast: importing it loads nothing heavy, and its commands never load torch.

Each check runs in a fresh interpreter, since this test process has long imported everything.
The start-up times themselves are measured by bench/cli_startup.py, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
HEAVY = ("torch", "polars", "git", "loguru", "rich", "matplotlib", "numpy", "jaxtyping")


def loaded_after(code: str, cwd: Path) -> list[str]:
    """The HEAVY packages in sys.modules after running `code` in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    env = os.environ | {"PYTHONPATH": os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=cwd, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_cli_loads_no_heavy_package(tmp_path):
    assert loaded_after("import autoresearch.cli", tmp_path) == []


def test_bookkeeping_commands_never_import_torch(project):
    commands = [
        ["idea", "new", "some-idea", "--title", "Some idea"],
        ["idea", "count"],
        ["idea", "list"],
        ["journal", "add", "--title", "an entry", "--observation", "a fact"],
        ["results", "best"],
        ["status"],
    ]
    code = "import contextlib, io\nfrom autoresearch.cli import main\n" + "".join(
        f"with contextlib.redirect_stdout(io.StringIO()):\n    assert main({c!r}) == 0, {c!r}\n" for c in commands
    )
    assert "torch" not in loaded_after(code, project)
