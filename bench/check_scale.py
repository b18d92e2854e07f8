"""Benchmark: `autoresearch check` on a long-lived project: about 3,000 commits and a 100,000-row results.tsv.

Usage: python bench/check_scale.py [--ideas 100] [--commits-per-idea 26] [--records 300] [--rows 100000]
                                   [--run-folders 1000] [--repeats 3]       (or: just bench --only check_scale)

Builds a throwaway project shaped like months of agent work (git fast-import, so it takes a minute, not hours):
- the template committed on main, the git hooks installed, a signing key of its own (AUTORESEARCH_KEYS);
- IDEAS branches exp/idea-N of COMMITS-PER-IDEA commits each, editing train.py (the agent's work);
- on main, in a shuffled order: half of the ideas merged with --no-ff (`just keep`), RECORDS commits that
  each append a batch of ROWS/RECORDS signed rows to results.tsv (rows name commits of the idea branches,
  one in 20 a crash) and an entry to RESEARCH_JOURNAL.md, and 3 META_MODE commits of eval.py made with
  `git commit` through the real hooks (so they carry signed Meta-Mode trailers);
- run folders (row.tsv) for the last RUN-FOLDERS rows only: older ones deleted, as a researcher would.
Then times `autoresearch check` as a process: the first run (no audit cache) and the repeats (the cache in the
git common dir holds the verified pairs), next to `git rev-list --count main`, the floor of any history walk;
and, in this process, each stage of the audit cold (empty cache) and warm, side by side. check must say ok.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import struct
import subprocess
import tempfile
import time
import zlib
from pathlib import Path

from common import (
    OUT,
    PY,
    Figure,
    env,
    median,
    new_project,
    report,
    timed,
)

FIRST_TARGET = 10.0
REPEAT_TARGET = 2.0


def template_project(dest: Path, keys: Path) -> Path:
    """This repo's template in dest with empty records, committed on main, hooks installed."""
    new_project(dest)
    subprocess.run(
        [PY, "-m", "autoresearch", "hooks", "install"],
        cwd=dest,
        check=True,
        capture_output=True,
        env=env(AUTORESEARCH_KEYS=str(keys)),
    )
    return dest


def git(repo: Path, *args: str, **extra: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env(**extra)
    ).stdout.strip()


class Stream:
    """A git fast-import process fed commit by commit."""

    clock = 1_700_000_000
    """commit times, ten minutes apart, across streams"""

    def __init__(self, repo: Path, marks: Path | None = None):
        args = ["git", "fast-import", "--quiet", "--force"] + ([f"--export-marks={marks}"] if marks else [])
        self.process = subprocess.Popen(args, cwd=repo, stdin=subprocess.PIPE)
        self.marks = 0

    def write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)

    def commit(
        self,
        branch: str,
        message: str,
        files: dict[str, bytes | str],
        parent: str | None = None,
        merge: str | None = None,
    ) -> int:
        """A commit; a file is its content, or the id of a blob already in the repository."""
        self.marks += 1
        Stream.clock += 600
        text = message.encode()
        out = [b"commit refs/heads/%s\nmark :%d\n" % (branch.encode(), self.marks)]
        out.append(b"committer bench <bench@localhost> %d +0000\ndata %d\n%s\n" % (Stream.clock, len(text), text))
        if parent:
            out.append(b"from %s\n" % parent.encode())
        if merge:
            out.append(b"merge %s\n" % merge.encode())
        for path, content in files.items():
            if isinstance(content, str):
                out.append(b"M 100644 %s %s\n" % (content.encode(), path.encode()))
            else:
                out.append(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(content), content))
        self.write(b"".join(out) + b"\n")
        return self.marks

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        if self.process.wait() != 0:
            raise RuntimeError("git fast-import failed")


class DeltaPack:
    """The versions of a file that only grows, as one git pack: each version a delta (copy the previous version,
    insert the new bytes) on the one before, a whole blob every FULL_EVERY versions. git fast-import would
    search for deltas itself, at about 20 MB/s here: hours for the 5 GB that 300 versions of a 37 MB file add up to."""

    FULL_EVERY = 25

    def __init__(self, path: Path, count: int):
        self.file = path.open("wb")
        self.sha = hashlib.sha1()
        self.previous: tuple[bytes, int] | None = None  # (binary id, size)
        self.written = 0
        self.total = 0
        """bytes of all versions together: what a first check hashes"""
        self._out(b"PACK" + struct.pack(">II", 2, count))

    def _out(self, data: bytes) -> None:
        self.sha.update(data)
        self.file.write(data)

    @staticmethod
    def _header(kind: int, size: int) -> bytes:
        out = bytearray([(kind << 4) | (size & 15)])
        size >>= 4
        while size:
            out[-1] |= 0x80
            out.append(size & 0x7F)
            size >>= 7
        return bytes(out)

    @staticmethod
    def _varint(n: int) -> bytes:
        out = bytearray([n & 0x7F])
        n >>= 7
        while n:
            out[-1] |= 0x80
            out.append(n & 0x7F)
            n >>= 7
        return bytes(out)

    def add(self, content: bytes | bytearray) -> str:
        """Write the next version; its blob id."""
        blob_id = hashlib.sha1(b"blob %d\0" % len(content) + content).digest()
        if self.previous is None or self.written % self.FULL_EVERY == 0:
            self._out(self._header(3, len(content)) + zlib.compress(content, 1))
        else:
            base, size = self.previous
            delta = bytearray(self._varint(size) + self._varint(len(content)))
            for offset in range(0, size, 0xFFFFFF):
                length = min(0xFFFFFF, size - offset)
                op, args = 0x80, bytearray()
                for i in range(4):
                    if (offset >> 8 * i) & 0xFF:
                        op |= 1 << i
                        args.append((offset >> 8 * i) & 0xFF)
                for i in range(3):
                    if (length >> 8 * i) & 0xFF:
                        op |= 0x10 << i
                        args.append((length >> 8 * i) & 0xFF)
                delta += bytes([op]) + args
            new = content[size:]
            for i in range(0, len(new), 127):
                chunk = new[i : i + 127]
                delta += bytes([len(chunk)]) + chunk
            self._out(self._header(7, len(delta)) + base + zlib.compress(bytes(delta), 1))
        self.previous = (blob_id, len(content))
        self.written += 1
        self.total += len(content)
        return blob_id.hex()

    def close(self, repo: Path) -> None:
        self.file.write(self.sha.digest())
        self.file.close()
        with open(self.file.name, "rb") as pack:
            subprocess.run(["git", "index-pack", "--stdin"], cwd=repo, stdin=pack, check=True, capture_output=True)


def build(proj: Path, keys: Path, args: argparse.Namespace) -> dict[str, float]:
    from autoresearch import fingerprints, results
    from autoresearch.config import Config
    from autoresearch.paths import Project
    from autoresearch.signing import project_key, sign_with

    rng = random.Random(0)
    project = Project.find(proj)
    config = Config.load(project)
    metric = config.metric.name
    key = project_key(project)
    base = git(proj, "rev-parse", "HEAD")
    train = (proj / "train.py").read_bytes()

    # The agent's work: idea branches.
    marks_file = proj.parent / "marks"
    stream = Stream(proj, marks_file)
    tips: dict[int, int] = {}
    idea_marks: list[tuple[int, int]] = []
    for i in range(args.ideas):
        parent: str | None = base
        for k in range(args.commits_per_idea):
            mark = stream.commit(
                f"exp/idea-{i}", f"idea-{i}: step {k}", {"train.py": train + b"# idea %d step %d\n" % (i, k)}, parent
            )
            idea_marks.append((i, mark))
            parent = None
        tips[i] = mark
    stream.close()
    ids = dict(line.split() for line in marks_file.read_text().splitlines())
    short = {m: ids[f":{m}"][:7] for _, m in idea_marks}

    # main's timeline, and the eval.py (so the eval hash) each META_MODE commit will leave.
    events = ["record"] * args.records + ["merge"] * (args.ideas // 2) + ["meta"] * 3
    rng.shuffle(events)
    eval_py = proj / "eval.py"
    original = eval_py.read_text()
    metas, hashes = [], [fingerprints.frozen_hash(proj, config)]
    for n in range(3):
        metas.append(original + "".join(f"# asked for by the researcher, change {k}\n" for k in range(n + 1)))
        eval_py.write_text(metas[-1])
        hashes.append(fingerprints.frozen_hash(proj, config))
    eval_py.write_text(original)

    # The rows, signed as the eval process signs them, and every committed version of results.tsv.
    per_record = [args.rows // args.records + (r < args.rows % args.records) for r in range(args.records)]
    content = bytearray((proj / "results.tsv").read_bytes())
    pack = DeltaPack(proj.parent / "results.pack", args.records)
    blobs, runs, row_n, meta_n = [], [], 0, 0
    for event in events:
        meta_n += event == "meta"
        if event != "record":
            continue
        lines = []
        for _ in range(per_record[len(blobs)]):
            i, mark = rng.choice(idea_marks)
            crash = row_n % 20 == 19
            value = None if crash else 1.3 + rng.random() / 2
            run = f"7_runs/20250101-{row_n:06d}_idea-{i}_s{row_n % 3}"
            row = dict.fromkeys(results.columns(metric)[:-1], "") | {
                "commit": short[mark],
                metric: value,
                "memory_gb": 0.55,
                "status": "crash" if crash else "ok",
                "description": f"idea-{i}: try {row_n}",
                "timestamp": f"2025-01-01T00:00:{row_n % 60:02d}+00:00",
                "branch": f"exp/idea-{i}",
                "idea": f"idea-{i}",
                "seed": row_n % 3,
                "profile": "cpu",
                "budget": "units",
                "used": 1_048_576,
                "unit": "tokens",
                "optimum": 0.962418,
                "gap": None if value is None else value - 0.962418,
                "training_seconds": 118.2,
                "total_seconds": 123.9,
                "params": 851_968,
                "steps": 512,
                "threads": 4,
                "reason": "exception" if crash else "",
                "verdict": "" if crash else "within-noise",
                "code": f"{row_n * 2654435761 % 16**12:012x}",
                "parent": "0123456789ab",
                "kind": "experiment",
                "sandbox": "landlock-abi5",
                "run": run,
                "eval_hash": hashes[meta_n],
                "val_hash": "ba9876543210",
                "data": "synthetic: 1048576 train bytes",
            }
            text = results.format_cells(row, metric)
            line = f"{text}\t{sign_with(key, text)}\n".encode()
            lines.append(line)
            runs.append((run, line))
            row_n += 1
        content += b"".join(lines)
        blobs.append((len(lines), pack.add(content)))
    pack.close(proj)

    # main's history: merges (`just keep`), record commits (rows and a journal entry), META_MODE commits through the hooks.
    journal_header = (proj / "RESEARCH_JOURNAL.md").read_text().rstrip("\n")
    entries: list[str] = []
    merged = iter(rng.sample(range(args.ideas), args.ideas // 2))
    record_blobs, metas_left = iter(blobs), iter(metas)
    stream, first = None, True
    for event in events:
        if event == "meta":
            if stream is not None:
                stream.close()
                stream = None
            git(proj, "reset", "-q", "--hard", "main")
            eval_py.write_text(next(metas_left))
            git(
                proj,
                "commit",
                "-q",
                "-am",
                "meta: eval.py change asked for by the researcher",
                META_MODE="1",
                AUTORESEARCH_KEYS=str(keys),
            )
            first = True
            continue
        if stream is None:
            stream = Stream(proj)
        parent = git(proj, "rev-parse", "main") if first else None
        first = False
        if event == "merge":
            i = next(merged)
            stream.commit(
                "main",
                f"Merge exp/idea-{i}: keep idea-{i}",
                {"train.py": train + b"# idea %d step %d\n" % (i, args.commits_per_idea - 1)},
                parent,
                ids[f":{tips[i]}"],
            )
            continue
        count, blob = next(record_blobs)
        entries.insert(0, f"## 2025-01-01 00:00 UTC · record {len(entries)}\n\n**Observation:** {count} rows")
        journal = (journal_header + "\n\n" + "\n\n".join(entries) + "\n").encode()
        stream.commit("main", f"record: {count} rows", {"results.tsv": blob, "RESEARCH_JOURNAL.md": journal}, parent)
    if stream is not None:
        stream.close()
    git(proj, "reset", "-q", "--hard", "main")
    for run, line in runs[-args.run_folders :] if args.run_folders else []:
        (proj / run).mkdir(parents=True)
        (proj / run / "row.tsv").write_bytes(line)
    return {
        "commits": int(git(proj, "rev-list", "--count", "--all")),
        "on main": int(git(proj, "rev-list", "--count", "main")),
        "merges": int(git(proj, "rev-list", "--count", "--merges", "main")),
        "rows": row_n,
        "size": len(content) / 1e6,
        "versions MB": pack.total / 1e6,
    }


def cpu_seconds() -> float:
    """CPU seconds used by finished child processes (git's included): on a busy machine, steadier than wall time."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stages(proj: Path, warm: bool) -> list[tuple[str, float]]:
    """Seconds of each stage of the audit, in this process, with an empty cache (cold) or the saved one (warm)."""
    from autoresearch import audit
    from autoresearch.config import Config
    from autoresearch.journal import JOURNALS
    from autoresearch.paths import Project
    from autoresearch.results import read

    project = Project.find(proj)
    config = Config.committed(project)
    cache = audit.Cache.load(project) if warm else audit.Cache(project, set())
    content = project.results.read_bytes()
    out, t = [], time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        out.append((name, now - t))
        t = now

    hist = audit.History.load(project, config)
    lap("history: rev-list of main")
    frozen = audit.frozen_history(hist, config, cache)
    lap("FROZEN history: trailers")
    for name in JOURNALS.values():
        audit.journal_history(hist, name, cache)
    lap("journals: every version")
    audit.results_history(hist, cache, content)
    lap("results.tsv history: prefixes")
    record = read(project.results, config.metric)
    lap("results.tsv: parse")
    head = hist.main
    size = audit.repo.batch_check(proj, [f"{head}:results.tsv"])[f"{head}:results.tsv"]
    verified = size.size if warm and size is not None and f"sigs-ok {size.id}" in cache else 0
    rows = audit.audit_rows(project, content, record.df, verified)
    lap("rows: signatures, commits")
    audit.eval_hashes(hist, config, frozen.versions, cache)
    lap("eval hashes of authorised versions")
    audit.missing_run_rows(project, rows.runs)
    lap("run folders")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ideas", type=int, default=100)
    parser.add_argument("--commits-per-idea", type=int, default=26)
    parser.add_argument("--records", type=int, default=300, help="commits on main that append rows")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--run-folders", type=int, default=1000, help="run folders kept (the last rows')")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--quick", action="store_true", help="a tiny repository: checks the script runs, figures meaningless"
    )
    parser.add_argument("--out", type=Path, default=OUT, help="folder for check_scale.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.ideas, args.commits_per_idea, args.records, args.rows, args.run_folders, args.repeats = 4, 3, 6, 300, 10, 1

    with tempfile.TemporaryDirectory() as tmp:
        keys = Path(tmp) / "keys"
        os.environ["AUTORESEARCH_KEYS"] = str(keys)  # this process signs the rows; the check processes verify them
        t0 = time.perf_counter()
        proj = template_project(Path(tmp) / "proj", keys)
        facts = build(proj, keys, args)
        built = time.perf_counter() - t0
        cache = proj / ".git" / "autoresearch" / "audit-cache"
        cache.unlink(missing_ok=True)
        cpu = cpu_seconds()
        first, out = timed([PY, "-m", "autoresearch", "check"], proj, AUTORESEARCH_KEYS=str(keys))
        first_cpu = cpu_seconds() - cpu
        verdict = (out.stdout.strip().splitlines() or [out.stderr.strip()])[-1]
        repeats, repeats_cpu = [], []
        for _ in range(args.repeats):
            cpu = cpu_seconds()
            repeats.append(timed([PY, "-m", "autoresearch", "check"], proj, AUTORESEARCH_KEYS=str(keys))[0])
            repeats_cpu.append(cpu_seconds() - cpu)
        repeat, repeat_cpu = median(repeats), median(repeats_cpu)
        floor, _ = timed(["git", "rev-list", "--count", "main"], proj)
        cold = stages(proj, warm=False)
        warm = stages(proj, warm=True)
    figures = [
        Figure("commits (all branches)", facts["commits"]),
        Figure("commits on main (merges included)", facts["on main"]),
        Figure("merge commits on main", facts["merges"]),
        Figure("commits appending rows", args.records),
        Figure("rows in results.tsv", facts["rows"]),
        Figure("results.tsv size", facts["size"], "MB"),
        Figure("all its committed versions together", facts["versions MB"], "MB"),
        Figure("build (fast-import, a delta pack, signing)", built, "s"),
        Figure("check says", verdict, "", "check: ok", verdict == "check: ok"),
        Figure("check, first run (no cache)", first, "s", f"<= {FIRST_TARGET:g} s", first <= FIRST_TARGET),
        Figure(
            f"check, repeat (median of {args.repeats})", repeat, "s", f"<= {REPEAT_TARGET:g} s", repeat <= REPEAT_TARGET
        ),
        Figure("check, first run: CPU time (user + system)", first_cpu, "s"),
        Figure("check, repeat: CPU time (user + system)", repeat_cpu, "s"),
        Figure("first / repeat", first / repeat, "x"),
        Figure("git rev-list --count main (floor)", floor, "s"),
        Figure("repeat / floor", repeat / floor, "x"),
    ]
    for (name, c), (_, w) in zip(cold, warm):
        figures.append(Figure(f"stage {name}: cold | warm", f"{c:.3g} s | {w:.3g} s ({c / max(w, 1e-9):.1f}x)"))
    notes = [
        (
            f"{args.ideas} idea branches x {args.commits_per_idea} commits, {args.ideas // 2} merged with --no-ff, "
            f"{args.records} record commits of ~{args.rows // args.records} rows, 3 META_MODE commits through the hooks"
        ),
        (
            f"run folders kept for the last {args.run_folders:,} rows; the first run hashes every results.tsv version once "
            "(threads), the repeats read the signed audit cache"
        ),
    ]
    report(
        f"check on a long history ({facts['on main']:,} commits on main, {facts['rows']:,} rows)",
        figures,
        args.out,
        "check_scale",
        notes,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
