"""README.md's results table is autoresearch.results.SCHEMA, column for column.

Usage: python tests/test_readme.py    (prints the table to paste between the README's schema markers)
"""

from __future__ import annotations

import re
from pathlib import Path

from autoresearch.results import SCHEMA

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = re.compile(r"<!-- schema:start[^\n]*-->\n(.*?)<!-- schema:end -->", re.DOTALL)


def schema_table() -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")

    lines = ["| column | type | meaning |", "| --- | --- | --- |"]
    lines += [f"| `{c.name}` | {c.type.__name__} | {cell(c.meaning)} |" for c in SCHEMA]
    return "\n".join(lines) + "\n"


def test_the_readme_results_table_matches_the_schema() -> None:
    found = SECTION.search(README.read_text())
    assert found, "README.md has no <!-- schema:start --> ... <!-- schema:end --> section"
    assert found.group(1) == schema_table(), (
        "README.md's results table is stale: run `python tests/test_readme.py` and paste its output"
    )


if __name__ == "__main__":
    print(schema_table(), end="")
