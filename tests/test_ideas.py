"""ideas.py: idea files from the template, front matter edits, append-only critiques, the next-idea rule."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import append_rows

from autoresearch import ideas
from autoresearch.cli import main
from autoresearch.config import Config
from autoresearch.errors import UserError
from autoresearch.paths import Project


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_new_idea_writes_dated_file_from_template(project: Path) -> None:
    path = ideas.new_idea(Project.find(), "rotary-base", "Rotary base: 50k", "Longer range helps topics.").path
    assert path.parent == project / "1_ideas"
    assert path.name.endswith("_rotary-base.md") and len(path.name) == len("2025-01-01_rotary-base.md")
    text = path.read_text()
    assert "{" not in text.split("---")[1]  # every placeholder of the front matter was filled
    idea = ideas.parse_idea(path)
    assert (idea.slug, idea.title, idea.status, idea.rating) == ("rotary-base", "Rotary base: 50k", "proposed", None)
    assert idea.hypothesis == "Longer range helps topics."
    assert not idea.has_critique
    for section in ("## Hypothesis", "## Mechanism", "## Prediction", "## How to test", "## Critique"):
        assert section in text


def test_idea_new_cli_prints_the_path(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["idea", "new", "warmup", "--title", "Longer warmup"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.endswith("_warmup.md") and Path(out).exists()
    assert ideas.parse_idea(Path(out)).hypothesis == ""  # the template's guidance comment is not a hypothesis


@pytest.mark.parametrize("slug", ["Rotary", "a_b", "-a", "a-", "a--b", "a b", "x" * 49, ""])
def test_bad_slug_is_refused_and_nothing_written(project: Path, slug: str) -> None:
    before = snapshot(project / "1_ideas")
    with pytest.raises(UserError, match="lowercase letters, digits and single hyphens"):
        ideas.new_idea(Project.find(), slug, "t")
    assert snapshot(project / "1_ideas") == before


def test_bad_slug_cli_says_one_line_and_exits_1(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["idea", "new", "Rotary_Base", "--title", "t"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("autoresearch: slug 'Rotary_Base' is not valid") and err.count("\n") == 1


def test_slug_of_48_characters_is_fine(project: Path) -> None:
    assert ideas.new_idea(Project.find(), "x" * 48, "long").path.exists()


def test_duplicate_slug_under_another_date_is_refused(project: Path, capsys: pytest.CaptureFixture) -> None:
    first = ideas.new_idea(Project.find(), "warmup", "Longer warmup").path
    old = first.rename(first.with_name("2020-01-01_warmup.md"))
    before = snapshot(project / "1_ideas")
    assert main(["idea", "new", "warmup", "--title", "again"]) == 1
    assert "exists already" in capsys.readouterr().err
    assert snapshot(project / "1_ideas") == before and old.exists()


def test_empty_title_is_refused(project: Path) -> None:
    with pytest.raises(UserError, match="title is empty"):
        ideas.new_idea(Project.find(), "a", "  ")
    assert ideas.count_ideas(Project.find()) == 0


def test_count_excludes_the_template(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert ideas.count_ideas(Project.find()) == 0
    ideas.new_idea(Project.find(), "a", "A")
    ideas.new_idea(Project.find(), "b", "B")
    assert main(["idea", "count"]) == 0
    assert capsys.readouterr().out.strip() == "2"


def test_misnamed_idea_file_is_an_error_that_says_how_to_fix(project: Path) -> None:
    (project / "1_ideas" / "notes.md").write_text("x")
    with pytest.raises(UserError, match=r"not named YYYY-MM-DD_slug\.md; rename it"):
        ideas.load_ideas(Project.find())


def test_critique_is_appended_dated_and_old_bytes_stay_a_prefix(project: Path) -> None:
    path = ideas.new_idea(Project.find(), "warmup", "Longer warmup").path
    before = path.read_bytes()
    ideas.add_critique(Project.find(), "warmup", text="Failure mode: the schedule hides the effect.")
    middle = path.read_bytes()
    ideas.add_critique(Project.find(), "warmup", text="Second opinion.")
    after = path.read_bytes()
    assert middle.startswith(before) and after.startswith(middle)
    added = after[len(before) :].decode()
    assert added.count("### Critique ") == 2 and " UTC\n" in added
    assert added.index("Failure mode") < added.index("Second opinion")
    assert ideas.parse_idea(path).has_critique


def test_critique_opens_a_section_when_the_file_ends_elsewhere(project: Path) -> None:
    path = ideas.new_idea(Project.find(), "warmup", "Longer warmup").path
    with path.open("a") as f:
        f.write("\n## Notes\n\nsomething")  # no trailing newline either
    before = path.read_bytes()
    ideas.add_critique(Project.find(), "warmup", text="c")
    after = path.read_text()
    assert after.encode().startswith(before)
    assert after.endswith("## Critique\n\n### Critique " + after.rsplit("### Critique ", 1)[1])


@pytest.mark.parametrize("args", [[], ["--text", "x", "--file", "c.md"]])
def test_critique_needs_exactly_one_of_text_and_file(
    project: Path, capsys: pytest.CaptureFixture, args: list[str]
) -> None:
    path = ideas.new_idea(Project.find(), "warmup", "Longer warmup").path
    before = path.read_bytes()
    assert main(["idea", "critique", "warmup", *args]) == 1
    assert "exactly one" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_critique_from_a_file_and_from_stdin(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = ideas.new_idea(Project.find(), "warmup", "Longer warmup").path
    (project / "c.md").write_text("from a file\n")
    assert main(["idea", "critique", "warmup", "--file", "c.md"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("from stdin\n"))
    assert main(["idea", "critique", "warmup", "--file", "-"]) == 0
    text = path.read_text()
    assert text.index("from a file") < text.index("from stdin")


def test_rate_and_set_status_edit_the_front_matter(project: Path) -> None:
    path = ideas.new_idea(Project.find(), "warmup", "Longer warmup", "h").path
    body_before = path.read_text().split("---", 2)[2]
    assert main(["idea", "rate", "warmup", "7"]) == 0
    assert main(["idea", "set-status", "warmup", "rejected"]) == 0
    idea = ideas.parse_idea(path)
    assert (idea.rating, idea.status) == (7, "rejected")
    assert path.read_text().split("---", 2)[2] == body_before
    assert not [p for p in (project / "1_ideas").iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    "title",
    [
        "Rotary base: 50k",
        "A title: with 'quotes'",
        'say "hi" # not a comment',
        "'quoted'",
        "- a dash",
        "yes",
        "123",
        "{x}",
    ],
)
def test_a_title_with_yaml_syntax_round_trips_and_keeps_the_look(project: Path, title: str) -> None:
    path = ideas.new_idea(Project.find(), "tricky", title).path
    ideas.set_field(Project.find(), "tricky", "rating", 4)
    assert ideas.parse_idea(path).title == title
    lines = path.read_text().split("\n")
    assert lines[0] == "---" and [line.partition(":")[0] for line in lines[1:6]] == list(ideas.FIELDS)
    assert f"# {title}\n" in path.read_text()  # the body's heading holds the title as typed
    assert "rating: 4" in lines and "status: proposed" in lines


def test_a_new_idea_is_unrated_with_an_empty_rating_line(project: Path) -> None:
    path = ideas.new_idea(Project.find(), "warmup", "Longer warmup").path
    assert "\nrating:\n---\n" in path.read_text()
    assert ideas.parse_idea(path).rating is None


def test_set_field_keeps_an_odd_body_byte_for_byte_and_other_fields(project: Path) -> None:
    path = ideas.new_idea(Project.find(), "warmup", "Longer warmup").path
    front, _ = path.read_text().split("\n---\n", 1)
    odd = "\n\n# Longer warmup  \n\n---\n\nkey: not front matter\r\n\t## Hypothesis\nno final newline"
    path.write_bytes(f"{front}\nowner: ana\n---\n{odd}".encode())
    ideas.set_field(Project.find(), "warmup", "status", "done")
    after_front, after_body = path.read_bytes().decode().split("\n---\n", 1)
    assert after_body == odd
    assert "status: done" in after_front and "owner: ana" in after_front


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ("slug: warmup\ntitle: a: b\n", "line 3: the front matter is not valid YAML"),
        ("slug: warmup\ntitle: [unclosed\n", "not valid YAML"),
        ("- a list\n", "not `key: value` lines"),
        (
            "slug: warmup\ntitle:\n  nested: x\nstatus: proposed\ncreated: x\nrating:\n",
            "field 'title' is not a single value",
        ),
        ("slug: warmup\ntitle: t\n", "lacks status, created, rating"),
    ],
)
def test_a_broken_front_matter_names_the_file_and_the_fix(project: Path, front: str, message: str) -> None:
    path = project / "1_ideas" / "2025-01-01_warmup.md"
    path.write_text(f"---\n{front}---\n\n# body\n")
    with pytest.raises(UserError, match=message) as error:
        ideas.parse_idea(path)
    assert str(error.value).startswith(str(path))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# no front matter\n", "must start with a `---` line"),
        ("---\nslug: warmup\n# body\n", "no closing `---` line; add it"),
    ],
)
def test_a_missing_front_matter_delimiter_is_named(project: Path, text: str, message: str) -> None:
    path = project / "1_ideas" / "2025-01-01_warmup.md"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        ideas.parse_idea(path)
    with pytest.raises(UserError, match=message):
        ideas.set_field(Project.find(), "warmup", "rating", 3)
    assert path.read_text() == text


def test_idea_new_warns_with_the_three_nearest_when_the_idea_was_written_or_tried(
    project: Path, capsys: pytest.CaptureFixture
) -> None:
    from autoresearch import journal

    p = Project.find()
    ideas.new_idea(p, "rotary-base", "Rotary base 50k", "A larger rotary base keeps distant positions distinguishable.")
    ideas.new_idea(p, "swiglu", "SwiGLU feed-forward", "A gated MLP lowers val_bpb at equal parameters.")
    ideas.new_idea(p, "dropout-off", "Remove dropout", "One epoch over fresh data cannot overfit.")
    journal.add_entry(
        p,
        "research",
        "rotary base 50k: within noise",
        slug="rotary-base",
        observation="val_bpb 1.8712 vs 1.8720 over 3 seeds",
        inference="positions are distinct at the default base",
    )
    capsys.readouterr()
    assert (
        main(
            [
                "idea",
                "new",
                "rotary-50k",
                "--title",
                "Rotary base of 50k",
                "--hypothesis",
                "A larger rotary base keeps far-apart positions distinguishable.",
            ]
        )
        == 0
    )
    out, err = capsys.readouterr()
    assert (
        out.strip().endswith("_rotary-50k.md") and Path(out.strip()).exists()
    )  # written all the same; stdout is the path
    lines = err.splitlines()
    assert (
        lines[0].startswith("warning: 'rotary-50k' is close to what was already written or tried") and len(lines) == 4
    )
    assert lines[1].split()[1:] == ["idea", "rotary-base"] and float(lines[1].split()[0]) >= 0.28
    assert any(line.split()[1] == "journal" and "rotary base 50k: within noise" in line for line in lines[2:])

    assert (
        main(
            [
                "idea",
                "new",
                "ema",
                "--title",
                "EMA of the weights",
                "--hypothesis",
                "Evaluating an exponential moving average of the parameters generalises better.",
            ]
        )
        == 0
    )
    out, err = capsys.readouterr()
    assert out.strip().endswith("_ema.md") and err == ""


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("rating", 0, "out of range"),
        ("rating", 11, "out of range"),
        ("rating", "x", "out of range"),
        ("status", "maybe", "not one of"),
        ("title", "x", "cannot be set"),
    ],
)
def test_set_field_refuses_bad_values_and_writes_nothing(project: Path, field: str, value, message: str) -> None:
    path = ideas.new_idea(Project.find(), "warmup", "Longer warmup").path
    before = path.read_bytes()
    with pytest.raises(UserError, match=message):
        ideas.set_field(Project.find(), "warmup", field, value)
    assert path.read_bytes() == before


def test_rate_cli_refuses_out_of_range(project: Path, capsys: pytest.CaptureFixture) -> None:
    ideas.new_idea(Project.find(), "warmup", "Longer warmup")
    assert main(["idea", "rate", "warmup", "12"]) == 1
    assert "1 (weak) to 10 (strong)" in capsys.readouterr().err


def test_missing_idea_names_the_command_that_writes_it(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["idea", "rate", "nope", "5"]) == 1
    assert 'just idea nope "title"' in capsys.readouterr().err


def _set_created(path: Path, created: str) -> None:
    lines = path.read_text().split("\n")
    path.write_text("\n".join(f"created: {created}" if line.startswith("created:") else line for line in lines))


def test_next_idea_prefers_rating_then_untried_then_newest(project: Path, result_row) -> None:
    p = Project.find()
    for slug, rating in (("a", 5), ("b", 8), ("c", 8), ("d", None), ("e", 10), ("f", 3), ("g", 3)):
        ideas.new_idea(p, slug, slug.upper())
        if rating:
            ideas.set_field(p, slug, "rating", rating)
    ideas.set_field(p, "e", "status", "implementing")  # not proposed: never next
    append_rows(project, [result_row(idea="b", branch="exp/b")])
    _set_created(ideas.find_idea(p, "f"), "2020-01-01T00:00:00+00:00")
    _set_created(ideas.find_idea(p, "g"), "2021-01-01T00:00:00+00:00")
    order = []
    while (idea := ideas.next_idea(p, Config.load(p))) is not None:
        order.append(idea.slug)
        ideas.set_field(p, idea.slug, "status", "done")
    assert order == ["c", "b", "a", "g", "f", "d"]


def test_print_next_exits_1_when_no_idea_is_proposed(project: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["idea", "next"]) == 1
    assert "no proposed ideas" in capsys.readouterr().err
    ideas.new_idea(Project.find(), "warmup", "Longer warmup")
    assert main(["idea", "next"]) == 0
    assert "just wt warmup" in capsys.readouterr().out


def test_idea_list_shows_rows_and_best_metric(project: Path, capsys: pytest.CaptureFixture, result_row) -> None:
    p = Project.find()
    ideas.new_idea(p, "warmup", "Longer warmup")
    ideas.new_idea(p, "other", "Other")
    ideas.add_critique(p, "warmup", text="c")
    append_rows(
        project,
        [
            result_row(idea="warmup", val_bpb=1.91),
            result_row(idea="warmup", val_bpb=1.87),
            result_row(idea="warmup", status="crash"),
        ],
    )
    assert main(["idea", "list"]) == 0
    out = capsys.readouterr().out
    assert "2 ideas (best val_bpb, lower is better)" in out
    warmup = next(line for line in out.splitlines() if line.startswith("warmup"))
    assert "1.8700 cpu" in warmup and " 3 " in warmup and "yes" in warmup
    other = next(line for line in out.splitlines() if line.startswith("other"))
    assert " 0 " in other and "no" in other


def test_table_rows_count_each_ideas_rows_and_take_its_best_per_profile_in_the_metrics_direction(
    project: Path, result_row
) -> None:
    p = Project.find()
    for slug in ("warmup", "other"):
        ideas.new_idea(p, slug, slug.title())
    append_rows(
        project,
        [
            result_row(idea="warmup", val_bpb=1.91),
            result_row(idea="warmup", val_bpb=1.87, profile="cuda"),
            result_row(idea="warmup", val_bpb=1.95),
            result_row(idea="warmup", status="crash"),
            result_row(idea="", val_bpb=1.0),
        ],
    )
    rows = {r.idea.slug: (r.rows, r.best) for r in ideas.table_rows(p, Config.load(p))}
    assert rows == {"warmup": (4, "1.9100 cpu, 1.8700 cuda"), "other": (0, "")}
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('direction = "lower"', 'direction = "higher"'))
    rows = {r.idea.slug: (r.rows, r.best) for r in ideas.table_rows(p, Config.load(p))}
    assert rows["warmup"] == (4, "1.9500 cpu, 1.8700 cuda")


@pytest.mark.parametrize("state", ["missing", "empty", "header only"])
def test_idea_list_without_results_is_fine(project: Path, capsys: pytest.CaptureFixture, state: str) -> None:
    ideas.new_idea(Project.find(), "warmup", "Longer warmup")
    results = project / "results.tsv"
    if state == "missing":
        results.unlink(missing_ok=True)
    elif state == "empty":
        results.write_text("")
    assert main(["idea", "list"]) == 0
    assert "warmup" in capsys.readouterr().out


def _just() -> str | None:
    return shutil.which("just") or next((str(p) for p in (Path(sys.executable).parent / "just",) if p.exists()), None)


@pytest.mark.skipif(_just() is None, reason="just is not installed")
def test_just_idea_keeps_multi_word_arguments(project: Path, tmp_path: Path) -> None:
    """The recipes pass "$@" through, so a quoted --hypothesis reaches the CLI as one argument."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "autoresearch"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m autoresearch "$@"\n')
    shim.chmod(0o755)
    src = str(Path(ideas.__file__).resolve().parents[1])
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONPATH": src}
    run = subprocess.run(
        [_just(), "idea", "two-words", "A title: with 'quotes'", "--hypothesis", "it helps; really"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    idea = ideas.parse_idea(ideas.find_idea(Project.find(), "two-words"))
    assert (idea.title, idea.hypothesis) == ("A title: with 'quotes'", "it helps; really")
    run = subprocess.run([_just(), "rate", "two-words", "6"], cwd=project, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert ideas.parse_idea(idea.path).rating == 6
