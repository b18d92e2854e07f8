"""Which shell commands the agent may not run: the Bash half of the Claude Code hook (`guard agent`).

`problem(command)` reads a command the way bash would, then judges its words, not its raw text:
it splits the command into simple commands (`;`, `&&`, `||`, `|`, newlines, `( )`, `{ }`), takes
the bodies of `$(...)`, backticks, `<(...)`, heredocs, `bash -c`/`sh -c`, `eval`, `watch`, `env -S`,
`find -exec` and wrappers (`sudo`, `env`, `xargs`, `timeout`, ...) apart as commands of their own,
and undoes quoting per word (`'...'`, `"..."`, `$'\\x41'`, backslashes, M"ETA"_MODE, `{a,b}`).
It refuses, with one line that says what to do instead:
- setting META_MODE in any way (an assignment, `export`/`declare`/`env`/`read`/`printf -v`,
  `${META_MODE:=1}`, `((META_MODE=1))`, `os.environ['META_MODE'] = ...` in `python -c`), unless
  META_MODE is already on; reading it (`echo $META_MODE`, `grep META_MODE`) and `unset` are fine;
- writing human_journal.md: any command that names it (literally, by a path, by a glob such as
  `hum*_journal.md`, or inside a program given inline) unless that command only reads (cat, grep,
  head, git log, `sed -n`, ...), and any redirection into it;
- touching `.git/hooks` or `.git/config` other than by looking, setting core.hooksPath (git config,
  `git -c`, GIT_CONFIG_*, an included config), and skipping the hooks: `--no-verify` and every
  prefix of it git might accept (from `--no-v` on), `git commit -n` (also inside `-qnm`), and the
  plumbing that makes commits without them (commit-tree, update-ref, replace, filter-branch);
- `--journal human` in any spelling, and `acknowledge` (both the researcher's alone).
Text that is data stays data: a commit message (`-m`, `-F`), what `echo` prints (unless a shell,
an interpreter or xargs reads it), the patterns of `grep`, the titles and observations given to
`just journal`. A glob counts where it could reach the root copy (`rm *`, `rm ../../*`, `$D/*`),
not in a named folder (`rm 7_runs/*`). Whatever the guard cannot read (nesting deeper than
MAX_DEPTH, thousands of brace expansions) is refused.

This is a tripwire against the obvious and the careless, not a sandbox. A determined agent gets
past it by writing a program first and running it: a Python file made with the Write tool that
appends to "human_" + "journal.md" (or sets os.environ and calls git), or a shell script, `.env`
file or patch it writes in one command and sources, runs or applies in the next. Names computed
at run time (`$(ls | grep hum)`), variables carried from one command to the next, a HOME or
XDG_CONFIG_HOME whose git config sets core.hooksPath, and git commands that move main without a
commit hook (cherry-pick, rebase, reset, `push . x:main`) are not followed either. It reads bash
syntax; zsh's extras are not modelled. What gets past shows up in the record, so
`autoresearch check` and the record's audit (append-only journals, FROZEN history with META_MODE
recorded at commit time) are what catch it.

Usage:
    from autoresearch import shellguard
    shellguard.problem("export META_MODE=1")      # -> "META_MODE is the researcher's switch ..."
    shellguard.problem("cat human_journal.md")    # -> None: reading is allowed
"""

from __future__ import annotations

import fnmatch
import itertools
import posixpath
import re
from dataclasses import dataclass, field

SETS_META_MODE = (
    "META_MODE is the researcher's switch (the newest human_journal.md entry, or their own shell): the agent never "
    "sets it, in any spelling; leave FROZEN files alone and change train.py or model.py instead"
)
WRITES_HUMAN_JOURNAL = (
    "human_journal.md is the researcher's journal: the agent never writes it (cat, grep or git log may read it); "
    'write to RESEARCH_JOURNAL.md with `just journal "title" --observation ...`'
)
HUMAN_JOURNAL_TOOL = (
    "human_journal.md is the researcher's journal: `--journal human` is theirs alone; "
    'write to RESEARCH_JOURNAL.md with `just journal "title" --observation ...`'
)
TOUCHES_HOOKS = (
    ".git/hooks and .git/config hold the guard hooks: the agent may only look at them (ls, cat); "
    "`autoresearch hooks status` shows them and `autoresearch hooks install` repairs them"
)
HOOKS_PATH = (
    "setting core.hooksPath (git config, git -c, GIT_CONFIG_* or an included config file) would switch off the "
    "guard hooks: leave git's configuration alone; `autoresearch hooks status` shows the hooks"
)
SKIPS_HOOKS = (
    "skipping the git hooks (--no-verify or any abbreviation of it, git commit -n) is not allowed: "
    "fix what the hook refused instead; `autoresearch check` lists every problem"
)
BYPASSES_HOOKS = (
    "git commit-tree, update-ref, replace and filter-branch make or move commits without the hooks: commit with "
    "`git commit` in your worktree (the hooks check it); main changes only as program.md describes"
)
ACKNOWLEDGE = (
    "`acknowledge` records that the researcher accepts a past violation: only the researcher runs it; "
    "describe the problem in your report and in RESEARCH_JOURNAL.md instead"
)
TOO_COMPLEX = (
    "the guard cannot read this command (quoting or substitutions nested too deep, or too many brace "
    "expansions): write it as plain commands, one per line"
)

MAX_DEPTH = 8
MAX_ALTERNATIVES = 1024

# -- words -------------------------------------------------------------------------------------

BARE, QUOTED, EXPANSION = 0, 1, 2  # how a piece of a word was written
EXP = "\x00"  # an expansion's unknown value inside a glob pattern

ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z_0-9]*(\[[^\]]*\])?\+?=")
SETS_META = re.compile(r"META_MODE(\[[^\]]*\])?\+?=")
# an arithmetic or ${...} expansion that assigns: ${META_MODE:=1}, $((META_MODE=1)), ((META_MODE++))
ASSIGNS_META = re.compile(
    r"\bMETA_MODE\s*(?::|<<|>>|[-+*/%&|^])?=(?!=)|\bMETA_MODE\s*(?:\+\+|--)|(?:\+\+|--)\s*META_MODE\b"
)
# program text that assigns it: os.environ['META_MODE'] = ..., {'META_MODE': ...}, $ENV{META_MODE}=..., putenv(...)
CODE_SETS_META = re.compile(
    r"META_MODE['\"]?\s*[\]}]?\s*\+?=(?!=)|['\"]META_MODE['\"]\s*:|(?:putenv|setenv|setdefault|Setenv|update|__setitem__)\W+META_MODE"
)
GIT_CONFIG_ENV = re.compile(r"GIT_CONFIG(_[A-Za-z0-9_]*)?=")
NO_VERIFY = "--no-verify"

OPERATORS = (
    ";;&",
    ";;",
    ";&",
    "&&",
    "||",
    "|&",
    "&>>",
    "&>",
    "<<<",
    "<<-",
    "<<",
    ">>",
    ">|",
    ">&",
    "<&",
    "<>",
    ";",
    "&",
    "|",
    "(",
    ")",
    "<",
    ">",
    "\n",
)
REDIRECTS = {"&>>", "&>", "<<<", "<<-", "<<", ">>", ">|", ">&", "<&", "<>", "<", ">"}
WRITING = {"&>>", "&>", ">>", ">|", ">&", "<>", ">"}
BREAKS = set(" \t\n;&|()<>")
RESERVED = {"!", "{", "}", "then", "do", "else", "elif", "if", "while", "until", "fi", "done", "esac", "time", "coproc"}

HOOK_NAMES = (
    "pre-commit",
    "pre-merge-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "pre-push",
    "pre-rebase",
    "post-checkout",
    "post-merge",
    "post-rewrite",
    "pre-applypatch",
    "applypatch-msg",
    "reference-transaction",
    "pre-auto-gc",
)
HOOK_TARGETS = [".git", ".git/hooks", ".git/config", *(f".git/hooks/{h}" for h in HOOK_NAMES)]


@dataclass
class Word:
    atoms: list[tuple[str, int]] = field(default_factory=list)
    subs: list[str] = field(default_factory=list)
    """The scripts inside it: $(...), `...`, <(...), >(...)."""
    exps: list[str] = field(default_factory=list)
    """The insides of ${...}, $((...)) and $[...]."""

    @property
    def text(self) -> str:
        """The word with its quoting undone; an expansion stays as written ($x, $(...))."""
        return "".join(t for t, _ in self.atoms)

    @property
    def bare(self) -> bool:
        return all(how == BARE for _, how in self.atoms)

    @property
    def pattern(self) -> str | None:
        """A glob pattern (expansions as EXP) when the word has an unquoted glob character or an expansion."""
        if not any(how == EXPANSION or (how == BARE and t in "*?[") for t, how in self.atoms):
            return None
        return "".join(
            EXP if how == EXPANSION else f"[{t}]" if how == QUOTED and t in "*?[]" else t for t, how in self.atoms
        )

    @property
    def plain(self) -> str:
        """The text with each expansion replaced by `_`: what is left to read once substitutions are checked."""
        return "".join("_" if how == EXPANSION else t for t, how in self.atoms)

    def expand(self) -> list[Word]:
        """The words bash makes of it by brace expansion: `human_journal.{md,bak}` is two words."""
        alternatives = _braces(self.atoms)
        if len(alternatives) == 1:
            return [self]
        return [
            Word(atoms, self.subs if k == 0 else [], self.exps if k == 0 else [])
            for k, atoms in enumerate(alternatives)
        ]


class _TooComplex(Exception):
    pass


def _braces(atoms: list[tuple[str, int]], budget: list[int] | None = None) -> list[list[tuple[str, int]]]:
    budget = budget if budget is not None else [MAX_ALTERNATIVES]
    for i, atom in enumerate(atoms):
        if atom != ("{", BARE):
            continue
        depth, commas, end = 0, [], None
        for j in range(i, len(atoms)):
            if atoms[j] == ("{", BARE):
                depth += 1
            elif atoms[j] == ("}", BARE):
                depth -= 1
                if depth == 0:
                    end = j
                    break
            elif atoms[j] == (",", BARE) and depth == 1:
                commas.append(j)
        if end is None:
            continue
        if commas:
            bounds = [i, *commas, end]
            pieces = [atoms[a + 1 : b] for a, b in itertools.pairwise(bounds)]
        else:
            sequence = _sequence("".join(t for t, _ in atoms[i + 1 : end]))
            if sequence is None:
                continue
            pieces = sequence
        budget[0] -= len(pieces)
        if budget[0] < 0:
            raise _TooComplex
        return [alt for piece in pieces for alt in _braces(atoms[:i] + piece + atoms[end + 1 :], budget)]
    return [atoms]


def _sequence(inner: str) -> list[list[tuple[str, int]]] | None:
    m = re.fullmatch(r"(-?\d+|[A-Za-z])\.\.(-?\d+|[A-Za-z])(?:\.\.-?\d+)?", inner)
    if not m:
        return None
    a, b = m.group(1), m.group(2)
    if a.lstrip("-").isdigit() and b.lstrip("-").isdigit():
        lo, hi = sorted((int(a), int(b)))
        values = [str(v) for v in range(lo, min(hi, lo + MAX_ALTERNATIVES) + 1)]
    elif a.isalpha() and b.isalpha():
        lo, hi = sorted((ord(a), ord(b)))
        values = [chr(v) for v in range(lo, hi + 1)]
    else:
        return None
    return [[(ch, QUOTED) for ch in v] for v in values]


def _ansi_c(body: str) -> str:
    simple = {
        "n": "\n",
        "t": "\t",
        "r": "\r",
        "a": "\a",
        "b": "\b",
        "e": "\x1b",
        "E": "\x1b",
        "f": "\f",
        "v": "\v",
        "\\": "\\",
        "'": "'",
        '"': '"',
        "?": "?",
    }
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c != "\\" or i + 1 == len(body):
            out.append(c)
            i += 1
            continue
        n = body[i + 1]
        if n in simple:
            out.append(simple[n])
            i += 2
        elif n in "xuU":
            hexa = re.match(r"[0-9a-fA-F]{1,%s}" % {"x": "2", "u": "4", "U": "8"}[n], body[i + 2 :])  # noqa: UP031
            out.append(chr(int(hexa.group(), 16)) if hexa else "\\" + n)
            i += 2 + (len(hexa.group()) if hexa else 0)
        elif n in "01234567":
            octal = body[i + 1 : i + 4]
            octal = octal[: next((k for k, ch in enumerate(octal) if ch not in "01234567"), len(octal))]
            out.append(chr(int(octal, 8)))
            i += 1 + len(octal)
        elif n == "c" and i + 2 < len(body):
            out.append(chr(ord(body[i + 2].upper()) ^ 0x40))
            i += 3
        else:
            out.append("\\" + n)
            i += 2
    return "".join(out)


# -- the lexer ---------------------------------------------------------------------------------


@dataclass
class Redirect:
    op: str
    target: Word | None = None
    body: str | None = None


@dataclass
class Arith:
    text: str


class _Lexer:
    """bash's tokens, leniently: an unclosed quote or parenthesis runs to the end instead of failing."""

    def __init__(self, s: str) -> None:
        self.s, self.i, self.n = s, 0, len(s)

    def tokens(self) -> list:
        out: list = []
        heredocs: list[Redirect] = []
        s = self.s
        while self.i < self.n:
            c = s[self.i]
            if c in " \t\r":
                self.i += 1
            elif s.startswith("\\\n", self.i):
                self.i += 2
            elif c == "\n":
                out.append("\n")
                self.i += 1
                for redirect in heredocs:
                    self._heredoc_body(redirect)
                heredocs = []
            elif c == "#":
                end = s.find("\n", self.i)
                self.i = self.n if end < 0 else end
            elif s.startswith("((", self.i) and (not out or isinstance(out[-1], str)):
                start = self.i + 2
                self.i = self._balanced(start, "(", ")", depth=2)
                out.append(Arith(s[start : max(start, self.i - 2)]))
            else:
                fd = re.match(r"\d+(?=[<>])|\{[A-Za-z_]\w*\}(?=[<>])", s[self.i :])
                if fd:
                    self.i += fd.end()
                op = next((o for o in OPERATORS if s.startswith(o, self.i)), None)
                if op and not (op in ("<", ">") and s.startswith("(", self.i + 1)):
                    self.i += len(op)
                    out.append(Redirect(op) if op in REDIRECTS else op)
                    continue
                word = self.word()
                if out and isinstance(out[-1], Redirect) and out[-1].target is None:
                    out[-1].target = word
                    if out[-1].op in ("<<", "<<-"):
                        heredocs.append(out[-1])
                else:
                    out.append(word)
        for redirect in heredocs:  # a heredoc on the last line without its body
            redirect.body = redirect.body or ""
        return out

    def _heredoc_body(self, redirect: Redirect) -> None:
        delim = redirect.target.text if redirect.target else ""
        lines = []
        while self.i < self.n:
            end = self.s.find("\n", self.i)
            end = self.n if end < 0 else end
            line = self.s[self.i : end]
            self.i = min(end + 1, self.n)
            if (line.lstrip("\t") if redirect.op == "<<-" else line) == delim:
                break
            lines.append(line)
        redirect.body = "\n".join(lines)

    def _balanced(self, i: int, open_: str, close: str, depth: int = 1) -> int:
        """The index just past the `close` that brings depth to 0, skipping quoted text; the end if none."""
        s = self.s
        while i < self.n:
            c = s[i]
            if c == "\\":
                i += 2
                continue
            if c == "'" and open_ != "{":
                j = s.find("'", i + 1)
                i = self.n if j < 0 else j + 1
                continue
            if c == '"':
                i = self._skip_double(i + 1)
                continue
            if c == "`":
                j = s.find("`", i + 1)
                i = self.n if j < 0 else j + 1
                continue
            if c == open_:
                depth += 1
            elif c == close:
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        return self.n

    def _skip_double(self, i: int) -> int:
        while i < self.n:
            c = self.s[i]
            if c == "\\":
                i += 2
            elif c == '"':
                return i + 1
            elif self.s.startswith("$(", i):
                i = self._balanced(i + 2, "(", ")")
            else:
                i += 1
        return self.n

    def word(self) -> Word:
        w = Word()
        s = self.s
        while self.i < self.n:
            c = s[self.i]
            if c in BREAKS:
                if c in "<>" and s.startswith("(", self.i + 1):
                    start = self.i + 2
                    self.i = self._balanced(start, "(", ")")
                    w.subs.append(s[start : self.i - 1])
                    w.atoms.append((s[start - 2 : self.i], EXPANSION))
                    continue
                if c == "(" and ASSIGNMENT.fullmatch(w.text) and w.bare:  # name=(array values)
                    start = self.i
                    self.i = self._balanced(start + 1, "(", ")")
                    w.atoms += [(ch, BARE) for ch in s[start : self.i]]
                    continue
                break
            if c == "\\":
                if s.startswith("\\\n", self.i):
                    self.i += 2
                else:
                    w.atoms.append((s[self.i + 1 : self.i + 2], QUOTED))
                    self.i += 2
            elif c == "'":
                end = s.find("'", self.i + 1)
                end = self.n if end < 0 else end
                w.atoms += [(ch, QUOTED) for ch in s[self.i + 1 : end]]
                self.i = end + 1
            elif c == '"':
                self.i += 1
                self._double(w)
            elif s.startswith("$'", self.i):
                end = self.i + 2
                while end < self.n and s[end] != "'":
                    end += 2 if s[end] == "\\" else 1
                w.atoms += [(ch, QUOTED) for ch in _ansi_c(s[self.i + 2 : end])]
                self.i = end + 1
            elif s.startswith('$"', self.i):
                self.i += 2
                self._double(w)
            elif c == "$":
                self._dollar(w)
            elif c == "`":
                self._backtick(w)
            else:
                w.atoms.append((c, BARE))
                self.i += 1
        return w

    def _double(self, w: Word, until_end: bool = False) -> None:
        s = self.s
        while self.i < self.n:
            c = s[self.i]
            if c == '"' and not until_end:
                self.i += 1
                return
            if c == "\\" and self.i + 1 < self.n and s[self.i + 1] in '$`"\\\n':
                if s[self.i + 1] != "\n":
                    w.atoms.append((s[self.i + 1], QUOTED))
                self.i += 2
            elif c == "$":
                self._dollar(w)
            elif c == "`":
                self._backtick(w)
            else:
                w.atoms.append((c, QUOTED))
                self.i += 1

    def _dollar(self, w: Word) -> None:
        s, start = self.s, self.i
        if s.startswith("$((", start):
            self.i = self._balanced(start + 3, "(", ")", depth=2)
            w.exps.append(s[start + 3 : self.i - 2])
        elif s.startswith("$(", start):
            self.i = self._balanced(start + 2, "(", ")")
            w.subs.append(s[start + 2 : self.i - 1])
        elif s.startswith("${", start):
            self.i = self._balanced(start + 2, "{", "}")
            inner = s[start + 2 : self.i - 1]
            w.exps.append(inner)
            nested = _Lexer(inner)
            found = Word()
            nested._double(found, until_end=True)
            w.subs += found.subs
            w.exps += found.exps
        elif s.startswith("$[", start):
            self.i = self._balanced(start + 2, "[", "]")
            w.exps.append(s[start + 2 : self.i - 1])
        else:
            m = re.match(r"\$([A-Za-z_][A-Za-z_0-9]*|[0-9@*#?$!-])", s[start:])
            if not m:
                w.atoms.append(("$", BARE))
                self.i += 1
                return
            self.i += m.end()
        w.atoms.append((s[start : self.i], EXPANSION))

    def _backtick(self, w: Word) -> None:
        s, start = self.s, self.i
        i = start + 1
        while i < self.n and s[i] != "`":
            i += 2 if s[i] == "\\" else 1
        self.i = min(i + 1, self.n)
        w.subs.append(re.sub(r"\\([`\\$])", r"\1", s[start + 1 : i]))
        w.atoms.append((s[start : self.i], EXPANSION))


def expanded_body(text: str) -> Word:
    """An unquoted heredoc's body as the shell expands it: a double-quoted word, for its substitutions."""
    lexer, w = _Lexer(text), Word()
    lexer._double(w, until_end=True)
    return w


@dataclass
class Command:
    words: list[Word] = field(default_factory=list)
    writes: list[Word] = field(default_factory=list)
    """Targets of redirections that write: >, >>, &>, <>, ..."""
    reads: list[Word] = field(default_factory=list)
    bodies: list[tuple[str, bool]] = field(default_factory=list)
    """Heredoc and here-string texts, and whether the shell expands the text (an unquoted heredoc)."""
    arith: str | None = None


def parse(script: str) -> list[list[Command]]:
    """The pipelines of a script, each a list of simple commands."""
    pipelines: list[list[Command]] = [[Command()]]
    for tok in _Lexer(script).tokens():
        cmd = pipelines[-1][-1]
        if isinstance(tok, Word):
            if not cmd.words and tok.bare and tok.text in RESERVED:
                continue
            cmd.words += tok.expand()
        elif isinstance(tok, Redirect):
            target = tok.target or Word()
            if tok.op in ("<<", "<<-"):
                cmd.bodies.append((tok.body or "", target.bare))
            elif tok.op == "<<<":
                cmd.reads.append(target)
                cmd.bodies.append((target.text, False))
            elif tok.op in WRITING and not (tok.op == ">&" and re.fullmatch(r"\d*-?", target.text)):
                cmd.writes += target.expand()  # `> {a,b}` is an error in bash, but judge every name anyway
            else:
                cmd.reads.append(target)
        elif isinstance(tok, Arith):
            cmd.arith = tok.text
        elif tok in ("|", "|&"):
            pipelines[-1].append(Command())
        else:
            pipelines.append([Command()])
    return [[c for c in p if c.words or c.writes or c.bodies or c.arith is not None] for p in pipelines]


# -- what commands are -------------------------------------------------------------------------

SHELLS = {"bash", "sh", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh"}
INTERPRETERS = {
    "python",
    "pypy",
    "perl",
    "ruby",
    "node",
    "nodejs",
    "deno",
    "bun",
    "php",
    "lua",
    "rscript",
    "julia",
    "tclsh",
    "osascript",
    "pwsh",
    "irb",
    "jshell",
    "groovy",
}
PRINTERS = {"echo", "printf", "true", ":", "false"}
READ_ONLY = {
    "cat",
    "head",
    "tail",
    "grep",
    "egrep",
    "fgrep",
    "zgrep",
    "rg",
    "ag",
    "ack",
    "wc",
    "diff",
    "cmp",
    "comm",
    "file",
    "stat",
    "ls",
    "du",
    "md5sum",
    "sha1sum",
    "sha256sum",
    "sha512sum",
    "shasum",
    "b2sum",
    "cksum",
    "nl",
    "od",
    "hexdump",
    "strings",
    "bat",
    "less",
    "more",
    "realpath",
    "readlink",
    "basename",
    "dirname",
    "test",
    "[",
    "[[",
    "cut",
    "column",
    "fold",
    "tac",
    "rev",
    "printenv",
    "which",
    "type",
    "pwd",
    "date",
    "case",
    "unset",
}
# git subcommands that leave the working files as they are (they may name human_journal.md)
GIT_LEAVES_FILES = {
    "add",
    "commit",
    "log",
    "show",
    "diff",
    "blame",
    "status",
    "ls-files",
    "cat-file",
    "annotate",
    "shortlog",
    "whatchanged",
    "rev-list",
    "rev-parse",
    "describe",
    "show-ref",
    "ls-tree",
    "diff-tree",
    "diff-files",
    "diff-index",
    "for-each-ref",
    "check-ignore",
    "merge-base",
}
GIT_PLUMBING = {"commit-tree", "update-ref", "replace", "filter-branch", "filter-repo"}
FILE_WRITERS = {
    "rm",
    "cp",
    "mv",
    "tee",
    "touch",
    "truncate",
    "dd",
    "ln",
    "chmod",
    "chown",
    "install",
    "sed",
    "perl",
    "shred",
    "unlink",
    "rsync",
    "patch",
}
SETTERS = {
    "export",
    "declare",
    "typeset",
    "readonly",
    "local",
    "setenv",
    "set",
    "read",
    "mapfile",
    "readarray",
    "getopts",
    "let",
    "launchctl",
    "tmux",
    "screen",
}
TEXT_OPTIONS = {
    "--title",
    "--observation",
    "--inference",
    "--label",
    "--hypothesis",
    "--text",
    "--message",
    "-m",
    "--description",
    "--question",
}
# wrapper: (short options that take a value, long options that take a value, positionals before the command)
WRAPPERS = {
    "sudo": (
        "ugpCDrthUTR",
        {
            "--user",
            "--group",
            "--prompt",
            "--close-from",
            "--chdir",
            "--role",
            "--type",
            "--host",
            "--other-user",
            "--command-timeout",
        },
        0,
    ),
    "doas": ("uC", set(), 0),
    "env": ("uCS", {"--unset", "--chdir", "--split-string"}, 0),
    "nice": ("n", {"--adjustment"}, 0),
    "nohup": ("", set(), 0),
    "setsid": ("", set(), 0),
    "chronic": ("", set(), 0),
    "unbuffer": ("", set(), 0),
    "command": ("", set(), 0),
    "builtin": ("", set(), 0),
    "exec": ("a", set(), 0),
    "time": ("fo", {"--format", "--output"}, 0),
    "timeout": ("ks", {"--kill-after", "--signal"}, 1),
    "stdbuf": ("ioe", {"--input", "--output", "--error"}, 0),
    "ionice": ("cnp", {"--class", "--classdata"}, 0),
    "taskset": ("", set(), 1),
    "caffeinate": ("tw", set(), 0),
    "flock": ("wEc", {"--timeout", "--conflict-exit-code", "--command"}, 1),
    "xargs": (
        "IdEaLnPs",
        {
            "--delimiter",
            "--eof",
            "--arg-file",
            "--max-lines",
            "--max-args",
            "--max-procs",
            "--max-chars",
            "--replace",
            "--process-slot-var",
        },
        0,
    ),
    "watch": ("nd", {"--interval", "--differences"}, 0),
    "busybox": ("", set(), 0),
    "strace": ("oepsSEu", set(), 0),
    "ltrace": ("oepsSEu", set(), 0),
    "parallel": ("jS", set(), 0),
}
RUNNERS = {
    "uv": {
        "--with",
        "--python",
        "-p",
        "--project",
        "--directory",
        "--env-file",
        "--package",
        "--extra",
        "--group",
        "--from",
        "-w",
    },
    "poetry": {"-C", "--directory", "-P", "--project"},
    "pdm": {"-p", "--project"},
    "hatch": {"-e", "--env"},
    "pipx": {"--spec", "--python"},
    "conda": {"-n", "--name", "-p", "--prefix"},
    "mamba": {"-n", "--name", "-p", "--prefix"},
}
JUST_VALUE_OPTIONS = {
    "-f",
    "--justfile",
    "-d",
    "--working-directory",
    "--dotenv-filename",
    "--dotenv-path",
    "--shell",
    "--shell-arg",
    "--color",
    "--chooser",
    "--list-heading",
    "--list-prefix",
    "--command-color",
    "-E",
    "--timestamp-format",
}
GIT_VALUE_OPTIONS = {
    "-c",
    "-C",
    "--git-dir",
    "--work-tree",
    "--namespace",
    "--exec-path",
    "--super-prefix",
    "--config-env",
    "--attr-source",
    "--list-cmds",
}
GIT_DATA_LONG = {
    "--message",
    "--file",
    "--template",
    "--grep",
    "--author",
    "--committer",
    "--format",
    "--pretty",
    "--trailer",
    "--reedit-message",
    "--reuse-message",
    "--fixup",
    "--squash",
    "--date",
}
GIT_DATA_SHORT = {
    "commit": "mFtcC",
    "tag": "mF",
    "merge": "mF",
    "notes": "mFcC",
    "stash": "m",
    "log": "SG",
    "revert": "m",
    "cherry-pick": "m",
    "am": "",
    "grep": "eEf",
}


def _name(word: Word) -> str:
    name = posixpath.basename(word.text).lower()
    return re.sub(r"^(python|pypy|perl|ruby|node|php|lua)[0-9.]*$", r"\1", name)


def _short_flags(text: str) -> bool:
    return text.startswith("-") and not text.startswith("--") and len(text) > 1


def _match(pattern: str, name: str) -> bool:
    if name.startswith(".") and pattern[:1] in ("*", "?", "["):
        return False  # bash globs do not match a leading dot
    return fnmatch.fnmatchcase(name, pattern.replace(EXP, "*"))


def mention(text: str, pattern: str | None) -> str | None:
    """The problem if a word names human_journal.md or git's hooks or config (literally, by path or by glob)."""
    low = text.lower()
    if "human_journal.md" in low:
        return WRITES_HUMAN_JOURNAL
    if ".git/hooks" in low or ".git/config" in low or posixpath.normpath(low).split("/")[-1] == ".git":
        return TOUCHES_HOOKS
    if pattern is None or not pattern.strip(EXP):
        return None  # no glob, or nothing but a variable: it could be anything, so it names nothing
    parts = posixpath.normpath(pattern.lower()).split("/")
    if _match(parts[-1], "human_journal.md") and all(p in ("", "..") or re.search(r"[*?[\x00]", p) for p in parts[:-1]):
        return WRITES_HUMAN_JOURNAL  # a glob in the current directory or above it: it may reach the root copy
    for target in HOOK_TARGETS:
        names = target.split("/")
        if len(parts) >= len(names) and all(_match(p, q) for p, q in zip(parts[-len(names) :], names)):
            return TOUCHES_HOOKS
    return None


def _option_values(words: list[Word], options: set[str]) -> set[int]:
    """Indices of the values of `--opt value` and `--opt=value` for the given options."""
    data = set()
    for i, w in enumerate(words):
        t = w.text
        if t in options and i + 1 < len(words):
            data.add(i + 1)
        elif "=" in t and t.split("=", 1)[0] in options:
            data.add(i)
    return data


# -- the rules ---------------------------------------------------------------------------------


@dataclass
class _Verdict:
    problem: str | None = None
    read_only: bool = True
    loop_mention: str | None = None


class _Check:
    def __init__(self, meta_mode_on: bool) -> None:
        self.meta_on = meta_mode_on
        self.in_program = 0  # > 0 while reading a program's text as shell: its `*` multiplies, it does not glob

    def names(self, text: str, pattern: str | None) -> str | None:
        return mention(text, None if self.in_program else pattern)

    def meta(self) -> str | None:
        return None if self.meta_on else SETS_META_MODE

    def script(self, text: str, depth: int, feeds_code: bool = False) -> str | None:
        if depth > MAX_DEPTH:
            raise _TooComplex
        writes, loop = False, None
        for pipeline in parse(text):
            consumer = max((j for j, c in enumerate(pipeline) if self._reads_code(c)), default=-1)
            for j, cmd in enumerate(pipeline):
                verdict = self.command(cmd, depth, feeds_code or j < consumer)
                if verdict.problem:
                    return verdict.problem
                writes |= not verdict.read_only
                loop = loop or verdict.loop_mention
        return loop if loop and writes else None

    def code(self, text: str, depth: int, program: bool = False) -> str | None:
        """Text that a shell runs, or with `program` that an interpreter runs (read as shell too, for os.system(...))."""
        if CODE_SETS_META.search(text) and not self.meta_on:
            return SETS_META_MODE
        if "core.hookspath" in text.lower():
            return HOOKS_PATH
        if "--no-veri" in text:  # ["git", "commit", "--no-verify"] in a program is one word to the shell
            return SKIPS_HOOKS
        return mention(text, None) or self.script_of(text, depth + 1, program)

    def script_of(self, text: str, depth: int, program: bool) -> str | None:
        self.in_program += program
        try:
            return self.script(text, depth)
        finally:
            self.in_program -= program

    def command(self, cmd: Command, depth: int, feeds_code: bool) -> _Verdict:
        first = next((w for w in cmd.words if not ASSIGNMENT.match(w.text)), None)
        name = _name(first) if first is not None else ""
        # where the output of $(...) becomes code or a file name: `$(...)` as the command, `. <(...)`, `rm "$(...)"`
        output_matters = name in SHELLS | INTERPRETERS | FILE_WRITERS | {"source", ".", "eval"}
        bodies = [expanded_body(text) for text, expands in cmd.bodies if expands]
        for w in [*cmd.words, *cmd.writes, *cmd.reads, *bodies]:
            for e in w.exps:
                if ASSIGNS_META.search(e) and not self.meta_on:
                    return _Verdict(SETS_META_MODE)
            for sub in w.subs:
                found = self.script(sub, depth + 1, feeds_code=w is first or output_matters or w in cmd.writes)
                if found:
                    return _Verdict(found)
        if cmd.arith is not None and ASSIGNS_META.search(cmd.arith) and not self.meta_on:
            return _Verdict(SETS_META_MODE)
        for w in cmd.writes:
            found = self.names(w.text, w.pattern)
            if found:
                return _Verdict(found, read_only=False)
        verdict = self.argv(cmd.words, cmd, depth, feeds_code)
        if cmd.writes:
            verdict.read_only = False
        return verdict

    def _reads_code(self, cmd: Command) -> bool:
        """Whether the command runs what comes in on stdin: `| bash`, `| python`, `| xargs rm`, `| source /dev/stdin`."""
        words = [w for w in cmd.words if not ASSIGNMENT.match(w.text)]
        if not words:
            return False
        name = _name(words[0])
        if name in WRAPPERS and name not in ("xargs", "parallel"):
            return self._reads_code(Command(words=self._unwrap(name, words[1:])[1]))
        args = [w.text for w in words[1:]]
        if name in ("xargs", "parallel"):
            return True
        if name in ("source", "."):
            return not args or args[0] in ("/dev/stdin", "-")
        if name in SHELLS or name in INTERPRETERS:
            if any((_short_flags(a) and ("c" in a or "e" in a or "E" in a)) or a in ("-m", "--eval") for a in args):
                return False
            operands = [a for a in args if not a.startswith("-") or a == "-"]
            return not operands or operands[0] in ("-", "/dev/stdin") or "-s" in args
        return False

    def _unwrap(self, name: str, args: list[Word]) -> tuple[list[Word], list[Word], list[str]]:
        """A wrapper's own words, the command it runs, and scripts given as option values (env -S, flock -c)."""
        short, long, positionals = WRAPPERS[name]
        own, scripts, i = [], [], 0
        while i < len(args):
            t = args[i].text
            if t == "--":
                own.append(args[i])
                i += 1
                break
            if not t.startswith("-") or t == "-":
                break
            own.append(args[i])
            key = t.split("=", 1)[0]
            if t.startswith("--"):
                value = None
                if "=" in t:
                    value = t.split("=", 1)[1]
                elif key in long and i + 1 < len(args):
                    i += 1
                    own.append(args[i])
                    value = args[i].text
                if key in ("--split-string", "--command") and value is not None:
                    scripts.append(value)
            else:
                for k, ch in enumerate(t[1:], start=2):
                    if ch in short:
                        value = t[k:]
                        if not value and i + 1 < len(args):
                            i += 1
                            own.append(args[i])
                            value = args[i].text
                        if (name, ch) in (("env", "S"), ("flock", "c")):
                            scripts.append(value)
                        break
            i += 1
        own += args[i : i + positionals]
        inner = args[i + positionals :]
        if name == "watch" and inner:
            scripts.append(" ".join(w.text for w in inner))
            inner = []
        return own, inner, scripts

    def generic(self, words: list[Word], depth: int, read_only: bool = False, program: bool = False) -> str | None:
        """The rules for any word that is not data: META_MODE=, GIT_CONFIG_*=, --no-verify, core.hooksPath, names."""
        for w in words:
            text = w.text
            assigns = (
                SETS_META.match(text)
                or (re.match(r"[A-Za-z_]\w*\[", text) and ASSIGNS_META.search(text))
                or re.match(r"\$\{?[A-Za-z_]\w*\}?\+?=", text)
            )  # "$X=1": the name is computed, so it may be META_MODE
            if assigns and not self.meta_on:
                return SETS_META_MODE
            if GIT_CONFIG_ENV.match(text) or "core.hookspath" in w.plain.lower():
                return HOOKS_PATH
            value = w.plain.split("=", 1)[1] if ASSIGNMENT.match(text) else w.plain  # X=--no-verify, alias x='...'
            for flag in {text.split("=", 1)[0], value.split("=", 1)[0]}:
                if len(flag) >= len("--no-v") and NO_VERIFY.startswith(flag):
                    return SKIPS_HOOKS
            if not read_only:  # a substitution's text is not a name: its output is judged where it matters
                found = self.names(w.plain, w.pattern)
                if found:
                    return found
            if re.search(r"[\s;&|<>`]", value.strip()):  # a script in one word: ssh host '...', watch '...'
                found = self.script_of(value, depth + 1, program)
                if found:
                    return found
        return None

    def journal_flag(self, words: list[Word]) -> str | None:
        texts = [w.text.strip() for w in words]
        for i, t in enumerate(texts):
            flag, _, value = t.partition("=")
            named = value.strip().lower() if value else texts[i + 1].lower() if i + 1 < len(texts) else ""
            if len(flag) >= len("--jo") and "--journal".startswith(flag.lower()) and named == "human":
                return HUMAN_JOURNAL_TOOL
        return None

    def argv(self, words: list[Word], cmd: Command, depth: int, feeds_code: bool) -> _Verdict:
        i = 0
        while i < len(words) and ASSIGNMENT.match(words[i].text):
            i += 1
        assigns, words = words[:i], words[i:]
        found = self.generic(assigns, depth)
        if found:
            return _Verdict(found, read_only=False)
        if not words:
            return _Verdict()
        name, args = _name(words[0]), words[1:]
        found = self.journal_flag(words) if name not in PRINTERS | READ_ONLY else None
        if found:
            return _Verdict(found, read_only=False)
        if words[0].atoms and all(how == EXPANSION for _, how in words[0].atoms):
            name = "git" if args and args[0].text == "commit" else name  # "$GIT" commit -n
        if name in WRAPPERS:
            return self._wrapper(name, args, cmd, depth, feeds_code)
        if name in RUNNERS and args and args[0].text in ("run", "exec"):  # uv run, poetry run, conda run -n x
            i = 1
            while i < len(args) and args[i].text.startswith("-"):
                i += 2 if args[i].text in RUNNERS[name] else 1
            found = self.generic(args[:i], depth)
            return _Verdict(found, read_only=False) if found else self.argv(args[i:], cmd, depth, feeds_code)
        if name in SHELLS:
            return self._shell(args, cmd, depth)
        if name in INTERPRETERS:
            return self._interpreter(args, cmd, depth)
        if name in SETTERS:
            return self._setter(name, args, depth)
        if name in PRINTERS:
            return self._printer(name, args, cmd, depth, feeds_code)
        handlers = {
            "source": self._source,
            ".": self._source,
            "eval": self._eval,
            "git": self._git,
            "just": self._just,
            "autoresearch": self._autoresearch,
            "find": self._find,
            "sed": self._sed,
            "awk": self._awk,
            "gawk": self._awk,
            "mawk": self._awk,
            "for": self._for,
            "select": self._for,
        }
        if name in handlers:
            return handlers[name](args, cmd, depth)
        texts = [w.text for w in args]
        if name in READ_ONLY and not (
            (name == "rg" and any(t.startswith("--pre") for t in texts))  # runs a command on each file
            or (
                name in ("less", "more")
                and any(t.lower().startswith("--log-file") or (_short_flags(t) and "o" in t.lower()) for t in texts)
            )
        ):
            return self._data_bodies(cmd, depth, feeds_code)
        found = self.generic(words, depth)
        return _Verdict(found or self._data_bodies(cmd, depth, feeds_code).problem, read_only=False)

    def _data_bodies(self, cmd: Command, depth: int, feeds_code: bool) -> _Verdict:
        if feeds_code:
            for text, _ in cmd.bodies:
                found = self.code(text, depth)
                if found:
                    return _Verdict(found, read_only=False)
        return _Verdict()

    def _wrapper(self, name: str, args: list[Word], cmd: Command, depth: int, feeds_code: bool) -> _Verdict:
        own, inner, scripts = self._unwrap(name, args)
        found = self.generic(own, depth)
        for text in scripts:
            found = found or self.script(text, depth + 1)
        if found:
            return _Verdict(found, read_only=False)
        if not inner:
            return _Verdict(read_only=not scripts)
        return self.argv(inner, cmd, depth, feeds_code)

    def _shell(self, args: list[Word], cmd: Command, depth: int) -> _Verdict:
        i, body = 0, None
        while i < len(args):
            t = args[i].text
            if t in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
                i += 2
                continue
            if not (t.startswith(("-", "+")) and t not in ("-", "--")):
                break
            if not t.startswith("--") and "c" in t:
                body = True
            i += 1
        if body and i < len(args):
            found = self.script(args[i].text, depth + 1) or self.generic(args[i + 1 :], depth)
        else:
            found = self.generic(args, depth)
        for text, _ in cmd.bodies:
            found = found or self.script(text, depth + 1)
        return _Verdict(found, read_only=False)

    def _interpreter(self, args: list[Word], cmd: Command, depth: int) -> _Verdict:
        texts = [w.text for w in args]
        if "-m" in texts and texts.index("-m") + 1 < len(texts):
            module = texts[texts.index("-m") + 1]
            if module.split(".")[0] == "autoresearch":
                return self._autoresearch(args[texts.index("-m") + 2 :], cmd, depth)
        for text in [*texts, *(body for body, _ in cmd.bodies)]:
            found = self.code(text, depth, program=True)
            if found:
                return _Verdict(found, read_only=False)
        return _Verdict(self.generic(args, depth, program=True), read_only=False)

    def _setter(self, name: str, args: list[Word], depth: int) -> _Verdict:
        texts = [w.text for w in args]
        flags = "".join(t[1:] for t in texts if _short_flags(t))
        reading = (name in ("declare", "typeset") and "p" in flags) or (
            name == "export" and ("n" in flags or "p" in flags)
        )
        if not reading and not self.meta_on:
            if any("META_MODE" in t for t in texts):
                return _Verdict(SETS_META_MODE, read_only=False)
            if name == "let" and any(ASSIGNS_META.search(t) for t in texts):
                return _Verdict(SETS_META_MODE, read_only=False)
        return _Verdict(self.generic(args, depth), read_only=False)

    def _printer(self, name: str, args: list[Word], cmd: Command, depth: int, feeds_code: bool) -> _Verdict:
        texts = [w.text for w in args]
        if (
            name == "printf"
            and "-v" in texts
            and "META_MODE" in "".join(texts[texts.index("-v") + 1 : texts.index("-v") + 2])
        ):
            return _Verdict(self.meta(), read_only=False)
        if feeds_code:
            found = self.code(" ".join(texts), depth) or self._data_bodies(cmd, depth, True).problem
            if found:
                return _Verdict(found, read_only=False)
        return _Verdict()

    def _source(self, args: list[Word], cmd: Command, depth: int) -> _Verdict:
        return _Verdict(self.generic(args[1:], depth), read_only=False)

    def _eval(self, args: list[Word], cmd: Command, depth: int) -> _Verdict:
        return _Verdict(self.script(" ".join(w.text for w in args), depth + 1), read_only=False)

    def _for(self, args: list[Word], cmd: Command, depth: int) -> _Verdict:
        items = args[2:] if len(args) > 1 and args[1].text == "in" else []
        found = self.generic(items, depth, read_only=True)
        loop = next((m for w in items if (m := self.names(w.text, w.pattern))), None)
        return _Verdict(found, read_only=True, loop_mention=loop)

    def _find(self, args: list[Word], cmd: Command, depth: int) -> _Verdict:
        own, read_only, i = [], True, 0
        while i < len(args):
            t = args[i].text
            if t in ("-exec", "-execdir", "-ok", "-okdir"):
                end = next((j for j in range(i + 1, len(args)) if args[j].text in (";", "+")), len(args))
                verdict = self.argv(args[i + 1 : end], Command(), depth, False)
                if verdict.problem:
                    return verdict
                read_only &= verdict.read_only
                i = end + 1
                continue
            if t in ("-delete", "-fprint", "-fprint0", "-fprintf", "-fls"):
                read_only = False
            if t in ("-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename") and i + 1 < len(args):
                own.append(args[i])
                pattern = Word([(ch, BARE) for ch in args[i + 1].text])  # find globs its own patterns
                own.append(pattern)
                i += 2
                continue
            own.append(args[i])
            i += 1
        return _Verdict(self.generic(own, depth, read_only=read_only), read_only=read_only)

    def _sed(self, args: list[Word], cmd: Command, depth: int) -> _Verdict:
        texts = [w.text for w in args]
        in_place = any(
            t.startswith("--in-place") or (_short_flags(t) and "i" in t.split("=")[0].lstrip("-").split("e")[0])
            for t in texts
        )
        # w, W and e commands write files or run commands; s///w and s///e too
        runs = any(
            re.search(r"(^|[;{}\s\d/$!])[wWe](\s|$)|^[wWe]\S|/[gpiImM0-9]*[we](\s|;|$)", t)
            for t in texts
            if not _short_flags(t)
        )
        read_only = not in_place and not runs
        return _Verdict(None if read_only else self.generic(args, depth), read_only=read_only)

    def _awk(self, args: list[Word], cmd: Command, depth: int) -> _Verdict:
        texts = [w.text for w in args]
        writes = any(re.search(r">|\||system|getline|inplace|ENVIRON", t) for t in texts) or "-i" in texts
        if not writes:
            return _Verdict()
        found = next((f for t in texts if (f := self.code(t, depth, program=True))), None)
        return _Verdict(found or self.generic(args, depth), read_only=False)

    def _git(self, args: list[Word], cmd: Command, depth: int) -> _Verdict:
        i = 0
        while i < len(args) and args[i].text.startswith("-"):
            i += 2 if args[i].text in GIT_VALUE_OPTIONS else 1
        own, sub, rest = args[: min(i, len(args))], args[i].text if i < len(args) else "", args[i + 1 :]
        found = self.generic(own, depth)
        for w in own:
            key, _, value = w.text.partition("=")
            if key.lower().startswith("alias.") and value:
                found = found or self._git_alias(value, depth)
        if found:
            return _Verdict(found, read_only=False)
        if sub in GIT_PLUMBING:
            return _Verdict(BYPASSES_HOOKS, read_only=False)
        if sub == "config":
            return self._git_config(rest, depth)
        data = _option_values(rest, GIT_DATA_LONG | {"-m", "-F", "-t"} & {f"-{c}" for c in GIT_DATA_SHORT.get(sub, "")})
        data |= {k for k, w in enumerate(rest) if w.text.split("=", 1)[0] in GIT_DATA_LONG and "=" in w.text}
        pathspecs = next((k for k, w in enumerate(rest) if w.text == "--"), len(rest))
        for k, w in enumerate(rest[:pathspecs]):
            t = w.text
            if k in data or not _short_flags(t):
                continue
            for pos, ch in enumerate(t[1:], start=2):
                if ch == "n" and sub == "commit":
                    return _Verdict(SKIPS_HOOKS, read_only=False)
                if ch in GIT_DATA_SHORT.get(sub, "") or (sub == "commit" and ch in "uS"):
                    if pos == len(t) and ch not in "uS":
                        data.add(k + 1)
                    data.add(k)  # the value is attached: -mtext
                    break
        checked = [w for k, w in enumerate(rest) if k not in data]
        read_only = sub in GIT_LEAVES_FILES and not any(w.text.startswith("--output") for w in rest)
        return _Verdict(self.generic(checked, depth, read_only=read_only), read_only=read_only)

    def _git_config(self, args: list[Word], depth: int) -> _Verdict:
        texts = [w.text for w in args]
        positional, i = [], 0
        while i < len(texts):
            t = texts[i]
            if t in ("-f", "--file", "--blob", "--type", "--default", "--comment", "--value"):
                i += 2
                continue
            if not t.startswith("-"):
                positional.append(i)
            i += 1
        action = (
            texts[positional[0]]
            if positional
            and texts[positional[0]] in ("get", "set", "unset", "list", "edit", "rename-section", "remove-section")
            else None
        )
        keys = positional[1:] if action else positional
        reading = action in ("get", "unset", "list", "rename-section", "remove-section") or any(
            t.startswith(("--get", "--unset", "--list", "-l", "--remove-section", "--rename-section", "--show"))
            for t in texts
        )
        setting = not reading and (action == "set" or len(keys) >= 2 or "--add" in texts or "--replace-all" in texts)
        key = texts[keys[0]].lower() if keys else ""
        if setting and (key == "core.hookspath" or key.startswith(("include.", "includeif."))):
            return _Verdict(HOOKS_PATH, read_only=False)
        if setting and key.startswith("alias.") and len(keys) >= 2:
            found = self._git_alias(texts[keys[1]], depth)
            if found:
                return _Verdict(found, read_only=False)
        checked = [w for k, w in enumerate(args) if not (k in keys[:1] and key == "core.hookspath")]
        return _Verdict(self.generic(checked, depth), read_only=not setting)

    def _git_alias(self, value: str, depth: int) -> str | None:
        return self.code(value[1:], depth) if value.startswith("!") else self.script("git " + value, depth + 1)

    def _tool(self, words: list[Word], cmd: Command, depth: int, data: set[int], inner_from: int | None) -> _Verdict:
        found = self.generic(
            [w for k, w in enumerate(words) if k not in data and (inner_from is None or k < inner_from)], depth
        )
        if found:
            return _Verdict(found, read_only=False)
        if inner_from is not None and inner_from < len(words):
            return self.argv(words[inner_from:], Command(), depth, False)
        return _Verdict(read_only=False)

    def _just(self, args: list[Word], cmd: Command, depth: int) -> _Verdict:
        texts = [w.text for w in args]
        i = 0
        while i < len(texts) and (texts[i].startswith("-") or ASSIGNMENT.match(texts[i])):
            if texts[i] == "--set" and i + 1 < len(texts) and texts[i + 1] == "META_MODE" and not self.meta_on:
                return _Verdict(SETS_META_MODE, read_only=False)
            if texts[i] in ("-c", "--command") and i + 1 < len(texts):
                found = self.script(texts[i + 1], depth + 1)
                if found:
                    return _Verdict(found, read_only=False)
            i += 3 if texts[i] == "--set" else 2 if texts[i] in JUST_VALUE_OPTIONS | {"-c", "--command"} else 1
        recipe = texts[i] if i < len(texts) else ""
        if recipe == "acknowledge":
            return _Verdict(ACKNOWLEDGE, read_only=False)
        data = {i + 1 + k for k in _option_values(args[i + 1 :], TEXT_OPTIONS)}
        title = {"journal": 1, "idea": 2, "queue": 1, "rate": 0}.get(recipe, 0)
        if title:
            data.add(i + title)
        return self._tool(args, cmd, depth, data, i + 2 if recipe == "queue" else None)

    def _autoresearch(self, args: list[Word], cmd: Command, depth: int) -> _Verdict:
        texts = [w.text for w in args]
        subs = [t for t in texts if not t.startswith("-")][:2]
        if "acknowledge" in subs:
            return _Verdict(ACKNOWLEDGE, read_only=False)
        data = _option_values(args, TEXT_OPTIONS)
        inner = texts.index("--") + 1 if subs == ["queue", "add"] and "--" in texts else None
        return self._tool(args, cmd, depth, data, inner)


def problem(command: str, meta_mode_on: bool = False) -> str | None:
    """Why the agent may not run this shell command, as one line saying what to do instead; None to let it run."""
    try:
        return _Check(meta_mode_on).script(command, 0)
    except (_TooComplex, RecursionError):
        return TOO_COMPLEX
