"""Data sources for eval.py: the embedded synthetic language (default) and local text corpora.

A source is a string: `synthetic` (generated from a seed, with an exact Bayes floor), `text:PATH`
(a .txt/.md file or a folder of them), or `hf:NAME` (a hub data set, needs the network and the
`datasets` package; never used by tests). Generated data is cached under $AUTORESEARCH_CACHE
(default ~/.cache/autoresearch) and rebuilt when missing. Usage:

    corpus = load_corpus("synthetic", seed=1337, train_bytes=4_000_000, val_docs=256, doc_len=257)
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Corpus:
    source: str
    train: np.ndarray
    """1-D uint8 training stream."""
    val: np.ndarray
    """(val_docs, doc_len) uint8 validation documents; the model scores bytes 1.. of each."""
    floor_bits: np.ndarray | None
    """Exact Bayes-optimal bits per validation byte, same shape as val; None for real corpora."""

    @property
    def floor_bpb(self) -> float | None:
        return None if self.floor_bits is None else float(self.floor_bits[:, 1:].mean())

    @property
    def val_hash(self) -> str:
        return hashlib.sha256(self.val.tobytes()).hexdigest()[:12]


def cache_dir() -> Path:
    return Path(os.environ.get("AUTORESEARCH_CACHE", Path.home() / ".cache" / "autoresearch"))


def load_corpus(source: str, seed: int, train_bytes: int, val_docs: int, doc_len: int) -> Corpus:
    if source == "synthetic":
        return _synthetic(seed, train_bytes, val_docs, doc_len)
    if source.startswith("text:"):
        return _split_text(source, _read_text_source(Path(source.removeprefix("text:"))), val_docs, doc_len)
    if source.startswith("hf:"):
        return _split_text(source, _read_hub(source.removeprefix("hf:")), val_docs, doc_len)
    raise ValueError(f"data source {source!r}: expected 'synthetic', 'text:PATH' or 'hf:NAME'")


def _cached(key: dict, build) -> dict[str, np.ndarray]:
    from autoresearch.data.synthetic import GENERATOR_VERSION

    digest = hashlib.sha256(json.dumps({**key, "v": GENERATOR_VERSION}, sort_keys=True).encode()).hexdigest()[:16]
    path = cache_dir() / f"synthetic-{digest}.npz"
    if path.exists():
        with np.load(path) as f:
            return dict(f)
    arrays = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays)
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
    return Corpus("synthetic", train["train"], val["val"], val["floor_bits"])


def _read_text_source(path: Path) -> bytes:
    if path.is_file():
        return path.read_bytes()
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in (".txt", ".md") and p.is_file())
        if not files:
            raise FileNotFoundError(f"text:{path}: the folder has no .txt or .md files")
        return b"\n\n".join(p.read_bytes() for p in files)
    raise FileNotFoundError(f"text:{path}: no such file or folder")


def _read_hub(name: str) -> bytes:
    import datasets  # optional; needs the network the first time

    ds = datasets.load_dataset(name, split="train")
    return "\n\n".join(ds["text"]).encode()


def _split_text(source: str, data: bytes, val_docs: int, doc_len: int) -> Corpus:
    """The last val_docs * doc_len bytes are the validation documents; the rest is training."""
    arr = np.frombuffer(data, dtype=np.uint8)
    n_val = val_docs * doc_len
    if len(arr) < 2 * n_val:
        raise ValueError(f"{source}: {len(arr)} bytes is too small; need at least {2 * n_val} (twice the validation set)")
    return Corpus(source, arr[:-n_val].copy(), arr[-n_val:].reshape(val_docs, doc_len).copy(), None)
