"""Every command that program.md and README.md name exists: each `just X` is a recipe, each
`autoresearch X [Y]` parses (`X [Y] --help` exits 0, and Y is one of X's subcommands when X has some).

Commands are read from code only: inline `code`, fenced blocks and indented blocks, so prose that
happens to use the word "just" is not a command.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autoresearch.cli import main

REPO = Path(__file__).resolve().parents[1]
DOCS = ("program.md", "README.md")
START = r"(?:^|(?<=[\s;&|(]))(?:[\w./-]*/)?"  # a command word, possibly a path like .venv/bin/just
JUST = re.compile(START + r"just\s+([a-z][a-z0-9_-]*)")
AUTORESEARCH = re.compile(START + r"(?<!from )(?<!import )autoresearch\s+([a-z][a-z0-9-]*)(?:\s+([a-z][a-z0-9-]*))?")


def code_of(markdown: str) -> list[str]:
    """The code in a markdown text: fenced blocks, indented blocks after a blank line, inline spans."""
    pieces = re.findall(r"^```[^\n]*\n(.*?)^```", markdown, flags=re.MULTILINE | re.DOTALL)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", markdown, flags=re.MULTILINE | re.DOTALL)
    previous_blank, in_block = True, False
    for line in prose.splitlines():
        in_block = line.startswith("    ") and (previous_blank or in_block)
        if in_block:
            pieces.append(line)
        previous_blank = not line.strip()
    pieces += re.findall(r"`([^`]+)`", prose)
    return pieces


def mentions() -> tuple[set[tuple[str, str]], set[tuple[str, tuple[str, ...]]]]:
    just, cli = set(), set()
    for doc in DOCS:
        for code in code_of((REPO / doc).read_text()):
            just |= {(doc, m.group(1)) for m in JUST.finditer(code)}
            cli |= {(doc, tuple(w for w in m.groups() if w)) for m in AUTORESEARCH.finditer(code)}
    return just, cli


JUST_MENTIONS, CLI_MENTIONS = mentions()


def just_binary() -> str:
    found = shutil.which("just") or str(Path(sys.executable).parent / "just")
    assert Path(found).exists(), "no `just` on PATH or next to python: run bash setup.sh (it installs rust-just)"
    return found


def recipes() -> set[str]:
    out = subprocess.run([just_binary(), "--summary"], cwd=REPO, check=True, capture_output=True, text=True)
    return set(out.stdout.split())


def help_text(args: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out), pytest.raises(SystemExit) as exit:
        main([*args, "--help"])
    assert exit.value.code == 0, f"`autoresearch {' '.join(args)} --help` exited {exit.value.code}:\n{out.getvalue()}"
    return out.getvalue()


def subcommands(usage: str) -> set[str]:
    """The choices in the usage line, e.g. `usage: autoresearch idea [-h] {new,list}` -> {new, list}."""
    first = usage.strip().splitlines()[0]
    found = re.search(r"\{([a-z0-9,-]+)\}", first)
    return set(found.group(1).split(",")) if found else set()


def test_the_docs_name_commands_at_all() -> None:
    assert {"smoke", "eval", "test", "status"} <= {name for _, name in JUST_MENTIONS}
    assert {"idea", "init"} <= {words[0] for _, words in CLI_MENTIONS}


@pytest.mark.parametrize("doc,recipe", sorted(JUST_MENTIONS))
def test_every_just_recipe_the_docs_name_exists(doc: str, recipe: str) -> None:
    assert recipe in recipes(), f"{doc} names `just {recipe}`, but the justfile has no such recipe"


@pytest.mark.parametrize("doc,words", sorted(CLI_MENTIONS))
def test_every_autoresearch_command_the_docs_name_parses(doc: str, words: tuple[str, ...]) -> None:
    usage = help_text([words[0]])
    choices = subcommands(usage)
    if choices and len(words) > 1:
        assert words[1] in choices, (
            f"{doc} names `autoresearch {' '.join(words)}`, but {words[0]} has only {sorted(choices)}"
        )
        help_text(list(words))
