"""journal.py: newest-first entries inserted below the header, and the append-only rule (verify)."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autoresearch import journal
from autoresearch.cli import main
from autoresearch.errors import UserError
from autoresearch.ideas import new_idea
from autoresearch.paths import Project

HEADING = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC · .+$")
OLD = """# Research journal

Newest entries first.

## 2025-01-02 10:00 UTC · second

**Observation:** b

## 2025-01-01 10:00 UTC · first

**Observation:** a
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def add(**kw) -> Path:
    args = {"journal": "research", "title": "t", "slug": "", "observation": "", "inference": "", "file": ""} | kw
    return journal.add_entry(Project.find(), **args)


@pytest.mark.parametrize("name", journal.JOURNALS.values())
def test_template_journals_have_a_header_and_no_entries(project: Path, name: str) -> None:
    header, entries = journal.parse((project / name).read_text())
    assert header.startswith("# ") and "Newest entries first" in header and "never edit an old one" in header
    assert entries == []


def test_human_journal_header_explains_meta_mode(project: Path) -> None:
    header, _ = journal.parse((project / "human_journal.md").read_text())
    assert "META_MODE=1" in header and "program.md" in header


def test_add_entry_inserts_newest_first_below_the_header(project: Path) -> None:
    new_idea(Project.find(), "rotary", "Rotary")
    path = add(title="first try", observation="val_bpb 1.92 -> 1.88", inference="rotary helps")
    add(title="second", slug="rotary", file="", observation="", inference="more seeds needed")
    header, entries = journal.parse(path.read_text())
    assert header == (project / "RESEARCH_JOURNAL.md").read_text()[: len(header)]
    assert [e.heading.split(" · ", 1)[1] for e in entries] == ["second · [rotary]", "first try"]
    assert all(HEADING.match(e.heading) for e in entries)
    assert entries[1].text.endswith("**Observation:** val_bpb 1.92 -> 1.88\n\n**Inference:** rotary helps")
    assert "**Observation:**" not in entries[0].text


def test_add_entry_never_changes_older_bytes(project: Path) -> None:
    path = project / "RESEARCH_JOURNAL.md"
    path.write_text(OLD)
    old_entries = OLD[OLD.index("## ") :]
    add(title="third", observation="c")
    new = path.read_text()
    assert new.endswith(old_entries)
    assert journal.verify(OLD, new) == []
    assert not [p for p in project.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"title": " "}, "needs a title"),
        ({"title": "t"}, "at least one"),
        ({"title": "t", "observation": "o", "journal": "diary"}, "not one of research, meta, human"),
        ({"title": "t", "observation": "o", "slug": "nope"}, 'just idea nope "title"'),
        ({"title": "t", "file": "missing.md"}, "not found"),
    ],
)
def test_add_entry_refuses_bad_input_and_writes_nothing(project: Path, kw: dict, message: str) -> None:
    before = {name: (project / name).read_bytes() for name in journal.JOURNALS.values()}
    with pytest.raises(UserError, match=re.escape(message)):
        add(**kw)
    assert {name: (project / name).read_bytes() for name in journal.JOURNALS.values()} == before


def test_body_from_file_and_stdin(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "body.md").write_text("### Details\n\nfrom a file\n")
    add(title="a", file="body.md")
    monkeypatch.setattr(sys, "stdin", io.StringIO("from stdin"))
    add(title="b", file="-")
    _, entries = journal.parse((project / "RESEARCH_JOURNAL.md").read_text())
    assert entries[0].text.endswith("from stdin") and entries[1].text.endswith("### Details\n\nfrom a file")


def test_body_with_an_entry_heading_is_refused(project: Path) -> None:
    (project / "body.md").write_text("fine\n## not fine\n")
    with pytest.raises(UserError, match=r"line 2 starts with '##'.*use ###"):
        add(title="a", file="body.md")


def test_journal_choice_picks_the_file(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["journal", "add", "--title", "reflection", "--inference", "x", "--journal", "meta"]) == 0
    assert main(["journal", "add", "--title", "note", "--observation", "META_MODE=1", "--journal", "human"]) == 0
    assert journal.parse((project / "meta_journal.md").read_text())[1][0].heading.endswith("reflection")
    assert "META_MODE=1" in journal.parse((project / "human_journal.md").read_text())[1][0].text
    assert journal.parse((project / "RESEARCH_JOURNAL.md").read_text())[1] == []


def test_parse_keeps_the_header_verbatim_and_digests_are_stable() -> None:
    header, entries = journal.parse(OLD)
    assert header == "# Research journal\n\nNewest entries first.\n\n"
    assert [e.heading for e in entries] == ["2025-01-02 10:00 UTC · second", "2025-01-01 10:00 UTC · first"]
    again = journal.parse(OLD.replace("first\n\n**Observation:** a\n", "first\n\n**Observation:** a\n\n\n"))[1]
    assert [e.digest for e in again] == [e.digest for e in entries]  # trailing blank lines are not content
    assert entries[0].digest != entries[1].digest and len(entries[0].digest) == 12


def test_verify_accepts_new_entries_on_top_and_a_changed_header() -> None:
    new = OLD.replace("## 2025-01-02", "## 2025-01-03 10:00 UTC · third\n\nc\n\n## 2025-01-02", 1)
    assert journal.verify(OLD, new) == []
    assert journal.verify(OLD, new.replace("Newest entries first.", "Newest first; append-only.")) == []
    assert journal.verify("# Research journal\n", new) == []
    assert journal.verify(OLD, OLD) == []


def test_verify_reports_a_changed_entry_with_the_fix() -> None:
    problems = journal.verify(OLD, OLD.replace("**Observation:** a", "**Observation:** A"), "RESEARCH_JOURNAL.md")
    assert problems == [
        "RESEARCH_JOURNAL.md: entry '2025-01-01 10:00 UTC · first' was changed; restore it with "
        "`git checkout RESEARCH_JOURNAL.md`, then add a new entry instead (`just journal ...`)"
    ]


def test_verify_reports_a_removed_entry() -> None:
    new = OLD[: OLD.index("## 2025-01-01")]
    (problem,) = journal.verify(OLD, new, "x.md")
    assert "'2025-01-01 10:00 UTC · first' was removed" in problem and "git checkout x.md" in problem


def test_verify_reports_reordered_entries() -> None:
    header, entries = journal.parse(OLD)
    swapped = header + entries[1].text + "\n\n" + entries[0].text + "\n"
    (problem,) = journal.verify(OLD, swapped)
    assert "moved out of order" in problem


def test_verify_reports_an_entry_added_below_older_ones() -> None:
    (problem,) = journal.verify(OLD, OLD + "\n## 2025-01-03 10:00 UTC · late\n\nc\n")
    assert "new entry '2025-01-03 10:00 UTC · late' is below older entries" in problem and "top" in problem


def test_verify_all_compares_working_copies_with_head(project: Path, capsys: pytest.CaptureFixture) -> None:
    path = project / "RESEARCH_JOURNAL.md"
    path.write_text(OLD)
    git(project, "commit", "-qam", "journal")
    add(title="fine", observation="o")
    assert main(["journal", "verify"]) == 0
    assert "journals ok" in capsys.readouterr().out
    path.write_text(path.read_text().replace("**Observation:** b", "**Observation:** B"))
    assert main(["journal", "verify"]) == 1
    out = capsys.readouterr().out
    assert "RESEARCH_JOURNAL.md: entry '2025-01-02 10:00 UTC · second' was changed" in out


def test_verify_all_flags_a_deleted_journal_and_accepts_an_untracked_one(
    project: Path, capsys: pytest.CaptureFixture
) -> None:
    git(project, "rm", "-q", "--cached", "meta_journal.md")
    git(project, "commit", "-qm", "untrack meta")
    (project / "meta_journal.md").write_text("anything\n")
    assert journal.verify_all(Project.find()) == []
    (project / "human_journal.md").unlink()
    assert journal.verify_all(Project.find()) == [
        "human_journal.md: deleted; restore it with `git checkout human_journal.md`"
    ]


def test_the_same_entry_twice_in_a_minute_is_a_clear_refusal(project: Path) -> None:
    p = Project.find()
    journal.add_entry(p, "research", "same", "", "x", "", "")
    before = p.research_journal.read_bytes()
    with pytest.raises(UserError, match="give the new entry another title"):
        journal.add_entry(p, "research", "same", "", "x", "", "")
    assert p.research_journal.read_bytes() == before
