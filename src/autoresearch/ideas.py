"""Idea files in the ROOT checkout's 1_ideas/: new from _TEMPLATE.md, front matter, critiques, ranking.

An idea is `1_ideas/{YYYY-MM-DD}_{slug}.md`: YAML front matter between `---` lines (slug, title, status,
created, rating; `rating:` left empty means unrated), read and written with python-frontmatter, and the
sections Hypothesis, Mechanism, Prediction, How to test, Critique. Every front-matter value is a string
as written (no dates, numbers or booleans guessed), quoted only where YAML needs it (`title: 'A: b'`).
Critiques are only ever appended. `new_idea` also returns the nearest existing ideas and journal
entries (`novelty.nearest`), so the command can warn about a repeat. Usage:

    autoresearch idea new rotary-base --title "Rotary base 50k" --hypothesis "..."
    autoresearch idea list | idea count | idea next | idea rate SLUG 7 | idea critique SLUG --file c.md
    new_idea(project, "rotary-base", "Rotary base 50k", "...");  load_ideas(project);  next_idea(project)
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from autoresearch.errors import UserError
from autoresearch.fileio import append_once, read_file_arg, write_atomic
from autoresearch.paths import TEMPLATE

if TYPE_CHECKING:
    from frontmatter.default_handlers import YAMLHandler

    from autoresearch.config import Config
    from autoresearch.novelty import Match
    from autoresearch.paths import Project
    from autoresearch.results import Record

SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SLUG_MAX = 48
STATUSES = ("proposed", "implementing", "done", "kept", "rejected")
FIELDS = ("slug", "title", "status", "created", "rating")
FILE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})_(.+)\.md$")
CRITIQUE = "Critique"
_PLACEHOLDER = re.compile(r"\{(slug|title|created|hypothesis)\}")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_NO_HYPOTHESIS = "<!-- State what you believe will happen and why, in one or two sentences. -->"


@dataclass(frozen=True)
class Idea:
    slug: str
    title: str
    status: str
    rating: int | None
    created: str
    path: Path
    has_critique: bool
    hypothesis: str
    mechanism: str


class NewIdea(NamedTuple):
    path: Path
    nearest: list[Match]
    """the earlier ideas and research-journal entries nearest to it, most similar first (`novelty.nearest`)"""


def check_slug(slug: str) -> str:
    if len(slug) > SLUG_MAX or not SLUG_RE.match(slug):
        raise UserError(
            f"slug {slug!r} is not valid: use lowercase letters, digits and single hyphens "
            f"(like rotary-base-50k), at most {SLUG_MAX} characters"
        )
    return slug


def _one_line(text: str, what: str) -> str:
    line = " ".join(text.split())
    if not line:
        raise UserError(f'the {what} is empty; give one, e.g. --{what} "..."')
    return line


def _lock(project: Project):
    from filelock import FileLock

    return FileLock(str(project.ideas / ".lock"))


def idea_paths(project: Project) -> dict[str, Path]:
    """slug -> idea file, for every idea file in 1_ideas/ (UserError on a misnamed or duplicated one)."""
    folder = project.ideas
    if not folder.is_dir():
        raise UserError(f"{folder} not found; restore it with `git checkout {folder.name}`")
    found: dict[str, Path] = {}
    for path in sorted(folder.glob("*.md")):
        if path.name == TEMPLATE:
            continue
        m = FILE_RE.match(path.name)
        if not m or not SLUG_RE.match(m.group(2)) or len(m.group(2)) > SLUG_MAX:
            raise UserError(f"{path}: not named YYYY-MM-DD_slug.md; rename it, or move it out of {folder.name}/")
        slug = m.group(2)
        if slug in found:
            raise UserError(f"{path} and {found[slug]} have the same slug {slug!r}; rename one of them")
        found[slug] = path
    return found


def find_idea(project: Project, slug: str) -> Path:
    check_slug(slug)
    path = idea_paths(project).get(slug)
    if path is None:
        raise UserError(f'no idea {slug!r} in {project.ideas.name}/; write it first with `just idea {slug} "title"`')
    return path


def new_idea(project: Project, slug: str, title: str, hypothesis: str = "") -> NewIdea:
    """Write 1_ideas/{date}_{slug}.md from the template, status proposed, unrated.

    Returns its path and the nearest earlier ideas and research-journal entries (`novelty.nearest`
    on the title and hypothesis), so the caller can warn when it repeats one; the idea is written
    however near they are.
    """
    check_slug(slug)
    title = _one_line(title, "title")
    template = project.ideas / TEMPLATE
    if not template.exists():
        raise UserError(f"{template} not found; restore it with `git checkout {project.ideas.name}/{TEMPLATE}`")
    now = datetime.now(UTC)
    values = {
        "slug": slug,
        "title": title,
        "created": now.isoformat(timespec="seconds"),
        "hypothesis": hypothesis.strip() or _NO_HYPOTHESIS,
    }
    front, rest = _split(template.read_text(), template)
    front = _PLACEHOLDER.sub(lambda m: _yaml_scalar(values[m.group(1)]), front)
    text = front + _PLACEHOLDER.sub(lambda m: values[m.group(1)], rest)
    split_front_matter(
        text, template
    )  # a template whose front matter does not parse is named before anything is written
    path = project.ideas / f"{now:%Y-%m-%d}_{slug}.md"
    with _lock(project):
        existing = idea_paths(project).get(slug)
        if existing is not None:
            raise UserError(f"idea {slug!r} exists already ({existing}); pick another slug")
        earlier = load_ideas(project)
        write_atomic(path, text, exclusive=True)
    return NewIdea(path, _nearest(project, f"{title}\n{hypothesis}", earlier))


def _nearest(project: Project, text: str, earlier: list[Idea]) -> list[Match]:
    from autoresearch import journal, novelty

    documents = [novelty.Document("idea", i.slug, f"{i.title}\n{i.hypothesis}\n{i.mechanism}") for i in earlier]
    if project.research_journal.exists():
        _, entries = journal.parse(project.research_journal.read_text())
        documents += [novelty.Document("journal", e.heading, e.text) for e in entries]
    return novelty.nearest(text, documents)


@functools.cache
def _handler() -> YAMLHandler:
    """python-frontmatter's YAML handler, reading every value as a string and writing it plainly where YAML allows."""
    import yaml
    from frontmatter.default_handlers import YAMLHandler
    from yaml.representer import SafeRepresenter

    class PlainDumper(yaml.BaseDumper):
        """Quotes a value only where YAML syntax needs it (`: `, a leading quote or `#`), never to mark a type."""

        def ignore_aliases(self, data: object) -> bool:
            return True

    PlainDumper.add_representer(str, SafeRepresenter.represent_str)
    PlainDumper.add_representer(dict, SafeRepresenter.represent_dict)

    class IdeaYAML(YAMLHandler):
        def load(self, fm: str, **kwargs: object) -> Any:
            return super().load(fm, Loader=yaml.BaseLoader)

        def export(self, metadata: dict[str, object], **kwargs: object) -> str:
            return super().export(metadata, Dumper=PlainDumper, sort_keys=False, width=math.inf)

    return IdeaYAML()


def _yaml_scalar(value: str) -> str:
    """`value` as it is written after `key: ` in the front matter."""
    return _handler().export({"k": value}).removeprefix("k:").lstrip(" ")


def _split(text: str, path: Path) -> tuple[str, str]:
    """The front matter with its opening `---` line, and the rest of the file from the closing `---` line on."""
    handler = _handler()
    if not handler.detect(text):
        raise UserError(f"{path}: no front matter (the file must start with a `---` line); compare with {TEMPLATE}")
    closing = [m.start() for m in handler.FM_BOUNDARY.finditer(text)][1:2]
    if not closing:
        raise UserError(f"{path}: the front matter has no closing `---` line; add it")
    return text[: closing[0]], text[closing[0] :]


def split_front_matter(text: str, path: Path) -> tuple[dict[str, str], str]:
    """The front matter as a dict of strings (`rating:` empty is '') and the rest of the file from its closing `---` line on."""
    import yaml

    front, rest = _split(text, path)
    try:
        fields = _handler().load(front.partition("\n")[2]) or {}
    except yaml.MarkedYAMLError as e:
        line = f" line {e.problem_mark.line + 2}" if e.problem_mark else ""
        raise UserError(
            f"{path}{line}: the front matter is not valid YAML ({e.problem}); "
            "quote a value that holds ': ' or starts with a quote, e.g. title: 'Rotary: base 50k'"
        ) from None
    if not isinstance(fields, dict):
        raise UserError(f"{path}: the front matter is not `key: value` lines; compare with {TEMPLATE}")
    for key, value in fields.items():
        if not isinstance(value, str):
            raise UserError(
                f"{path}: front matter field {key!r} is not a single value; write `{key}: value` on one line"
            )
    return fields, rest


def sections(body: str) -> dict[str, str]:
    """`## Heading` -> its text (up to the next `## `); a repeated heading's texts are joined."""
    out: dict[str, str] = {}
    name = None
    for line in body.split("\n"):
        if line.startswith("## "):
            name = line[3:].strip()
            out.setdefault(name, "")
        elif name is not None:
            out[name] += line + "\n"
    return out


def _prose(text: str) -> str:
    return _COMMENT.sub("", text).strip()


def parse_idea(path: Path) -> Idea:
    fields, body = split_front_matter(path.read_text(), path)
    missing = [f for f in FIELDS if f not in fields]
    if missing:
        raise UserError(f"{path}: front matter lacks {', '.join(missing)}; add `{missing[0]}: ...` (see {TEMPLATE})")
    named = FILE_RE.match(path.name)
    assert named is not None  # idea_paths lists only files so named
    slug = named.group(2)
    if fields["slug"] != slug:
        raise UserError(
            f"{path}: front matter says slug {fields['slug']!r} but the file name says {slug!r}; make them agree"
        )
    rating = fields["rating"]
    if rating and not (rating.isdigit() and 1 <= int(rating) <= 10):
        raise UserError(f"{path}: rating is {rating!r}, expected 1..10 or empty; fix it with `just rate {slug} N`")
    parts = sections(body)
    return Idea(
        slug=slug,
        title=fields["title"],
        status=fields["status"],
        rating=int(rating) if rating else None,
        created=fields["created"],
        path=path,
        has_critique=bool(_prose(parts.get(CRITIQUE, ""))),
        hypothesis=_prose(parts.get("Hypothesis", "")),
        mechanism=_prose(parts.get("Mechanism", "")),
    )


def load_ideas(project: Project) -> list[Idea]:
    """Every idea, oldest file name first."""
    return [parse_idea(path) for path in idea_paths(project).values()]


def count_ideas(project: Project) -> int:
    return len(idea_paths(project))


def _row_counts(record: Record) -> dict[str, int]:
    import polars as pl

    counts = record.df.filter(pl.col("idea").is_not_null() & (pl.col("idea") != "")).group_by("idea").len()
    return dict(counts.iter_rows())


def best_by_profile(record: Record, slug: str) -> str:
    """The idea's best ok value per profile, like `1.0812 cpu, 0.9021 cuda`."""
    import polars as pl

    ok = record.ok(record.df.filter(pl.col("idea") == slug))
    if ok.height == 0:
        return ""
    value = pl.col(record.value)
    best = ok.group_by("profile", maintain_order=True).agg(value.max() if record.metric.descending else value.min())
    return ", ".join(f"{v:.4f} {p}" for p, v in best.iter_rows())


@dataclass(frozen=True)
class IdeaRow:
    idea: Idea
    rows: int
    best: str


def table_rows(project: Project, config: Config) -> list[IdeaRow]:
    """Every idea with its number of result rows and best value per profile."""
    from autoresearch import results

    ideas = load_ideas(project)
    if not ideas:
        return []
    record = results.load(project, config)
    counts = _row_counts(record)
    return [IdeaRow(idea, counts.get(idea.slug, 0), best_by_profile(record, idea.slug)) for idea in ideas]


def _stamp() -> str:
    return f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"


def _read_text_arg(text: str, file: str, what: str) -> str:
    """Exactly one of `text` and `file` ('-' = stdin)."""
    if bool(text) == bool(file):
        raise UserError(f"give the {what} either as --text \"...\" or as --file PATH ('-' for stdin), exactly one")
    return read_file_arg(file) if file else text


def add_critique(project: Project, slug: str, text: str = "", file: str = "") -> Path:
    """Append `### Critique <date> UTC` and the text at the end of the idea (its Critique section).

    Older text is never rewritten: the file before is a prefix of the file after.
    """
    path = find_idea(project, slug)
    critique = _read_text_arg(text, file, "critique").strip()
    if not critique:
        raise UserError("the critique is empty; write what is wrong or risky about the idea")
    with _lock(project):
        old = path.read_text()
        last_section = [line for line in old.split("\n") if line.startswith("## ")][-1:]
        lead = "" if old.endswith("\n") else "\n"
        if last_section != [f"## {CRITIQUE}"]:
            lead += f"\n## {CRITIQUE}\n"  # the file ends elsewhere: open the section rather than edit the old text
        append_once(path, f"{lead}\n### Critique {_stamp()}\n\n{critique}\n")
    return path


def set_field(project: Project, slug: str, field: str, value: str | int) -> Path:
    """Set `rating` (1..10) or `status` (proposed|implementing|done|rejected) in an idea's front matter."""
    path = find_idea(project, slug)
    if field == "rating":
        if isinstance(value, bool) or not str(value).isdigit() or not 1 <= int(value) <= 10:
            raise UserError(f"rating {value!r} for {slug!r} is out of range: give an integer 1 (weak) to 10 (strong)")
        value = str(int(value))
    elif field == "status":
        if value not in STATUSES:
            raise UserError(f"status {value!r} for {slug!r} is not one of {', '.join(STATUSES)}")
    else:
        raise UserError(f"field {field!r} cannot be set; settable fields: rating, status")
    with _lock(project):
        text = path.read_bytes().decode()  # not read_text: it would turn the body's \r\n into \n
        fields, rest = split_front_matter(text, path)
        front = _handler().export({**fields, field: str(value)})
        write_atomic(path, f"---\n{front}\n{rest}")  # from the closing `---` on, the file is kept byte for byte
    return path


def next_idea(project: Project, config: Config) -> Idea | None:
    """The best idea not yet implemented (status proposed), or None.

    The rule: highest rating first (unrated ideas last); among equal ratings the most novel first,
    that is the one with the fewest results rows (an idea never tried beats a retry); then the newest
    (latest `created`); then the slug, so the answer is stable.
    """
    from autoresearch import results

    counts = _row_counts(results.load(project, config))
    proposed = [i for i in load_ideas(project) if i.status == "proposed"]
    proposed.sort(key=lambda i: i.slug)
    proposed.sort(key=lambda i: i.created, reverse=True)
    proposed.sort(key=lambda i: (i.rating is None, -(i.rating or 0), counts.get(i.slug, 0)))
    return proposed[0] if proposed else None
