"""The language-modelling example's steps for eval.py: bytes in, next-byte logits out, bits per byte.

    data = lm.load(DATA, DATA_SEED, seq_len, val_docs, profile.budget, root)   # train stream, validation docs, floor
    model = trial.train(lm.windows(data), seq_len=..., vocab_size=256)
    lm.check_causal(model, data, trial)              # changing later bytes must not move earlier logits
    bits = lm.doc_bits(model, data.val)              # per document, float64, computed here
    lm.check_fresh(model, data, bits, trial)         # synthetic only: no better on the split than on fresh text
    trial.score(lm.bits_per_byte(bits, data), optimum=data.floor_bpb)

The model sees a validation document's bytes 0..T-1 and must give, at each position t, logits for
byte t+1; the bytes it predicts are also its inputs, so causality is checked rather than assumed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autoresearch.data import Corpus, load_corpus
from autoresearch.evaluate.parent import Crash, RemoteModel, Trial
from autoresearch.evaluate.samplers import Windows

VOCAB = 256
CHUNK = 16
"""Validation documents per forward pass."""
CAUSAL_DOCS = 4
FRESH_SIGMAS = 4.0
"""A split that scores better than fresh text by more than this many standard errors (and the calibrated threshold) is a leak."""


@dataclass(frozen=True)
class LMData:
    corpus: Corpus
    seq_len: int
    seed: int

    @property
    def train(self) -> np.ndarray:
        return self.corpus.train

    @property
    def val(self) -> np.ndarray:
        return self.corpus.val

    @property
    def floor_bpb(self) -> float | None:
        return self.corpus.floor_bpb

    @property
    def scored_bytes(self) -> int:
        return self.val.shape[0] * (self.val.shape[1] - 1)


def load(source: str, seed: int, seq_len: int, val_docs: int, budget_tokens: int, root: Path) -> LMData:
    # One pass over fresh bytes in units mode, so the budget never repeats data; at least 4 MB.
    train_bytes = max(4_000_000, budget_tokens + seq_len + 1)
    return LMData(load_corpus(source, seed, train_bytes, val_docs, seq_len + 1, root), seq_len, seed)


def windows(data: LMData) -> Windows:
    return Windows(data.train, data.seq_len)


def _logits_bits(logits: np.ndarray, docs: np.ndarray) -> tuple[float, np.ndarray]:
    """(total bits of the chunk, bits per document), in float64."""
    import torch
    import torch.nn.functional as F
    from einops import rearrange

    x = torch.from_numpy(logits).double()
    y = torch.from_numpy(docs[:, 1:].astype(np.int64))
    total = F.cross_entropy(rearrange(x, "b t v -> (b t) v"), rearrange(y, "b t -> (b t)"), reduction="sum").item()
    per_doc = F.cross_entropy(rearrange(x, "b t v -> b v t"), y, reduction="none").sum(dim=1).numpy()
    return total / math.log(2), per_doc / math.log(2)


def doc_bits(model: RemoteModel, docs: np.ndarray) -> tuple[float, np.ndarray]:
    """(bits over all scored bytes, bits of each document) of the model on `docs`: bytes 1.. of each."""
    total, per_doc = 0.0, []
    inputs = docs[:, :-1].astype(np.int64)
    for first, logits in zip(
        range(0, len(docs), CHUNK), model.predict_chunks(inputs, (docs.shape[1] - 1, VOCAB), CHUNK)
    ):
        chunk_total, chunk_docs = _logits_bits(logits, docs[first : first + CHUNK])
        total += chunk_total
        per_doc.append(chunk_docs)
    return total, np.concatenate(per_doc)


def bits_per_byte(bits: tuple[float, np.ndarray], data: LMData) -> float:
    return bits[0] / data.scored_bytes


def check_causal(model: RemoteModel, data: LMData, trial: Trial) -> None:
    """Perturb the bytes after position t; the logits at positions <= t must not move.

    The originals and the perturbed copies go in one shuffled batch, so the model cannot tell which
    is the check."""
    x = data.val[:CAUSAL_DOCS, :-1].astype(np.int64)
    rng = np.random.default_rng(trial.secret)
    cuts = (x.shape[1] // 3, 2 * x.shape[1] // 3)
    variants = [x]
    for t in cuts:
        y = x.copy()
        y[:, t + 1 :] = rng.integers(0, VOCAB, size=y[:, t + 1 :].shape)
        variants.append(y)
    batch = np.concatenate(variants)
    order = rng.permutation(len(batch))
    outputs = np.empty((len(batch), x.shape[1], VOCAB), dtype=np.float32)
    outputs[order] = model.predict(batch[order], (x.shape[1], VOCAB), chunk=len(batch))
    base = outputs[: len(x)]
    tolerance = 1e-4 if trial.run.profile.device == "cpu" else 2e-2
    for k, t in enumerate(cuts, start=1):
        moved = float(np.abs(outputs[k * len(x) : (k + 1) * len(x), : t + 1] - base[:, : t + 1]).max())
        if moved > tolerance:
            raise Crash(
                "leak",
                f"logits at positions <= {t} changed by {moved:.3g} when only later bytes changed: the model reads the future; "
                "mask attention (and any mixing across positions) so position t sees only bytes <= t",
            )


def check_floor(value: float, data: LMData) -> None:
    floor = data.floor_bpb
    if floor is not None and value < floor - 1e-6:
        raise Crash(
            "leak",
            f"val_bpb {value:.6f} is below the Bayes floor {floor:.6f}: the model sees what it should not (the validation split, "
            "or the future); train only on data.next_batch, and keep attention causal",
        )


def check_fresh(model: RemoteModel, data: LMData, bits: tuple[float, np.ndarray], trial: Trial) -> None:
    """On the synthetic language: score fresh documents drawn with a seed only this process knows; a model that
    does better on the fixed split than on them by more than the noise has memorised the split (a `leak`)."""
    if data.corpus.floor_bits is None:
        return  # a real corpus has no generator: only the confinement keeps the split from the trainer
    from autoresearch.data import synthetic as syn

    grammar = syn.build_grammar(data.seed)
    fresh = syn.generate_docs(grammar, data.val.shape[0], data.val.shape[1], seed=trial.secret)
    fresh_floor = syn.bayes_bits(grammar, fresh)[:, 1:].sum(axis=1)
    _, fresh_bits = doc_bits(model, fresh)
    per_doc_bytes = data.val.shape[1] - 1
    excess_split = (bits[1] - data.corpus.floor_bits[:, 1:].sum(axis=1)) / per_doc_bytes
    excess_fresh = (fresh_bits - fresh_floor) / per_doc_bytes
    advantage = float(excess_fresh.mean() - excess_split.mean())
    noise = float(
        math.sqrt(excess_fresh.var(ddof=1) / len(excess_fresh) + excess_split.var(ddof=1) / len(excess_split))
    )
    limit = max(FRESH_SIGMAS * noise, trial.threshold or 0.0)
    trial.extra |= {
        "fresh_gap": float(excess_fresh.mean()),
        "split_gap": float(excess_split.mean()),
        "fresh_limit": limit,
    }
    if advantage > limit:
        raise Crash(
            "leak",
            f"the model is {advantage:.4f} bits per byte closer to the floor on the fixed validation split than on fresh documents "
            f"from the same generator (noise allows {limit:.4f}): it has seen the split; train only on data.next_batch",
        )
