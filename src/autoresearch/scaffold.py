"""`autoresearch init DIR`: a new research project from this template, with fresh records and its own git.

Where the template comes from: when the package runs from a checkout (an editable install, or
PYTHONPATH=src), it is that checkout's files that git does not ignore (`git ls-files --cached
--others --exclude-standard`); when it runs from an installed wheel, it is the package data
`autoresearch/_template/`, which setup.py's build step copies from the same file list at build time,
so git holds one copy only. The new project is a whole copy of the template, toolkit (src/) included:
it installs itself with `bash setup.sh` and needs nothing else. Usage:

    autoresearch init ../myproj --project "..." --metric val_bpb --direction lower --hypothesis-space "..."
    just new ../myproj --project "..."
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from autoresearch.errors import UserError

PACKAGE_DATA = Path(__file__).resolve().parent / "_template"
COMMIT_MESSAGE = "init from autoresearch template"
FALLBACK_IDENTITY = ("autoresearch init", "autoresearch@localhost")

# Folders whose contents are this repo's research, not the template: only these files come along.
KEEP_ONLY = {
    "1_ideas/": ("1_ideas/_TEMPLATE.md",),
    "9_reports/": ("9_reports/_TEMPLATE.md",),
    "5_worktrees/": ("5_worktrees/.gitkeep",),
    "0_docs/papers/": ("0_docs/papers/.gitkeep",),
    ".autoresearch/": (),
}
FILL_IN_FILES = ("program.md", "0_docs/problem.md")
FILL_IN_RE = re.compile(r"\{FILL_IN:?[^}]*\}")
PLACEHOLDERS = {
    "project": "{FILL_IN: one sentence describing the research problem}",
    "metric": "{FILL_IN: what we optimize, e.g. val_bpb, accuracy, F1}",
    "hypothesis_space": "{FILL_IN: what class of approaches are in scope}",
}
METRIC_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class Template:
    root: Path
    files: tuple[str, ...]
    """Paths relative to root, '/'-separated."""
    origin: str
    """'checkout' or 'package data'."""


@dataclass(frozen=True)
class NewProject:
    path: Path
    template: Template
    files: int
    commit: str
    branch: str
    hooks: tuple[str, ...]
    """`autoresearch hooks install`'s lines"""
    identity_note: str
    fill_ins: tuple[str, ...]
    """`file:line: {FILL_IN: ...}` for each placeholder left to fill in."""


def checkout_files(root: Path) -> list[str]:
    """The files of a checkout that git does not ignore (tracked, or new and not ignored), sorted."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root, capture_output=True, text=True,
    )
    if out.returncode != 0:
        raise UserError(f"{root}: `git ls-files` failed ({out.stderr.strip()}); the template checkout must be a git repository")
    return sorted({f for f in out.stdout.split("\0") if f and (root / f).is_file()})


def find_template() -> Template:
    """The package data of an installed wheel, else the checkout this package runs from."""
    if PACKAGE_DATA.is_dir():
        files = sorted(
            p.relative_to(PACKAGE_DATA).as_posix()
            for p in PACKAGE_DATA.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        )
        return Template(PACKAGE_DATA, tuple(files), "package data")
    checkout = Path(__file__).resolve().parents[2]  # src/autoresearch/scaffold.py -> the checkout
    if (checkout / ".git").exists() and (checkout / "program.md").is_file():
        return Template(checkout, tuple(checkout_files(checkout)), "checkout")
    raise UserError(
        f"no template found: {PACKAGE_DATA} is missing and {checkout} is not an autoresearch checkout; "
        "install autoresearch from a wheel built with `pip wheel .` in a checkout, or run from the checkout"
    )


def template_files(template: Template) -> list[str]:
    """The files a new project gets: everything but this repo's ideas, reports, papers and calibration."""
    chosen = []
    for rel in template.files:
        folder = next((f for f in KEEP_ONLY if rel.startswith(f)), None)
        if folder is None or rel in KEEP_ONLY[folder]:
            chosen.append(rel)
    return chosen


def _check_target(dest: Path) -> None:
    if dest.exists() and not dest.is_dir():
        raise UserError(f"{dest} exists and is not a folder; give a new or empty folder")
    if dest.is_dir() and any(dest.iterdir()):
        raise UserError(f"{dest} is not empty; init writes only into a new or empty folder, so nothing was written")


def _one_line(value: str, flag: str) -> str:
    line = " ".join(value.split())
    if value and not line:
        raise UserError(f"--{flag} is blank; give a sentence or leave the flag out")
    if FILL_IN_RE.search(line):
        raise UserError(f"--{flag} contains a FILL_IN placeholder; give the real text or leave the flag out")
    return line


def _replace_line(text: str, prefix: str, value: str, name: str) -> str:
    """Replace the first line starting with `prefix` (and its paragraph's continuation lines) by `prefix value`."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith(prefix):
            end = i + 1
            while end < len(lines) and lines[end].strip() and not lines[end].startswith(("**", "#")):
                end += 1
            lines[i:end] = [f"{prefix} {value}\n"]
            return "".join(lines)
    raise UserError(f"{name}: no line starting with {prefix!r}; restore it from the template")


def _set_toml_key(text: str, key: str, value: str, name: str) -> str:
    """Set `key = "value"` inside the [tool.autoresearch] table."""
    section = re.search(r"^\[tool\.autoresearch\]\n(?:(?!\[).*\n?)*", text, re.MULTILINE)
    if section is None:
        raise UserError(f"{name}: no [tool.autoresearch] table; restore it from the template")
    body, n = re.subn(rf'^{key}\s*=.*$', f'{key} = "{value}"', section.group(0), count=1, flags=re.MULTILINE)
    if n == 0:
        body = section.group(0).rstrip("\n") + f'\n{key} = "{value}"\n'
    return text[: section.start()] + body + text[section.end() :]


def _current_direction(pyproject: str) -> str:
    import tomllib

    return tomllib.loads(pyproject)["tool"]["autoresearch"].get("direction", "lower")


def _fill(stage: Path, project: str, metric: str, direction: str | None, hypothesis_space: str) -> None:
    """Write the flags (or visible FILL_IN placeholders) into program.md, problem.md and pyproject.toml."""
    pyproject = stage / "pyproject.toml"
    toml = pyproject.read_text()
    if metric:
        toml = _set_toml_key(toml, "metric", metric, "pyproject.toml")
    if direction:
        toml = _set_toml_key(toml, "direction", direction, "pyproject.toml")
    pyproject.write_text(toml)
    direction = direction or _current_direction(toml)
    project = project or PLACEHOLDERS["project"]
    metric_text = metric or PLACEHOLDERS["metric"]
    hypothesis_space = hypothesis_space or PLACEHOLDERS["hypothesis_space"]

    program = stage / "program.md"
    text = program.read_text()
    text = _replace_line(text, "Project:", project, "program.md")
    text = _replace_line(text, "Metric:", f"{metric_text} ({direction} is better)", "program.md")
    text = _replace_line(text, "Hypothesis space:", hypothesis_space, "program.md")
    program.write_text(text)

    problem = stage / "0_docs" / "problem.md"
    text = problem.read_text()
    text = _replace_line(text, "**Project:**", project, "0_docs/problem.md")
    metric_md = f"`{metric}`" if metric else metric_text
    text = _replace_line(text, "**Metric:**", f"{metric_md} ({direction} is better)", "0_docs/problem.md")
    text = _replace_line(text, "**Hypothesis space:**", hypothesis_space, "0_docs/problem.md")
    problem.write_text(text)


def _reset_records(stage: Path) -> None:
    """results.tsv back to its header, each journal back to its header: no entries, no rows."""
    from autoresearch.journal import JOURNALS, parse
    from autoresearch.results import HEADER

    (stage / "results.tsv").write_text(HEADER)
    for name in JOURNALS.values():
        path = stage / name
        header, _ = parse(path.read_text())
        path.write_text(header.rstrip("\n") + "\n")


def fill_ins(root: Path) -> list[str]:
    """`file:line: {FILL_IN: ...}` for every placeholder still in program.md and 0_docs/problem.md."""
    found = []
    for rel in FILL_IN_FILES:
        path = root / rel
        if not path.is_file():
            continue
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            found += [f"{rel}:{n}: {m.group(0)}" for m in FILL_IN_RE.finditer(line)]
    return found


def _git(dest: Path, *args: str, env: dict[str, str] | None = None) -> str:
    out = subprocess.run(["git", *args], cwd=dest, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        said = [line.strip(" │╭╮╰╯─") for line in (out.stderr + out.stdout).splitlines()]
        said = " / ".join(line for line in said if line)[:400]
        raise UserError(f"`git {args[0]}` failed in {dest}: {said}")
    return out.stdout.strip()


def _ensure_identity(dest: Path) -> str:
    """Use the configured git identity; only when there is none, set a local fallback and say so."""
    missing = [k for k in ("user.name", "user.email")
               if subprocess.run(["git", "config", k], cwd=dest, capture_output=True).returncode != 0]
    if not missing:
        return ""
    name, email = FALLBACK_IDENTITY
    _git(dest, "config", "user.name", name)
    _git(dest, "config", "user.email", email)
    return (f"git had no {' or '.join(missing)}: this project uses '{name} <{email}>' "
            "(change it with git config user.name/user.email)")


def _install_hooks(dest: Path) -> list[str]:
    """`autoresearch hooks install` in the new project; its lines, for the summary."""
    import contextlib
    import io

    from autoresearch import hooks

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = hooks.install(dest)
    if code != 0:
        raise UserError(f"hooks install failed in {dest}: {out.getvalue().strip()}")
    return out.getvalue().strip().splitlines()


def _git_init(dest: Path) -> tuple[str, str, list[str], str]:
    from autoresearch.taxonomy import Taxonomy

    branch = Taxonomy.load(dest / "pyproject.toml").main_branch
    _git(dest, "init", "-q", "-b", branch)
    note = _ensure_identity(dest)
    hooks = _install_hooks(dest)
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", COMMIT_MESSAGE)  # the guard hook lets a repository's first commit through
    return branch, _git(dest, "rev-parse", "--short", "HEAD"), hooks, note


def new_project(
    dest: Path, project: str = "", metric: str = "", direction: str | None = None, hypothesis_space: str = ""
) -> NewProject:
    """Copy the template into `dest` (new or empty), fill in the flags, reset the records, git init and commit."""
    dest = Path(os.path.abspath(dest.expanduser()))  # absolute, with .. resolved (symlinks kept)
    _check_target(dest)
    project, hypothesis_space = _one_line(project, "project"), _one_line(hypothesis_space, "hypothesis-space")
    if metric and not METRIC_RE.fullmatch(metric):
        raise UserError(f"--metric {metric!r}: use a column-like name (letters, digits, _ . -), e.g. val_bpb")
    if direction not in (None, "lower", "higher"):
        raise UserError(f"--direction {direction!r}: expected lower or higher")
    if shutil.which("git") is None:
        raise UserError("git is not on PATH; install git, then run init again")
    template = find_template()
    files = template_files(template)
    if dest.resolve().is_relative_to(template.root) and template.origin == "checkout":
        raise UserError(f"{dest} is inside the template checkout {template.root}; give a folder outside it, e.g. ../myproj")
    dest.parent.mkdir(parents=True, exist_ok=True)
    existed = dest.is_dir()
    stage = Path(tempfile.mkdtemp(prefix=f".{dest.name}.init-", dir=dest.parent))
    try:
        for rel in files:
            target = stage / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(template.root / rel, target, follow_symlinks=False)
        _fill(stage, project, metric, direction, hypothesis_space)
        _reset_records(stage)
        os.chmod(stage, 0o755)
        os.replace(stage, dest)  # a new folder appears whole; an empty existing one is replaced
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    try:
        branch, commit, hooks, note = _git_init(dest)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        if existed:
            dest.mkdir()
        raise
    return NewProject(dest, template, len(files), commit, branch, tuple(hooks), note, tuple(fill_ins(dest)))


def print_summary(new: NewProject) -> None:
    print(f"created {new.path} from the autoresearch template ({new.template.origin} {new.template.root}, {new.files} files)")
    print(f"git: new repository on {new.branch}, first commit {new.commit} \"{COMMIT_MESSAGE}\"")
    for line in new.hooks:
        print(line)
    if new.identity_note:
        print(f"note: {new.identity_note}")
    if new.fill_ins:
        print(f"still to fill in ({len(new.fill_ins)}; `autoresearch check` warns until none is left):")
        for line in new.fill_ins:
            print(f"  {line}")
    else:
        print("nothing left to fill in")
    print(f"next: cd {new.path} && bash setup.sh && .venv/bin/just smoke")
