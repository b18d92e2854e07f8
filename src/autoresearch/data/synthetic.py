"""The embedded research problem: a synthetic byte-level language with an exact Bayes floor.

A seed builds a small "synthetic language" (`build_grammar`): word classes with their own spelling
(characteristic prefixes and suffixes), a Markov grammar over classes with sentence and paragraph
ends, and a latent topic per paragraph that shifts word choice. Bytes are sampled from it
(`generate_stream` for training, `generate_docs` for validation) and `bayes_bits` gives the exact
code length of every byte under the true generator: the floor that no model beats on average.
Pure numpy; every output is a deterministic function of its seeds.

Usage: g = build_grammar(0); train = generate_stream(g, 10_000_000, seed=1)
       val = generate_docs(g, 64, 2048, seed=2); floor_bpb = bayes_bits(g, val).mean()
"""

from __future__ import annotations

import bisect
import functools
import itertools
from dataclasses import dataclass

import numpy as np

GENERATOR_VERSION = 1
"""Bump whenever any output of this module changes for the same seeds (cache keys use it)."""

DELIMITERS = (b" ", b". ", b".\n")
"""What follows a word: the sentence goes on, the sentence ends, the paragraph ends."""

CONSONANTS = "tnsrlhdcmpgbfkvwzj"
VOWELS = "eaoiu"
STEM_SYLLABLES = (0.7, 0.3)
"""Probability of a word stem having 1, 2, ... syllables."""
SUCCESSORS = (2, 3)
"""How many random successor classes each class gets besides its successor on a cycle through all classes."""
ZIPF_EXPONENT = 0.7
TOPIC_BETA = 1.5
PARAGRAPH_END_PROB = 0.25
MEAN_SENTENCE_WORDS = 8.0
STREAM_LANES = 4096
_BYTES_PER_LANE = 8192
_ROUND_TOKENS = 1 << 20
_GRAMMAR_TAG, _STREAM_TAG, _DOCS_TAG = 0x6772, 0x7374, 0x646F


@dataclass(frozen=True, eq=False)
class Grammar:
    """The generator. Words are numbered class by class: class c owns ids class_start[c]:class_start[c+1]."""

    word_bytes: np.ndarray
    """uint8, the spellings of all words concatenated."""
    word_offsets: np.ndarray
    """int64 (W+1,): word w is word_bytes[word_offsets[w]:word_offsets[w+1]]."""
    word_class: np.ndarray
    """int64 (W,): the class of each word."""
    class_start: np.ndarray
    """int64 (C+1,): first word id of each class."""
    word_probs: np.ndarray
    """float64 (T, W): p(w | class(w), topic); each class's block sums to 1 per topic."""
    start_probs: np.ndarray
    """float64 (C,): class of the first word of a sentence."""
    transitions: np.ndarray
    """float64 (C, C): class of the next word when the sentence goes on."""
    end_probs: np.ndarray
    """float64 (C,): probability that the sentence ends after a word of this class."""
    paragraph_end_prob: float
    """Probability that a sentence end is also a paragraph end (then a new topic is drawn)."""

    @property
    def n_classes(self) -> int:
        return len(self.start_probs)

    @property
    def n_topics(self) -> int:
        return self.word_probs.shape[0]

    @property
    def n_words(self) -> int:
        return len(self.word_class)

    @property
    def words(self) -> tuple[str, ...]:
        spans = zip(self.word_offsets[:-1], self.word_offsets[1:])
        return tuple(self.word_bytes[a:b].tobytes().decode() for a, b in spans)

    def delimiter_probs(self) -> np.ndarray:
        """float64 (C, 3): p(delimiter | class of the word before it), in DELIMITERS order."""
        e, q = self.end_probs, self.paragraph_end_prob
        return np.stack([1 - e, e * (1 - q), e * q], axis=1)

    def mean_sentence_words(self) -> float:
        """Expected number of words in a sentence."""
        return _mean_sentence_words(self.start_probs, self.transitions, self.end_probs)


# ----------------------------------------------------------------------------- building a grammar


def build_grammar(
    seed: int, n_classes: int = 8, n_topics: int = 8, words_per_class: tuple[int, int] = (60, 100)
) -> Grammar:
    """The synthetic language of `seed`: vocabulary, topic-dependent word distributions and class grammar."""
    rng = np.random.default_rng([seed, _GRAMMAR_TAG])
    sizes = rng.integers(words_per_class[0], words_per_class[1] + 1, size=n_classes)
    taken: set[str] = set()
    words = [w for c in range(n_classes) for w in _class_words(rng, int(sizes[c]), _class_affixes(rng), taken)]
    word_class = np.repeat(np.arange(n_classes), sizes)
    start_probs, transitions, raw_end = _class_grammar(rng, n_classes)
    encoded = [w.encode() for w in words]
    return Grammar(
        word_bytes=np.frombuffer(b"".join(encoded), dtype=np.uint8).copy(),
        word_offsets=np.concatenate([[0], np.cumsum([len(w) for w in encoded])]).astype(np.int64),
        word_class=word_class.astype(np.int64),
        class_start=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        word_probs=_word_probs(rng, word_class, n_topics),
        start_probs=start_probs,
        transitions=transitions,
        end_probs=_calibrate_end_probs(start_probs, transitions, raw_end, MEAN_SENTENCE_WORDS),
        paragraph_end_prob=PARAGRAPH_END_PROB,
    )


def _zipf(n: int, exponent: float) -> np.ndarray:
    p = (np.arange(n) + 1.0) ** -exponent
    return p / p.sum()


_CONSONANT_P = _zipf(len(CONSONANTS), 0.7)
_VOWEL_P = _zipf(len(VOWELS), 0.5)


def _syllable(rng: np.random.Generator) -> str:
    """Optional onset consonant, a vowel, optional coda consonant."""
    onset = CONSONANTS[rng.choice(len(CONSONANTS), p=_CONSONANT_P)] if rng.random() < 0.85 else ""
    coda = CONSONANTS[rng.choice(len(CONSONANTS), p=_CONSONANT_P)] if rng.random() < 0.3 else ""
    return onset + VOWELS[rng.choice(len(VOWELS), p=_VOWEL_P)] + coda


def _class_affixes(rng: np.random.Generator) -> tuple[str, list[str]]:
    """A class's morphology: an optional prefix (40% of classes) and one or two suffixes."""
    prefix = _syllable(rng)[:2] if rng.random() < 0.4 else ""
    suffixes = {_syllable(rng)[-2:] for _ in range(rng.integers(1, 3))}
    return prefix, sorted(suffixes)


def _class_words(rng: np.random.Generator, n: int, affixes: tuple[str, list[str]], taken: set[str]) -> list[str]:
    """n new words, each prefix + stem of 1-3 syllables + one of the suffixes, 2..10 letters, unseen in `taken`."""
    prefix, suffixes = affixes
    words: list[str] = []
    while len(words) < n:
        stem = "".join(_syllable(rng) for _ in range(rng.choice(len(STEM_SYLLABLES), p=STEM_SYLLABLES) + 1))
        word = prefix + stem + suffixes[rng.integers(len(suffixes))]
        if 2 <= len(word) <= 10 and word not in taken:
            taken.add(word)
            words.append(word)
    return words


def _word_probs(rng: np.random.Generator, word_class: np.ndarray, n_topics: int) -> np.ndarray:
    """p(w | c, z) ∝ zipf_base(w) * exp(beta * affinity[z, w]), normalised within each class."""
    n_words = len(word_class)
    base = np.empty(n_words)
    for c in np.unique(word_class):
        idx = np.flatnonzero(word_class == c)
        base[idx] = _zipf(len(idx), ZIPF_EXPONENT)[rng.permutation(len(idx))]
    weights = base * np.exp(TOPIC_BETA * rng.standard_normal((n_topics, n_words)))
    totals = np.zeros((n_topics, word_class.max() + 1))
    np.add.at(totals.T, word_class, weights.T)
    return weights / totals[:, word_class]


def _class_grammar(rng: np.random.Generator, n_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start distribution, sparse transition matrix (a random cycle through all classes, so every class
    reaches every other, plus SUCCESSORS random successors) and raw end probabilities (zero for about half
    of the classes)."""
    cycle = rng.permutation(n_classes)
    transitions = np.zeros((n_classes, n_classes))
    for i, c in enumerate(cycle):
        n_random = min(n_classes, int(rng.integers(SUCCESSORS[0], SUCCESSORS[1] + 1)))
        successors = {cycle[(i + 1) % n_classes], *rng.choice(n_classes, size=n_random, replace=False)}
        transitions[c, sorted(successors)] = rng.dirichlet(np.ones(len(successors)) * 2.0)
    start_probs = rng.dirichlet(np.ones(n_classes) * 0.5)
    can_end = rng.permutation(n_classes) < max(1, n_classes // 2)
    raw_end = np.where(can_end, rng.uniform(0.2, 0.5, size=n_classes), 0.0)
    return start_probs, transitions, raw_end


def _calibrate_end_probs(start: np.ndarray, transitions: np.ndarray, raw_end: np.ndarray, target: float) -> np.ndarray:
    """Scale the end probabilities (capped at 0.9) so that sentences average `target` words when reachable."""

    def mean_words(scale: float) -> float:
        return _mean_sentence_words(start, transitions, np.minimum(raw_end * scale, 0.9))

    lo, hi = 1e-3, 0.9 / raw_end[raw_end > 0].min()
    if mean_words(hi) >= target:
        return np.minimum(raw_end * hi, 0.9)
    for _ in range(60):  # mean_words decreases with the scale
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if mean_words(mid) > target else (lo, mid)
    return np.minimum(raw_end * hi, 0.9)


def _mean_sentence_words(start: np.ndarray, transitions: np.ndarray, end: np.ndarray) -> float:
    """pi0 (I - diag(1 - e) A)^-1 1: the class distribution of word k + 1 is pi0 (diag(1 - e) A)^k."""
    go_on = (1 - end)[:, None] * transitions
    return float(start @ np.linalg.solve(np.eye(len(start)) - go_on, np.ones(len(start))))


# ----------------------------------------------------------------------------- token strings


@dataclass(frozen=True, eq=False)
class _Tokens:
    """All token strings (word + delimiter); token id = 3 * word + delimiter index."""

    padded: np.ndarray
    """uint8 (3W, longest): token spellings padded with zeros."""
    length: np.ndarray
    index: dict[bytes, int]
    """Spelling -> token id."""
    sorted_strings: list[bytes]
    order: np.ndarray
    """Token id at each position of the lexicographic order."""
    lo: np.ndarray
    """int64 (3W, L): lo[k, j] is the first sorted position whose string starts with token k's first j bytes."""
    hi: np.ndarray
    """int64 (3W, L): one past the last such position; L = longest token + 2."""


@functools.lru_cache(maxsize=8)
def _tokens(g: Grammar) -> _Tokens:
    strings = [w.encode() + d for w in g.words for d in DELIMITERS]
    order = sorted(range(len(strings)), key=strings.__getitem__)
    sorted_strings = [strings[k] for k in order]
    width = max(map(len, strings)) + 2
    ranges = np.array([_prefix_ranges(sorted_strings, s, width) for s in strings])
    lengths = np.array([len(s) for s in strings], dtype=np.int64)
    return _Tokens(
        padded=np.array([np.frombuffer(s.ljust(width - 2, b"\0"), dtype=np.uint8) for s in strings]),
        length=lengths,
        index={s: k for k, s in enumerate(strings)},
        sorted_strings=sorted_strings,
        order=np.array(order, dtype=np.int64),
        lo=ranges[:, 0],
        hi=ranges[:, 1],
    )


def _prefix_ranges(sorted_strings: list[bytes], s: bytes, width: int) -> np.ndarray:
    """(2, width): for j < width the sorted positions [lo, hi) of the strings that start with s[:j].
    Entries past len(s), or past the first empty range, are the empty range [0, 0)."""
    out = np.zeros((2, width), dtype=np.int64)
    for j in range(min(len(s), width - 1) + 1):
        prefix = s[:j]
        lo = bisect.bisect_left(sorted_strings, prefix)
        hi = bisect.bisect_left(sorted_strings, prefix + b"\xff")  # token bytes are all < 0xff
        out[:, j] = lo, hi
        if lo == hi:
            break
    return out


def _render(tokens: _Tokens, ids: np.ndarray) -> np.ndarray:
    """The bytes of a sequence of token ids."""
    return tokens.padded[ids][np.arange(tokens.padded.shape[1]) < tokens.length[ids][:, None]]


# ----------------------------------------------------------------------------- sampling


@dataclass(frozen=True, eq=False)
class _Sampler:
    """Walker alias tables for p(w | class, topic), one row per (class, topic), padded to the largest class."""

    size: np.ndarray
    """(R,) number of words of the row's class; row = class * T + topic."""
    first: np.ndarray
    """(R,) first word id of the row's class."""
    keep: np.ndarray
    """(R, K): probability of keeping column k (word first + k) ..."""
    alias: np.ndarray
    """(R, K): ... else this word id."""
    class_cdf: np.ndarray
    """(C+1, C): rows 0..C-1 the transitions' CDFs, row C the start distribution's."""


@functools.lru_cache(maxsize=8)
def _sampler(g: Grammar) -> _Sampler:
    sizes = np.diff(g.class_start)
    rows = [(c, z) for c in range(g.n_classes) for z in range(g.n_topics)]
    keep = np.ones((len(rows), sizes.max()))
    alias = np.zeros((len(rows), sizes.max()), dtype=np.int64)
    for r, (c, z) in enumerate(rows):
        first, n = g.class_start[c], sizes[c]
        keep[r, :n], alias[r, :n] = _alias_table(g.word_probs[z, first : first + n])
        alias[r] += first
    class_cdf = np.cumsum(np.vstack([g.transitions, g.start_probs]), axis=1)
    class_cdf[:, -1] = 1.0
    return _Sampler(
        size=np.array([sizes[c] for c, _ in rows]),
        first=np.array([g.class_start[c] for c, _ in rows]),
        keep=keep,
        alias=alias,
        class_cdf=class_cdf,
    )


def _alias_table(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vose's alias method: column k is kept with probability keep[k], else alias[k] is drawn."""
    n = len(p)
    scaled = p * n
    keep, alias = np.ones(n), np.arange(n)
    small = [k for k in range(n) if scaled[k] < 1.0]
    large = [k for k in range(n) if scaled[k] >= 1.0]
    while small and large:
        s, big = small.pop(), large.pop()
        keep[s], alias[s] = scaled[s], big
        scaled[big] -= 1.0 - scaled[s]
        (small if scaled[big] < 1.0 else large).append(big)
    return keep, alias


def _sample_class(s: _Sampler, row: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse CDF: the first class whose cumulative probability exceeds u."""
    return (u[:, None] >= s.class_cdf[row]).sum(axis=1)


def _initial_state(g: Grammar, s: _Sampler, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(topic, class of the next word) at a paragraph start: topic uniform, class ~ start_probs."""
    u = rng.random((2, n))
    return (u[0] * g.n_topics).astype(np.int64), _sample_class(s, np.full(n, g.n_classes), u[1])


def _step(g: Grammar, s: _Sampler, rng: np.random.Generator, topic: np.ndarray, cls: np.ndarray):
    """One word and its delimiter in every lane: returns (token ids, next topic, next class)."""
    u = rng.random((5, len(topic)))
    row = cls * g.n_topics + topic
    x = u[0] * s.size[row]
    col = np.minimum(x.astype(np.int64), s.size[row] - 1)
    word = np.where(x - col < s.keep[row, col], s.first[row] + col, s.alias[row, col])
    sentence_end = u[1] < g.end_probs[cls]
    paragraph_end = sentence_end & (u[2] < g.paragraph_end_prob)
    token = 3 * word + sentence_end + paragraph_end
    next_cls = _sample_class(s, np.where(sentence_end, g.n_classes, cls), u[3])
    next_topic = np.where(paragraph_end, (u[4] * g.n_topics).astype(np.int64), topic)
    return token, next_topic, next_cls


def generate_docs(grammar: Grammar, n_docs: int, doc_len: int, seed: int) -> np.ndarray:
    """uint8 (n_docs, doc_len): independent documents, each starting at a paragraph start (topic uniform,
    class ~ start_probs), sampled word by word and cut to doc_len bytes. The validation split."""
    g, s, tok = grammar, _sampler(grammar), _tokens(grammar)
    rng = np.random.default_rng([seed, _DOCS_TAG])
    topic, cls = _initial_state(g, s, rng, n_docs)
    steps, filled = [], np.zeros(n_docs, dtype=np.int64)
    while filled.min(initial=doc_len) < doc_len:
        ids, topic, cls = _step(g, s, rng, topic, cls)
        steps.append(ids)
        filled += tok.length[ids]
    if not steps:
        return np.zeros((n_docs, doc_len), dtype=np.uint8)
    flat = _render(tok, np.stack(steps, axis=1).ravel())  # lane-major: doc 0's words, then doc 1's, ...
    starts = np.cumsum(filled) - filled
    return flat[starts[:, None] + np.arange(doc_len)]


def generate_stream(grammar: Grammar, n_bytes: int, seed: int) -> np.ndarray:
    """uint8 (n_bytes,): one training stream, starting at a paragraph start.

    Many lanes step in lockstep, each from a paragraph start, for a fixed number of steps and then on to
    the end of its current paragraph; the stream is lane 0's text, then lane 1's, and so on. Paragraph
    ends are renewal points (the next state is drawn afresh) and each lane stops at a stopping time, so
    the concatenation is an exact sample of one long run of the generator."""
    g, s, tok = grammar, _sampler(grammar), _tokens(grammar)
    rng = np.random.default_rng([seed, _STREAM_TAG])
    lanes = int(np.clip(n_bytes // _BYTES_PER_LANE, 64, STREAM_LANES))
    out, filled = np.empty(n_bytes, dtype=np.uint8), 0
    bytes_per_step = 8.0 * lanes  # a first guess, then measured
    while filled < n_bytes:
        steps = int(np.clip((n_bytes - filled) / bytes_per_step, 16, _ROUND_TOKENS // lanes))
        ids = _sample_lanes(g, s, rng, lanes, steps)
        data = _render(tok, ids)
        bytes_per_step = len(data) / (len(ids) / lanes)
        out[filled : filled + len(data)] = data[: n_bytes - filled]
        filled += len(data)
    return out


def _sample_lanes(g: Grammar, s: _Sampler, rng: np.random.Generator, lanes: int, steps: int) -> np.ndarray:
    """Token ids, lane after lane: each lane starts a paragraph, runs `steps` words, then finishes its paragraph."""
    topic, cls = _initial_state(g, s, rng, lanes)
    body = np.empty((steps, lanes), dtype=np.int64)
    for i in range(steps):
        body[i], topic, cls = _step(g, s, rng, topic, cls)
    open_lanes = np.flatnonzero(body[-1] % 3 != 2)
    topic, cls = topic[open_lanes], cls[open_lanes]
    tail_lanes, tail_ids = [], []
    while len(open_lanes):
        ids, topic, cls = _step(g, s, rng, topic, cls)
        tail_lanes.append(open_lanes)
        tail_ids.append(ids)
        going = ids % 3 != 2
        open_lanes, topic, cls = open_lanes[going], topic[going], cls[going]
    lane = np.concatenate([np.zeros(0, dtype=np.int64), *tail_lanes])
    tail = np.concatenate([np.zeros(0, dtype=np.int64), *tail_ids])
    order = np.argsort(lane, kind="stable")  # by lane, steps in order within a lane
    lane, tail = lane[order], tail[order]
    per_lane = steps + np.bincount(lane, minlength=lanes)
    start = np.cumsum(per_lane) - per_lane
    out = np.empty(per_lane.sum(), dtype=np.int64)
    out[start + np.arange(steps)[:, None]] = body
    out[start[lane] + steps + np.arange(len(lane)) - np.searchsorted(lane, lane)] = tail
    return out


# ----------------------------------------------------------------------------- exact scoring


def bayes_bits(grammar: Grammar, docs: np.ndarray) -> np.ndarray:
    """float64, same shape as docs (n_docs, doc_len): -log2 p(docs[i, t] | docs[i, :t]) under the true
    generator, each document starting at a paragraph start.

    A forward pass over the latent (topic, class of the next word) at token boundaries. Within a token
    the conditional of a byte is a ratio of prefix masses M(s[:j+1]) / M(s[:j]), M(prefix) being the
    probability that the next token string starts with prefix; a truncated last token is scored the
    same way. A byte the generator cannot produce gets +inf, and so does every byte after it."""
    g, tok = grammar, _tokens(grammar)
    docs = np.asarray(docs, dtype=np.uint8)
    if docs.ndim != 2:
        raise ValueError(f"bayes_bits: docs must be 2-D (n_docs, doc_len), got shape {docs.shape}")
    occ = _parse(tok, docs)
    bits = np.full(docs.shape, np.inf)
    belief = np.broadcast_to(g.start_probs / g.n_topics, (len(docs), g.n_topics, g.n_classes)).copy()
    bounds = np.searchsorted(occ.step, np.arange(occ.step.max(initial=-1) + 2))
    for sl in (slice(a, b) for a, b in itertools.pairwise(bounds)):  # the k-th token of every document
        doc = occ.doc[sl]
        mass = np.einsum("nlk,nk->nl", _prefix_masses(g, occ, sl), belief[doc].reshape(len(doc), -1))
        with np.errstate(divide="ignore", invalid="ignore"):
            token_bits = -np.log2(mass[:, 1:] / mass[:, :-1])
        scored = np.arange(token_bits.shape[1]) < occ.n_scored[sl, None]
        rows = np.broadcast_to(doc[:, None], scored.shape)
        cols = occ.start[sl, None] + np.arange(token_bits.shape[1])
        bits[rows[scored], cols[scored]] = token_bits[scored]
        _update_belief(g, belief, doc, occ.token[sl])
    bits[np.logical_or.accumulate(~np.isfinite(bits), axis=1)] = np.inf
    return bits


@dataclass(frozen=True)
class _Occurrences:
    """Token occurrences in a batch of documents, sorted by (index within the document, document)."""

    step: np.ndarray
    """Index of the token within its document."""
    doc: np.ndarray
    start: np.ndarray
    """Byte position of its first byte."""
    n_scored: np.ndarray
    """How many of its bytes to score: all, or longest token + 1 (a longer string is impossible by then)."""
    token: np.ndarray
    """Token id, or -1 for a cut or impossible token string."""
    other: np.ndarray
    """For a token id of -1, its row in other_ranges; else -1."""
    other_ranges: np.ndarray
    """(n_other, 2, L): like _Tokens.lo and hi, the sorted ranges of token strings sharing its first j bytes."""


def _parse(tok: _Tokens, docs: np.ndarray) -> _Occurrences:
    """Split every document into token strings: each ends at a space or newline, the last may be cut."""
    width = tok.lo.shape[1]
    rows: list[tuple[int, int, int, bytes]] = []
    for i, doc in enumerate(docs):
        stops = np.flatnonzero((doc == ord(" ")) | (doc == ord("\n"))) + 1
        if not len(stops) or stops[-1] != len(doc):
            stops = np.append(stops, len(doc))
        raw = doc.tobytes()
        starts = np.concatenate([[0], stops[:-1]])
        rows.extend((k, i, a, raw[a:b]) for k, (a, b) in enumerate(zip(starts.tolist(), stops.tolist())))
    rows.sort(key=lambda r: (r[0], r[1]))
    strings = [r[3] for r in rows]
    token = np.array([tok.index.get(x, -1) for x in strings], dtype=np.int64)
    other = np.where(token < 0, np.cumsum(token < 0) - 1, -1)
    other_ranges = np.array([_prefix_ranges(tok.sorted_strings, strings[r], width) for r in np.flatnonzero(token < 0)])
    column = np.array([[r[0], r[1], r[2]] for r in rows], dtype=np.int64).reshape(-1, 3)
    return _Occurrences(
        step=column[:, 0],
        doc=column[:, 1],
        start=column[:, 2],
        n_scored=np.minimum([len(x) for x in strings], width - 1).astype(np.int64),
        token=token,
        other=other,
        other_ranges=other_ranges.reshape(-1, 2, width),
    )


@functools.lru_cache(maxsize=8)
def _latent_cumulative(g: Grammar) -> np.ndarray:
    """longdouble (T*C, 3W+1): for each latent state (topic z, class c of the next word), the cumulative
    probability of the token strings in sorted order. Long, so that differences of it keep tiny masses exact."""
    tok = _tokens(g)
    word, delim = tok.order // 3, tok.order % 3
    cls = g.word_class[word]
    probs = np.zeros((g.n_topics, g.n_classes, len(word)))
    probs[:, cls, np.arange(len(word))] = g.word_probs[:, word] * g.delimiter_probs()[cls, delim]
    cum = np.zeros((g.n_topics * g.n_classes, len(word) + 1), dtype=np.longdouble)
    np.cumsum(probs.reshape(g.n_topics * g.n_classes, -1), axis=1, dtype=np.longdouble, out=cum[:, 1:])
    return cum


def _range_masses(cum: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """float64 (n, L, T*C): per latent state, the probability mass of the sorted token strings [lo, hi)."""
    return (cum[:, hi] - cum[:, lo]).transpose(1, 2, 0).astype(np.float64)


@functools.lru_cache(maxsize=8)
def _token_prefix_masses(g: Grammar) -> np.ndarray:
    """float64 (3W, L, T*C): M(first j bytes of token k) per latent state, for every vocabulary token."""
    tok = _tokens(g)
    return _range_masses(_latent_cumulative(g), tok.lo, tok.hi)


def _prefix_masses(g: Grammar, occ: _Occurrences, sl: slice) -> np.ndarray:
    """(n, L, T*C) prefix masses per latent state for the occurrences occ[sl]."""
    masses = _token_prefix_masses(g)[np.maximum(occ.token[sl], 0)]
    other = occ.other[sl]
    if (other >= 0).any():  # cut or impossible token strings
        ranges = occ.other_ranges[other[other >= 0]]
        masses[other >= 0] = _range_masses(_latent_cumulative(g), ranges[:, 0], ranges[:, 1])
    return masses


def _update_belief(g: Grammar, belief: np.ndarray, doc: np.ndarray, token: np.ndarray) -> None:
    """After a complete token: Bayes on the topic, then the next class by the delimiter. In place."""
    ok = token >= 0
    doc, token = doc[ok], token[ok]
    word, delim = token // 3, token % 3
    cls = g.word_class[word]
    post = belief[doc, :, cls] * g.word_probs[:, word].T  # (n, T)
    with np.errstate(invalid="ignore", divide="ignore"):
        post /= post.sum(axis=1, keepdims=True)
    go_on = post[:, :, None] * g.transitions[cls][:, None, :]
    new_sentence = post[:, :, None] * g.start_probs
    new_paragraph = np.broadcast_to(g.start_probs / g.n_topics, go_on.shape)
    delim = delim[:, None, None]
    belief[doc] = np.select([delim == 0, delim == 1], [go_on, new_sentence], new_paragraph)
