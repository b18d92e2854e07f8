"""Byte corpora for language problems: the embedded synthetic language (default) and local text.

A source is a string: `synthetic` (generated from a seed, with an exact Bayes floor), `text:PATH`
(a .txt/.md file, a folder of them, or a glob such as `text:corpus/**/*.py`; a relative PATH is
relative to the ROOT checkout, so it means the same in every worktree), or `hf:NAME` (a hub data
set: needs the network and the `datasets` package; never used by tests). Generated data is cached
under $AUTORESEARCH_CACHE (default ~/.cache/autoresearch), outside what the training process may
read. Usage:

    corpus = load_corpus("text:corpus", seed=1337, train_bytes=4_000_000, val_docs=256, doc_len=257, root=project.root)
    corpus.note     # 'text:corpus: 3 files, 1,204,331 bytes (...)'
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autoresearch.errors import UserError

TEXT_SUFFIXES = (".txt", ".md")


@dataclass(frozen=True)
class Corpus:
    source: str
    train: np.ndarray
    """1-D uint8 training stream."""
    val: np.ndarray
    """(val_docs, doc_len) uint8 validation documents; the model scores bytes 1.. of each."""
    floor_bits: np.ndarray | None
    """Exact Bayes-optimal bits per validation byte, same shape as val; None for real corpora."""
    note: str
    """What was used: the source, files and bytes, and any warning (for the summary and the row)."""
    files: tuple[Path, ...] = field(default=())
    """The corpus files on disk: the training process must not read them."""

    @property
    def floor_bpb(self) -> float | None:
        return None if self.floor_bits is None else float(self.floor_bits[:, 1:].mean())

    @property
    def val_hash(self) -> str:
        return hashlib.sha256(self.val.tobytes()).hexdigest()[:12]


def cache_dir() -> Path:
    return Path(os.environ.get("AUTORESEARCH_CACHE", Path.home() / ".cache" / "autoresearch"))


def load_corpus(
    source: str, seed: int, train_bytes: int, val_docs: int, doc_len: int, root: Path | None = None
) -> Corpus:
    if source == "synthetic":
        return _synthetic(seed, train_bytes, val_docs, doc_len)
    if source.startswith("text:"):
        files, skipped = text_files(source.removeprefix("text:"), root or Path.cwd())
        data = b"\n\n".join(p.read_bytes() for p in files)
        note = f"{source}: {len(files)} file{'s' * (len(files) != 1)}, {len(data):,} bytes"
        if skipped:
            note += f" (skipped {skipped}: name them with a glob, e.g. text:PATH/**/*.py)"
        return _split_text(source, data, val_docs, doc_len, train_bytes, note, tuple(files))
    if source.startswith("hf:"):
        data = _read_hub(source.removeprefix("hf:"))
        return _split_text(source, data, val_docs, doc_len, train_bytes, f"{source}: {len(data):,} bytes", ())
    raise UserError(f"data source {source!r}: expected 'synthetic', 'text:PATH' or 'hf:NAME' (DATA in eval.py)")


def text_files(spec: str, root: Path) -> tuple[list[Path], str]:
    """The files of a `text:` source, sorted, and a note on what a folder held besides .txt/.md ('' if nothing)."""
    if not spec.strip():
        raise UserError(
            "data source 'text:' has no path; give a file, a folder or a glob, e.g. text:corpus/ (DATA in eval.py)"
        )
    path = Path(spec).expanduser()
    path = path if path.is_absolute() else root / path
    if glob.has_magic(str(path)):
        files = sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
        if not files:
            raise UserError(
                f"text:{spec}: the glob matches no file (relative paths are relative to the root checkout {root})"
            )
        return files, ""
    if path.is_file():
        return [path], ""
    if path.is_dir():
        everything = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        files = [p for p in everything if p.suffix in TEXT_SUFFIXES]
        others = sorted({p.suffix or p.name for p in everything if p.suffix not in TEXT_SUFFIXES})
        if not files:
            raise UserError(
                f"text:{spec}: the folder has no .txt or .md files ({len(everything)} others: {', '.join(others[:5])}); "
                f"name the files with a glob, e.g. text:{spec.rstrip('/')}/**/*{others[0] if others else '.txt'}"
            )
        skipped = (
            f"{len(everything) - len(files)} other files ({', '.join(others[:5])})"
            if len(everything) > len(files)
            else ""
        )
        return files, skipped
    raise UserError(f"text:{spec}: no such file or folder ({path}; relative paths are relative to the root checkout)")


def _cached(key: dict, build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    from autoresearch.data.synthetic import GENERATOR_VERSION

    digest = hashlib.sha256(json.dumps({**key, "v": GENERATOR_VERSION}, sort_keys=True).encode()).hexdigest()[:16]
    path = cache_dir() / f"synthetic-{digest}.npz"
    if path.exists():
        with np.load(path) as f:
            return dict(f)
    arrays = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as its bool flag
    os.replace(tmp, path)  # atomic: a concurrent or killed build never leaves a torn cache file
    return arrays


def _synthetic(seed: int, train_bytes: int, val_docs: int, doc_len: int) -> Corpus:
    from autoresearch.data import synthetic as syn

    def build_train() -> dict[str, np.ndarray]:
        return {"train": syn.generate_stream(syn.build_grammar(seed), train_bytes, seed=seed + 1)}

    def build_val() -> dict[str, np.ndarray]:
        grammar = syn.build_grammar(seed)
        val = syn.generate_docs(grammar, val_docs, doc_len, seed=seed + 2)
        return {"val": val, "floor_bits": syn.bayes_bits(grammar, val)}

    train = _cached({"part": "train", "seed": seed, "bytes": train_bytes}, build_train)
    val = _cached({"part": "val", "seed": seed, "docs": val_docs, "len": doc_len}, build_val)
    note = f"synthetic language, seed {seed}: {train_bytes:,} training bytes, {val_docs} validation documents of {doc_len} bytes"
    return Corpus("synthetic", train["train"], val["val"], val["floor_bits"], note)


def _read_hub(name: str) -> bytes:
    import datasets  # optional; needs the network the first time

    ds = datasets.load_dataset(name, split="train")
    return "\n\n".join(ds["text"]).encode()


def _split_text(
    source: str, data: bytes, val_docs: int, doc_len: int, train_bytes: int, note: str, files: tuple[Path, ...]
) -> Corpus:
    """The last val_docs * doc_len bytes are the validation documents; the rest is training."""
    arr = np.frombuffer(data, dtype=np.uint8)
    n_val = val_docs * doc_len
    if len(arr) < 2 * n_val:
        raise UserError(
            f"{source}: {len(arr):,} bytes is too small; need at least {2 * n_val:,} (twice the validation set of {val_docs} x {doc_len} bytes)"
        )
    train = arr[:-n_val].copy()
    if len(train) < train_bytes:
        note += f"; warning: the {len(train):,} training bytes are fewer than the budget's {train_bytes:,}: each is seen about {train_bytes / len(train):.1f} times"
    return Corpus(source, train, arr[-n_val:].reshape(val_docs, doc_len).copy(), None, note, files)
