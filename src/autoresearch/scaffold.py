"""`autoresearch init` and `autoresearch update`: a new project from the template, and the template's later fixes merged into it.

The template is a git repository: the checkout this package runs from (the editable install that
setup.sh makes), else `--template PATH`. A project is rendered from the template's last commit,
never from its working files, so that it records exactly which commit it came from
(`[tool.autoresearch.template]` in its pyproject.toml, with the answers it was made with).

Rendering one template commit: its files without this repo's research (ideas, reports, papers,
calibration), the files of an example laid over them (`src/autoresearch/examples/<name>/`, laid out
as a project is, with its settings and lines in `example.toml`; `lm`, the default, is the template
itself), the answers (--project,
--metric, --direction, --hypothesis-space) written into program.md, 0_docs/problem.md and
pyproject.toml, and the records (results.tsv, the journals) reset to their headers.

init commits the rendering as the project's first commit and keeps the branch
`autoresearch-template` on it. update renders a newer template commit with the same answers as a
child commit on that branch, then merges the branch into main: git's three-way merge takes the
template's changes and keeps the project's own, and the records never conflict because every
rendering has them empty. Usage:

    autoresearch init ../myproj --project "..." --metric val_bpb --direction lower --hypothesis-space "..." [--example lm] [--template PATH]
    META_MODE=1 autoresearch update [--template PATH]      (in the project's root checkout, on main)
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autoresearch.errors import UserError
from autoresearch.paths import JOURNALS, RESULTS

if TYPE_CHECKING:
    from autoresearch.paths import Project

COMMIT_MESSAGE = "init from autoresearch template"
FALLBACK_IDENTITY = ("autoresearch init", "autoresearch@localhost")
TEMPLATE_BRANCH = "autoresearch-template"
EXAMPLES = "src/autoresearch/examples"
EXAMPLE_FILE = "example.toml"
DEFAULT_EXAMPLE = "lm"
"""The template itself: no overlay, no settings."""

# Folders whose contents are this repo's research, not the template: only these files come along.
KEEP_ONLY = {
    "1_ideas/": ("1_ideas/_TEMPLATE.md",),
    "9_reports/": ("9_reports/_TEMPLATE.md",),
    "5_worktrees/": ("5_worktrees/.gitkeep",),
    "0_docs/papers/": ("0_docs/papers/.gitkeep",),
    ".autoresearch/": (),
}
RECORDS = (RESULTS, *JOURNALS)
"""Reset to their headers in every rendering."""
PROBLEM = "0_docs/problem.md"
FILL_IN_FILES = ("program.md", PROBLEM)
FILL_IN_RE = re.compile(r"\{FILL_IN:?[^}]*\}")
PLACEHOLDERS = {
    "project": "{FILL_IN: one sentence describing the research problem}",
    "metric": "{FILL_IN: what we optimize, e.g. val_bpb, accuracy, F1}",
    "hypothesis_space": "{FILL_IN: what class of approaches are in scope}",
}
METRIC_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
EXAMPLE_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")
EXAMPLE_SETTINGS = ("metric", "direction", "meaningful_effect")
"""Keys of example.toml that go into the project's [tool.autoresearch]."""
EXAMPLE_LINES = {"project": "project", "metric_text": "metric", "hypothesis_space": "hypothesis_space"}
"""Keys of example.toml that give a line of program.md and 0_docs/problem.md (as the flags do)."""
RECORD_COMMENT = "where this project came from: `autoresearch update` renders newer template commits with these answers"


@dataclass(frozen=True)
class Answers:
    """What init was told; update renders every later template commit with the same. "" = not given."""

    project: str = ""
    metric: str = ""
    direction: str = ""
    """lower, higher, or "" for the example's (else the template's)"""
    hypothesis_space: str = ""
    example: str = DEFAULT_EXAMPLE


@dataclass(frozen=True)
class Template:
    root: Path
    """The template's git checkout."""
    commit: str
    """The commit a rendering comes from: the checkout's HEAD."""
    uncommitted: tuple[str, ...]
    """Files a rendering would take that have uncommitted changes there (they are not rendered)."""

    @property
    def short(self) -> str:
        return self.commit[:7]


@dataclass(frozen=True)
class Example:
    name: str
    settings: dict[str, Any]
    """Keys of the project's [tool.autoresearch]: metric, direction, meaningful_effect, ..."""
    program: dict[str, str]
    """The lines of program.md and 0_docs/problem.md: project, metric, hypothesis_space."""
    own_problem: bool = False
    """The example ships its 0_docs/problem.md: its lines stand as written there, unless a flag changes them."""


@dataclass(frozen=True)
class NewProject:
    path: Path
    template: Template
    example: str
    files: int
    commit: str
    branch: str
    hooks: tuple[str, ...]
    """`autoresearch hooks install`'s lines"""
    identity_note: str
    fill_ins: tuple[str, ...]
    """`file:line: {FILL_IN: ...}` for each placeholder left to fill in."""


@dataclass(frozen=True)
class TemplateUpdate:
    root: Path
    template: Template
    previous: str
    """The template commit the project had before."""
    merged: bool
    """False when main already had this template commit."""
    changed: tuple[str, ...]
    """Files the merge changed (or would change, with conflicts)."""
    conflicts: tuple[str, ...]


def _run_git(
    cwd: Path, *args: str, env: dict[str, str] | None = None, text: bool = True
) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=text, env=env, check=False)


def _git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    out = _run_git(cwd, *args, env=env)
    if out.returncode != 0:
        raise UserError(f"`git {args[0]}` failed in {cwd}: {_said(out)}")
    return out.stdout.strip()


def _said(out: subprocess.CompletedProcess) -> str:
    lines = [line.strip(" │╭╮╰╯─") for line in (out.stderr + out.stdout).splitlines()]
    return " / ".join(line for line in lines if line)[:400]


def taken(rel: str) -> bool:
    """Whether a rendering takes the template's file `rel` as it is: not research, not a record."""
    if rel in RECORDS:
        return False
    folder = next((f for f in KEEP_ONLY if rel.startswith(f)), None)
    return folder is None or rel in KEEP_ONLY[folder]


def _package_checkout() -> Path:
    """The checkout this package runs from (src/autoresearch/scaffold.py -> the checkout), when it is one."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / ".git").exists() and (checkout / "program.md").is_file():
        return checkout
    raise UserError(
        f"autoresearch runs from {Path(__file__).resolve().parent}, which is not inside a template checkout; "
        "give the template with --template PATH (a git clone of the autoresearch template)"
    )


def find_template(path: Path | None = None) -> Template:
    """The template at `path` (default: this package's checkout), to be rendered at its HEAD commit."""
    if path is None:
        root = _package_checkout()
    else:
        root = Path(os.path.abspath(path.expanduser()))
        if not root.is_dir():
            raise UserError(f"--template {path}: no such folder; give a git checkout of the autoresearch template")
    top = _run_git(root, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise UserError(f"template {root} is not a git checkout; give a git clone of the autoresearch template")
    root = Path(top.stdout.strip())
    commit = _run_git(root, "rev-parse", "--verify", "-q", "HEAD^{commit}")
    if commit.returncode != 0:
        raise UserError(
            f"template {root} has no commit yet; init renders the last commit, so commit the template first"
        )
    for rel in ("program.md", "pyproject.toml"):
        if _run_git(root, "cat-file", "-e", f"HEAD:{rel}").returncode != 0:
            raise UserError(f"template {root}: its last commit has no {rel}, so it is not an autoresearch template")
    changed = _git(root, "diff", "--name-only", "-z", "HEAD").split("\0")
    changed += _git(root, "ls-files", "-z", "--others", "--exclude-standard").split("\0")
    uncommitted = sorted({rel for rel in changed if rel and taken(rel)})
    return Template(root, commit.stdout.strip(), tuple(uncommitted))


def _check_target(dest: Path) -> None:
    if dest.exists() and not dest.is_dir():
        raise UserError(f"{dest} exists and is not a folder; give a new or empty folder")
    if dest.is_dir() and any(dest.iterdir()):
        raise UserError(f"{dest} is not empty; init writes only into a new or empty folder, so nothing was written")


def _one_line(value: str, name: str) -> str:
    line = " ".join(value.split())
    if value and not line:
        raise UserError(f"{name} is blank; give a sentence or leave it out")
    if FILL_IN_RE.search(line):
        raise UserError(f"{name} contains a FILL_IN placeholder; give the real text or leave it out")
    return line


def checked(answers: Answers) -> Answers:
    """The answers with their sentences on one line; a UserError naming the flag when one is malformed."""
    if answers.metric and not METRIC_RE.fullmatch(answers.metric):
        raise UserError(f"--metric {answers.metric!r}: use a column-like name (letters, digits, _ . -), e.g. val_bpb")
    if answers.direction not in ("", "lower", "higher"):
        raise UserError(f"--direction {answers.direction!r}: expected lower or higher")
    if not EXAMPLE_RE.fullmatch(answers.example):
        raise UserError(
            f"--example {answers.example!r}: an example is named in lower-case letters, digits, - and _, e.g. lm"
        )
    return Answers(
        _one_line(answers.project, "--project"),
        answers.metric,
        answers.direction,
        _one_line(answers.hypothesis_space, "--hypothesis-space"),
        answers.example,
    )


def _archive(template: Template) -> bytes:
    out = _run_git(template.root, "archive", "--format=tar", template.commit, text=False)
    if out.returncode != 0:
        raise UserError(
            f"`git archive {template.short}` failed in {template.root}: {out.stderr.decode(errors='replace').strip()[:400]}"
        )
    return out.stdout


def _example(tar: Any, members: dict[str, Any], name: str, template: Template) -> tuple[Example, dict[str, Any]]:
    """The example `name` in the template commit: its settings, and its files (project path -> tar member)."""
    import tomllib

    prefix = f"{EXAMPLES}/{name}/"
    overlay = {rel[len(prefix) :]: m for rel, m in members.items() if rel.startswith(prefix)}
    where = f"{prefix}{EXAMPLE_FILE} in the template {template.root} at {template.short}"
    if not overlay:
        if name == DEFAULT_EXAMPLE:
            return Example(name, {}, {}), {}
        known = {DEFAULT_EXAMPLE} | {
            rel.split("/")[3] for rel in members if rel.startswith(f"{EXAMPLES}/") and rel.count("/") > 3
        }
        raise UserError(
            f"--example {name}: the template {template.root} at {template.short} has no {prefix}; "
            f"its examples are: {', '.join(sorted(known))}"
        )
    spec = overlay.pop(EXAMPLE_FILE, None)
    if spec is None:
        raise UserError(f"{where} is missing; an example states its settings there")
    try:
        data = tomllib.loads(tar.extractfile(spec).read().decode("utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"{where}: not valid TOML ({e}); fix it in the template and commit") from None
    unknown = sorted(set(data) - set(EXAMPLE_SETTINGS) - set(EXAMPLE_LINES))
    if unknown:
        raise UserError(
            f"{where}: unknown key {unknown[0]!r}; it holds {', '.join((*EXAMPLE_SETTINGS, *EXAMPLE_LINES))}"
        )
    settings = {k: data[k] for k in EXAMPLE_SETTINGS if k in data}
    if not METRIC_RE.fullmatch(str(settings.get("metric", "val_bpb"))) or settings.get("direction", "lower") not in (
        "lower",
        "higher",
    ):
        raise UserError(f"{where}: metric must be a column-like name and direction lower or higher")
    lines = {line: _one_line(str(data[k]), f"{where}: {k}") for k, line in EXAMPLE_LINES.items() if k in data}
    return Example(name, settings, lines, PROBLEM in overlay), overlay


def _results_header(metric: str) -> str:
    """The header line of a new project's results.tsv (for its metric)."""
    from autoresearch.results import header

    return header(metric)


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


def _fill(stage: Path, answers: Answers, example: Example, record: dict[str, str]) -> str:
    """Write the settings and the lines into pyproject.toml, program.md and problem.md; the project's metric.

    A flag wins over the example; a line that neither gives becomes a visible FILL_IN placeholder.
    """
    import tomlkit

    pyproject = stage / "pyproject.toml"
    doc = tomlkit.parse(pyproject.read_text())
    table = doc.get("tool", {}).get("autoresearch")
    if table is None:
        raise UserError(
            "pyproject.toml of the template has no [tool.autoresearch] table; restore it in the template and commit"
        )
    settings = {
        **example.settings,
        **{k: v for k, v in (("metric", answers.metric), ("direction", answers.direction)) if v},
    }
    for key, value in settings.items():
        table[key] = value
    table.pop("audit_since", None)  # the template's own history: a new project's audit starts at its first commit
    template_table = tomlkit.table()
    template_table.add(tomlkit.comment(RECORD_COMMENT))
    for key, value in record.items():
        template_table.add(key, value)
    table["template"] = template_table
    pyproject.write_text(tomlkit.dumps(doc))
    direction, metric = table.get("direction", "lower"), table.get("metric", "val_bpb")

    def line(key: str) -> str:
        return getattr(answers, key) or example.program.get(key) or PLACEHOLDERS[key]

    project, hypothesis_space = line("project"), line("hypothesis_space")
    metric_text = f"{line('metric')} ({direction} is better)"
    program = stage / "program.md"
    text = program.read_text()
    text = _replace_line(text, "Project:", project, "program.md")
    text = _replace_line(text, "Metric:", metric_text, "program.md")
    text = _replace_line(text, "Hypothesis space:", hypothesis_space, "program.md")
    program.write_text(text)

    problem = stage / PROBLEM
    text = problem.read_text()
    metric_md = f"`{answers.metric}` ({direction} is better)" if answers.metric else metric_text
    for prefix, key, value in (
        ("**Project:**", "project", project),
        ("**Metric:**", "metric", metric_md),
        ("**Hypothesis space:**", "hypothesis_space", hypothesis_space),
    ):
        flagged = bool(getattr(answers, key)) or (key == "metric" and bool(answers.direction))
        if flagged or not (example.own_problem and key in example.program):
            text = _replace_line(text, prefix, value, PROBLEM)
    problem.write_text(text)
    return str(metric)


def _reset_records(stage: Path, metric: str) -> None:
    """results.tsv back to its header, each journal back to its header: no entries, no rows."""
    from autoresearch.journal import JOURNALS, parse

    (stage / "results.tsv").write_text(_results_header(metric))
    for name in JOURNALS.values():
        path = stage / name
        header, _ = parse(path.read_text())
        path.write_text(header.rstrip("\n") + "\n")


def render(template: Template, answers: Answers, dest: Path) -> int:
    """Write the template's commit, rendered with `answers`, into the empty folder dest; the number of files."""
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(_archive(template))) as tar:
        members = {m.name: m for m in tar.getmembers() if m.isfile() or m.issym()}
        example, overlay = _example(tar, members, answers.example, template)
        chosen = {rel: m for rel, m in members.items() if taken(rel) or rel in RECORDS}
        chosen |= {rel: m.replace(name=rel, deep=False) for rel, m in overlay.items()}
        for member in chosen.values():
            tar.extract(member, dest, filter="data")
    record = {"source": str(template.root), "commit": template.commit, **asdict(answers)}
    metric = _fill(dest, answers, example, record)
    _reset_records(dest, metric)
    return len(chosen)


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


def _ensure_identity(dest: Path) -> str:
    """Use the configured git identity; only when there is none, set a local fallback and say so."""
    missing = [k for k in ("user.name", "user.email") if _run_git(dest, "config", k).returncode != 0]
    if not missing:
        return ""
    name, email = FALLBACK_IDENTITY
    _git(dest, "config", "user.name", name)
    _git(dest, "config", "user.email", email)
    return (
        f"git had no {' or '.join(missing)}: this project uses '{name} <{email}>' "
        "(change it with git config user.name/user.email)"
    )


def _install_hooks(dest: Path) -> list[str]:
    """`autoresearch hooks install` in the new project; its lines, for the summary."""
    import contextlib

    from autoresearch import hooks

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = hooks.install(dest)
    if code != 0:
        raise UserError(f"hooks install failed in {dest}: {out.getvalue().strip()}")
    return out.getvalue().strip().splitlines()


def _git_init(dest: Path, template: Template, example: str) -> tuple[str, str, list[str], str]:
    from autoresearch.config import Config

    pyproject = dest / "pyproject.toml"
    branch = Config.from_text(pyproject.read_text(), str(pyproject)).main_branch
    _git(dest, "init", "-q", "-b", branch)
    note = _ensure_identity(dest)
    hooks = _install_hooks(dest)
    _git(dest, "add", "-A", "--force")  # every rendered file, as update's renderings are committed
    body = f"template {template.root} at {template.commit}, example {example}"
    _git(
        dest, "commit", "-q", "-m", COMMIT_MESSAGE, "-m", body
    )  # the guard hook lets a repository's first commit through
    _git(dest, "branch", TEMPLATE_BRANCH)
    return branch, _git(dest, "rev-parse", "--short", "HEAD"), hooks, note


def new_project(dest: Path, answers: Answers, template_path: Path | None = None) -> NewProject:
    """Render the template's last commit into `dest` (new or empty), git init, commit, keep the template branch."""
    dest = Path(os.path.abspath(dest.expanduser()))  # absolute, with .. resolved (symlinks kept)
    _check_target(dest)
    answers = checked(answers)
    if shutil.which("git") is None:
        raise UserError("git is not on PATH; install git, then run init again")
    template = find_template(template_path)
    if dest.resolve().is_relative_to(template.root.resolve()):
        raise UserError(
            f"{dest} is inside the template checkout {template.root}; give a folder outside it, e.g. ../myproj"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    existed = dest.is_dir()
    stage = Path(tempfile.mkdtemp(prefix=f".{dest.name}.init-", dir=dest.parent))
    try:
        files = render(template, answers, stage)
        os.chmod(stage, 0o755)
        os.replace(stage, dest)  # a new folder appears whole; an empty existing one is replaced
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    try:
        branch, commit, hooks, note = _git_init(dest, template, answers.example)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        if existed:
            dest.mkdir()
        raise
    return NewProject(dest, template, answers.example, files, commit, branch, tuple(hooks), note, tuple(fill_ins(dest)))


def _template_record(root: Path) -> dict[str, str]:
    """[tool.autoresearch.template] as the last rendering (the template branch's tip) wrote it."""
    import tomllib

    text = _git(root, "show", f"{TEMPLATE_BRANCH}:pyproject.toml")
    record = tomllib.loads(text).get("tool", {}).get("autoresearch", {}).get("template")
    keys = {"source", "commit", *asdict(Answers())}
    if not isinstance(record, dict) or not keys <= set(record):
        raise UserError(
            f"pyproject.toml on branch {TEMPLATE_BRANCH} has no complete [tool.autoresearch.template] "
            f"({', '.join(sorted(keys))}); it is written by `autoresearch init`, so update cannot tell what to render"
        )
    return {k: str(record[k]) for k in keys}


def _commit_rendering(root: Path, stage: Path, parent: str, message: str) -> str:
    """Commit the folder `stage` as a child of `parent` without touching any checkout, index or hook; its hash."""
    git_dir = _git(root, "rev-parse", "--absolute-git-dir")
    with tempfile.TemporaryDirectory(prefix="autoresearch-index-") as tmp:
        env = os.environ | {"GIT_DIR": git_dir, "GIT_WORK_TREE": str(stage), "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        _git(stage, "add", "-A", "--force", env=env)
        tree = _git(stage, "write-tree", env=env)
    from autoresearch.audit import trailer_line
    from autoresearch.metamode import meta_mode
    from autoresearch.paths import Project

    project = Project.find(root)  # update runs in META_MODE: the rendering carries the stamp `check` audits for
    return _git(
        root,
        "commit-tree",
        tree,
        "-p",
        parent,
        "-m",
        message,
        "-m",
        trailer_line(project, tree, meta_mode(project).why),
    )


def update(project: Project, template_path: Path | None = None) -> TemplateUpdate:
    """Render the template's last commit with the project's answers onto its template branch, and merge that into main."""
    from autoresearch.config import Config
    from autoresearch.metamode import meta_mode

    root = project.root
    if project.in_worktree:
        raise UserError(f"update merges into main in the root checkout; run it in {root}")
    if _run_git(root, "rev-parse", "--verify", "-q", f"refs/heads/{TEMPLATE_BRANCH}").returncode != 0:
        raise UserError(
            f"{root} has no branch {TEMPLATE_BRANCH}: `autoresearch init` keeps the template's rendering there, "
            "and update merges template changes against it; a project made otherwise cannot be updated this way"
        )
    main = Config.load(project).main_branch
    if _git(root, "branch", "--show-current") != main:
        raise UserError(f"update merges into {main}: switch the root checkout to it first (`git switch {main}`)")
    mode = meta_mode(project)
    if not mode.on:
        raise UserError(
            "update merges template changes into FROZEN files (program.md, the toolkit, ...), so it needs META_MODE: "
            "run `META_MODE=1 autoresearch update`, or add a human_journal.md entry with the line META_MODE=1 "
            f"({mode.why})"
        )
    record = _template_record(root)
    source = template_path or Path(record["source"])
    if template_path is None and not source.is_dir():
        raise UserError(
            f"the template {source} recorded in [tool.autoresearch.template] is gone; give its new place with --template PATH"
        )
    template = find_template(source)
    answers = Answers(**{k: record[k] for k in asdict(Answers())})
    if template.commit != record["commit"] or str(template.root) != record["source"]:
        with tempfile.TemporaryDirectory(prefix="autoresearch-render-") as tmp:
            render(template, answers, Path(tmp))
            parent = _git(root, "rev-parse", TEMPLATE_BRANCH)
            body = f"template {template.root} at {template.commit}, example {answers.example}"
            commit = _commit_rendering(root, Path(tmp), parent, f"autoresearch template {template.short}\n\n{body}")
        _git(root, "update-ref", f"refs/heads/{TEMPLATE_BRANCH}", commit, parent)
    previous = record["commit"]
    if _run_git(root, "merge-base", "--is-ancestor", TEMPLATE_BRANCH, "HEAD").returncode == 0:
        return TemplateUpdate(root, template, previous, False, (), ())
    changed = tuple(_git(root, "diff", "--name-only", f"HEAD...{TEMPLATE_BRANCH}").splitlines())
    message = f"update from the autoresearch template {template.short} (was {previous[:7]})"
    out = _run_git(root, "merge", "--no-ff", "--no-edit", "-m", message, TEMPLATE_BRANCH)
    if out.returncode != 0:
        conflicts = tuple(_git(root, "diff", "--name-only", "--diff-filter=U").splitlines())
        if not conflicts:
            raise UserError(f"`git merge {TEMPLATE_BRANCH}` failed in {root}: {_said(out)}")
        return TemplateUpdate(root, template, previous, True, changed, conflicts)
    return TemplateUpdate(root, template, previous, True, changed, ())


def _uncommitted_warning(template: Template) -> str:
    shown = ", ".join(template.uncommitted[:5]) + (", ..." if len(template.uncommitted) > 5 else "")
    return (
        f"warning: the template {template.root} has uncommitted changes ({shown}); they are not in this rendering "
        f"of its last commit {template.short}: commit them there to include them"
    )


def print_summary(new: NewProject) -> None:
    if new.template.uncommitted:
        print(_uncommitted_warning(new.template))
    print(
        f"created {new.path} from the autoresearch template {new.template.root} at {new.template.short} "
        f"(example {new.example}, {new.files} files)"
    )
    print(
        f'git: new repository on {new.branch}, first commit {new.commit} "{COMMIT_MESSAGE}", '
        f"kept as branch {TEMPLATE_BRANCH} for `autoresearch update`"
    )
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


def print_update(up: TemplateUpdate) -> int:
    """Say what update did; 1 when the merge stopped on conflicts."""
    if up.template.uncommitted:
        print(_uncommitted_warning(up.template))
    if not up.merged:
        print(
            f"update: already at the template's last commit {up.template.short} ({up.template.root}); nothing to merge"
        )
        return 0
    files = f"{len(up.changed)} file{'s' * (len(up.changed) != 1)}"
    if up.conflicts:
        print(
            f"update: merging the template {up.template.short} (was {up.previous[:7]}) into this project stopped on "
            f"conflicts in {len(up.conflicts)} of {files}:"
        )
        for rel in up.conflicts:
            print(f"  {rel}")
        print(
            "git left both sides in each file between <<<<<<< and >>>>>>>: keep what the project needs, `git add` the files, "
            "then `META_MODE=1 git commit --no-edit`; or `git merge --abort` to leave main as it was "
            "(`autoresearch update` merges again later)"
        )
        return 1
    print(
        f"update: merged the template {up.template.short} (was {up.previous[:7]}) from {up.template.root}: {files} changed "
        f"(`git diff --stat HEAD^ HEAD`); run `bash setup.sh` again if pyproject.toml or the lock files changed"
    )
    return 0
