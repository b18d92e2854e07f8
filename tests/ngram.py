"""Byte n-gram baselines for the tests of the synthetic language: how far above its exact floor a
counting model stays (the generator's claim that context matters, checked)."""

from __future__ import annotations

import numpy as np


def ngram_bits(train: np.ndarray, docs: np.ndarray, order: int) -> np.ndarray:
    """float64, same shape as docs: -log2 p(byte | previous `order` bytes) under a byte n-gram counted on
    `train` with add-one smoothing over the 256 byte values (order 0 = unigram, 1 = bigram, at most 7).
    The first bytes of a document, with a shorter context, use the model of the order they have."""
    if not 0 <= order <= 7:
        raise ValueError(f"ngram order {order}: expected 0..7")
    train = np.asarray(train, dtype=np.uint8).ravel()
    docs = np.asarray(docs, dtype=np.uint8)
    if docs.ndim != 2:
        raise ValueError(f"ngram_bits: docs must be 2-D (n_docs, doc_len), got shape {docs.shape}")
    bits = np.empty(docs.shape)
    for k in range(min(order, docs.shape[1] - 1) + 1):
        model = _ngram_order_bits(train, docs, k)  # positions k.. of each document
        if k < order:
            bits[:, k] = model[:, 0]
        else:
            bits[:, k:] = model
    return bits


def _context_codes(x: np.ndarray, k: int) -> np.ndarray:
    """For each position t >= k along the last axis: the previous k bytes as one integer."""
    n = x.shape[-1]
    code = np.zeros(x[..., k:].shape, dtype=np.int64)
    for m in range(1, k + 1):
        code = code * 256 + x[..., k - m : n - m]
    return code


def _ngram_order_bits(train: np.ndarray, docs: np.ndarray, k: int) -> np.ndarray:
    """Bits of docs[:, k:] under the order-k model."""
    ctx_train = _context_codes(train, k)
    joint_train = ctx_train * 256 + train[k:]
    ctx_docs = _context_codes(docs, k)
    joint_docs = ctx_docs * 256 + docs[:, k:]
    return -np.log2((_lookup_counts(joint_train, joint_docs) + 1) / (_lookup_counts(ctx_train, ctx_docs) + 256))


def _lookup_counts(keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """How often each query value occurs in keys."""
    values, counts = np.unique(keys, return_counts=True)
    pos = np.minimum(np.searchsorted(values, queries), max(len(values) - 1, 0))
    found = values[pos] == queries if len(values) else np.zeros(queries.shape, dtype=bool)
    return np.where(found, counts[pos] if len(values) else 0, 0)
