"""The suite survives the agent's work: with train.py and model.py replaced by a different working
architecture (tests/fixtures/alt_lm, a causal convolutional model), the baseline's property tests still
pass, and no other test reads or patches the project's train.py, model.py or eval.py."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent


@pytest.mark.slow
def test_the_baseline_properties_hold_for_a_different_architecture(tmp_path: Path) -> None:
    shutil.copytree(TESTS, tmp_path / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("train.py", "model.py"):
        shutil.copy2(TESTS / "fixtures" / "alt_lm" / name, tmp_path / name)
    for name in ("RESEARCH_JOURNAL.md", "meta_journal.md", "human_journal.md"):  # conftest reads the template's headers
        shutil.copy2(REPO / name, tmp_path / name)
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_baseline.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout[-3000:]
    assert "5 passed" in out.stdout


def test_no_toolkit_test_reads_or_imports_the_agents_files() -> None:
    allowed = {"test_baseline.py", "test_fixture_swap.py", "conftest.py"}
    touches = re.compile(
        r"^\s*(import (train|model)\b|from (train|model) import)|REPO\s*/\s*\"(train|model|eval)\.py\"", re.M
    )
    offenders = [p.name for p in TESTS.glob("test_*.py") if p.name not in allowed and touches.search(p.read_text())]
    assert offenders == []
