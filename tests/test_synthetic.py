"""The synthetic language: determinism, valid text, an exact Bayes floor, and a floor well below n-grams."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
from ngram import ngram_bits

from autoresearch.data import synthetic as syn


@pytest.fixture(scope="module")
def grammar() -> syn.Grammar:
    return syn.build_grammar(0)


@pytest.fixture(scope="module")
def train(grammar: syn.Grammar) -> np.ndarray:
    return syn.generate_stream(grammar, 2_000_000, seed=1)


@pytest.fixture(scope="module")
def val(grammar: syn.Grammar) -> np.ndarray:
    return syn.generate_docs(grammar, 64, 512, seed=2)


@pytest.fixture(scope="module")
def tiny() -> syn.Grammar:
    """Two classes, two topics, six words, some of them prefixes of others ("ta" < "tan" < "tano")."""
    base = syn.build_grammar(3, n_classes=2, n_topics=2, words_per_class=(3, 3))
    words = [b"ta", b"tan", b"tano", b"no", b"not", b"a"]
    return dataclasses.replace(
        base,
        word_bytes=np.frombuffer(b"".join(words), dtype=np.uint8).copy(),
        word_offsets=np.concatenate([[0], np.cumsum([len(w) for w in words])]),
    )


def tokens_of(data: bytes) -> tuple[list[bytes], bytes]:
    """Complete token strings (each ends at a space or newline) and the cut remainder."""
    parts = data.replace(b"\n", b"\n\0").replace(b" ", b" \0").split(b"\0")
    return parts[:-1], parts[-1]


def fields_equal(a: syn.Grammar, b: syn.Grammar) -> bool:
    return all(np.array_equal(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(syn.Grammar))


# ----------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_grammar_stream_and_docs(grammar: syn.Grammar) -> None:
    again = syn.build_grammar(0)
    assert fields_equal(grammar, again)
    assert np.array_equal(syn.generate_stream(grammar, 50_000, seed=5), syn.generate_stream(again, 50_000, seed=5))
    assert np.array_equal(syn.generate_docs(grammar, 8, 300, seed=5), syn.generate_docs(again, 8, 300, seed=5))


def test_different_seed_gives_different_grammar_stream_and_docs(grammar: syn.Grammar) -> None:
    assert not fields_equal(grammar, syn.build_grammar(1))
    stream = syn.generate_stream(grammar, 50_000, seed=5)
    assert not np.array_equal(stream, syn.generate_stream(grammar, 50_000, seed=6))
    assert not np.array_equal(syn.generate_docs(grammar, 8, 300, seed=5), syn.generate_docs(grammar, 8, 300, seed=6))


def test_outputs_have_the_requested_shape_and_dtype(grammar: syn.Grammar) -> None:
    for n in (0, 1, 12_345):
        stream = syn.generate_stream(grammar, n, seed=0)
        assert stream.shape == (n,) and stream.dtype == np.uint8
    docs = syn.generate_docs(grammar, 5, 77, seed=0)
    assert docs.shape == (5, 77) and docs.dtype == np.uint8


# ----------------------------------------------------------------------------- the grammar


def test_vocabulary_is_distinct_lowercase_words_of_2_to_10_letters(grammar: syn.Grammar) -> None:
    words = grammar.words
    assert len(set(words)) == len(words) == grammar.n_words
    assert 300 <= len(words) <= 1000
    assert all(2 <= len(w) <= 10 and w.isascii() and w.isalpha() and w.islower() for w in words)


def test_each_class_spells_its_words_with_one_or_two_characteristic_suffixes(grammar: syn.Grammar) -> None:
    def two_suffixes_cover(words: tuple[str, ...]) -> bool:
        candidates = {w[-2:] for w in words} | {w[-1:] for w in words}
        pairs = itertools.combinations_with_replacement(sorted(candidates), 2)
        return any(all(w.endswith((a, b)) for w in words) for a, b in pairs)

    for c in range(grammar.n_classes):
        assert two_suffixes_cover(grammar.words[grammar.class_start[c] : grammar.class_start[c + 1]])


def test_word_distributions_are_normalised_per_class_and_topic(grammar: syn.Grammar) -> None:
    for c in range(grammar.n_classes):
        block = grammar.word_probs[:, grammar.class_start[c] : grammar.class_start[c + 1]]
        np.testing.assert_allclose(block.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(grammar.transitions.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(grammar.start_probs.sum(), 1.0, atol=1e-12)


def test_topic_strongly_shifts_word_choice(grammar: syn.Grammar) -> None:
    p = grammar.word_probs
    total_variation = 0.5 * np.abs(p[:, None, :] - p[None, :, :]).sum(axis=2) / grammar.n_classes
    off_diagonal = total_variation[~np.eye(grammar.n_topics, dtype=bool)]
    assert off_diagonal.mean() > 0.3


@pytest.mark.parametrize("seed", range(5))
def test_sentences_average_six_to_twelve_words_and_some_classes_never_end_one(seed: int) -> None:
    g = syn.build_grammar(seed)
    assert 6 <= g.mean_sentence_words() <= 12
    assert (g.end_probs == 0).any() and (g.end_probs > 0).any()
    assert ((g.transitions > 0).sum(axis=1) <= 4).all()  # sparse: a few successors per class


def test_stream_paragraphs_and_sentences_have_the_analytic_mean_length(grammar: syn.Grammar, train: np.ndarray) -> None:
    tokens, _ = tokens_of(train.tobytes())
    n_sentences = sum(t.endswith((b".\n", b". ")) for t in tokens)
    n_paragraphs = sum(t.endswith(b".\n") for t in tokens)
    assert len(tokens) / n_sentences == pytest.approx(grammar.mean_sentence_words(), rel=0.03)
    assert n_sentences / n_paragraphs == pytest.approx(1 / grammar.paragraph_end_prob, rel=0.04)


# ----------------------------------------------------------------------------- valid text


def assert_decodes(grammar: syn.Grammar, data: bytes) -> None:
    """Every complete token is a vocabulary word plus a delimiter; the cut tail starts a token string."""
    vocabulary = set(grammar.words)
    strings = [w.encode() + d for w in grammar.words for d in syn.DELIMITERS]
    tokens, tail = tokens_of(data)
    for t in tokens:
        word = t.rstrip(b" \n").rstrip(b".")
        assert word.decode() in vocabulary and t[len(word) :] in syn.DELIMITERS, t
    assert any(s.startswith(tail) for s in strings)


def test_docs_decode_into_vocabulary_tokens_and_start_at_a_paragraph_start(
    grammar: syn.Grammar, val: np.ndarray
) -> None:
    for doc in val:
        assert_decodes(grammar, doc.tobytes())
    starts = syn.generate_docs(grammar, 4000, 16, seed=9)  # a token has at most 12 bytes
    first_words = [tokens_of(d.tobytes())[0][0].rstrip(b" .\n").decode() for d in starts]
    index = {w: i for i, w in enumerate(grammar.words)}
    classes = np.bincount([grammar.word_class[index[w]] for w in first_words], minlength=grammar.n_classes)
    expected = 4000 * grammar.start_probs
    chi2 = ((classes - expected) ** 2 / expected).sum()
    assert chi2 < 40  # 7 degrees of freedom: p ~ 1e-6


def test_stream_decodes_into_vocabulary_tokens_and_scores_finite(grammar: syn.Grammar, train: np.ndarray) -> None:
    assert_decodes(grammar, train[:200_000].tobytes())
    assert np.isfinite(syn.bayes_bits(grammar, train[None, :20_000])).all()


# ----------------------------------------------------------------------------- exact floor


def next_byte_distribution(grammar: syn.Grammar, doc: np.ndarray, t: int) -> np.ndarray:
    """p(byte | doc[:t]) for all 256 bytes, by scoring 256 copies of doc[:t + 1] with the last byte replaced."""
    variants = np.repeat(doc[None, : t + 1], 256, axis=0)
    variants[:, t] = np.arange(256)
    return 2.0 ** -syn.bayes_bits(grammar, variants)[:, t]


def test_bayes_next_byte_distribution_sums_to_one(grammar: syn.Grammar, val: np.ndarray) -> None:
    doc = val[3]
    after_delimiter = int(np.flatnonzero(doc == ord(" "))[2]) + 1
    for t in (0, 1, 2, after_delimiter, 97, 300, 511):
        probs = next_byte_distribution(grammar, doc, t)
        assert abs(probs.sum() - 1.0) < 1e-9, t
        assert probs[doc[t]] == pytest.approx(2.0 ** -syn.bayes_bits(grammar, doc[None])[0, t], rel=1e-12)
        assert probs[[b for b in range(256) if not (97 <= b <= 122 or b in b" .\n")]].sum() == 0


def test_bayes_next_byte_distribution_sums_to_one_when_words_prefix_other_words(tiny: syn.Grammar) -> None:
    doc = syn.generate_docs(tiny, 1, 64, seed=4)[0]
    for t in range(64):
        assert abs(next_byte_distribution(tiny, doc, t).sum() - 1.0) < 1e-9, t


def brute_force_bits(grammar: syn.Grammar, doc: bytes) -> np.ndarray:
    """-log2 P(doc[:t+1]) / P(doc[:t]), where P(prefix) sums over every topic path (one topic per paragraph)
    and every word + delimiter that completes the cut last token."""
    words = [w.encode() for w in grammar.words]
    delimiter_probs = grammar.delimiter_probs()
    spelled = {w + d: (i, k) for i, w in enumerate(words) for k, d in enumerate(syn.DELIMITERS)}

    def class_prob(previous: int | None, c: int) -> float:
        return grammar.start_probs[c] if previous is None else grammar.transitions[previous, c]

    def token_prob(previous: int | None, topic: int, word: int, delim: int) -> float:
        c = grammar.word_class[word]
        return class_prob(previous, c) * grammar.word_probs[topic, word] * delimiter_probs[c, delim]

    def prefix_prob(prefix: bytes) -> float:
        tokens, tail = tokens_of(prefix)
        if any(t not in spelled for t in tokens):
            return 0.0
        parsed = [spelled[t] for t in tokens]
        n_paragraphs = 1 + sum(d == 2 for _, d in parsed)
        total = 0.0
        for path in itertools.product(range(grammar.n_topics), repeat=n_paragraphs):
            p, paragraph, previous = grammar.n_topics**-n_paragraphs, 0, None
            for word, delim in parsed:
                p *= token_prob(previous, path[paragraph], word, delim)
                previous = grammar.word_class[word] if delim == 0 else None
                paragraph += delim == 2
            completions = [spelled[s] for s in spelled if s.startswith(tail)]
            total += p * sum(token_prob(previous, path[paragraph], w, d) for w, d in completions)
        return total

    probs = [prefix_prob(doc[:t]) for t in range(len(doc) + 1)]
    return np.array([math.log2(probs[t]) - math.log2(probs[t + 1]) for t in range(len(doc))])


def test_bayes_bits_equal_brute_force_enumeration_of_latent_paths(tiny: syn.Grammar) -> None:
    docs = syn.generate_docs(tiny, 4, 64, seed=0)
    assert docs.tobytes().count(b".\n") >= 2  # the topic paths cross paragraph ends
    for doc in docs:
        expected = brute_force_bits(tiny, doc.tobytes())
        np.testing.assert_allclose(syn.bayes_bits(tiny, doc[None])[0], expected, rtol=1e-9, atol=1e-12)


def test_bayes_bits_equal_brute_force_on_a_generated_grammar() -> None:
    g = syn.build_grammar(7, n_classes=2, n_topics=2, words_per_class=(4, 5))
    doc = syn.generate_docs(g, 1, 40, seed=1)[0]
    expected = brute_force_bits(g, doc.tobytes())
    np.testing.assert_allclose(syn.bayes_bits(g, doc[None])[0], expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("chatty", [False, True], ids=["tiny", "tiny-short-paragraphs"])
def test_generated_docs_follow_the_distribution_that_bayes_bits_scores(tiny: syn.Grammar, chatty: bool) -> None:
    """Chi-square of the empirical frequencies of whole 10-byte documents against 2^-(sum of bayes bits).
    Short sentences and paragraphs put topic changes inside the documents."""
    g = dataclasses.replace(tiny, paragraph_end_prob=0.5, end_probs=np.array([0.6, 0.4])) if chatty else tiny
    n = 100_000
    docs, counts = np.unique(syn.generate_docs(g, n, 10, seed=11), axis=0, return_counts=True)
    expected = n * 2.0 ** -syn.bayes_bits(g, docs).sum(axis=1)
    big = expected >= 5
    observed = np.append(counts[big], n - counts[big].sum())
    expected = np.append(expected[big], n - expected[big].sum())
    dof = len(observed) - 1
    chi2 = ((observed - expected) ** 2 / expected).sum()
    assert dof > 100
    assert chi2 < dof + 5 * math.sqrt(2 * dof)


def test_bayes_bits_of_a_cut_document_equal_the_prefix_of_the_whole_one(grammar: syn.Grammar, val: np.ndarray) -> None:
    whole = syn.bayes_bits(grammar, val[:4])
    for cut in (1, 5, 100, 333):
        np.testing.assert_array_equal(syn.bayes_bits(grammar, val[:4, :cut]), whole[:, :cut])


def test_an_impossible_byte_and_everything_after_it_get_infinite_bits(grammar: syn.Grammar, val: np.ndarray) -> None:
    doc = val[0].copy()
    doc[50] = ord("Q")
    bits = syn.bayes_bits(grammar, doc[None])[0]
    assert np.isfinite(bits[:50]).all() and np.isinf(bits[50:]).all()


# ----------------------------------------------------------------------------- baselines


def test_ngram_bits_use_add_one_smoothing_over_256_bytes() -> None:
    train = np.frombuffer(b"abab", dtype=np.uint8)
    docs = np.frombuffer(b"abz", dtype=np.uint8)[None]
    np.testing.assert_allclose(ngram_bits(train, docs, 0)[0], -np.log2([3 / 260, 3 / 260, 1 / 260]))
    np.testing.assert_allclose(ngram_bits(train, docs, 1)[0], -np.log2([3 / 260, 3 / 258, 1 / 257]))


def test_floor_is_far_below_the_bigram_which_is_below_the_unigram(
    grammar: syn.Grammar, train: np.ndarray, val: np.ndarray
) -> None:
    unigram = ngram_bits(train, val, 0).mean()
    bigram = ngram_bits(train, val, 1).mean()
    floor = syn.bayes_bits(grammar, val).mean()
    assert unigram > bigram + 0.5
    assert bigram > floor + 1.0
    assert 0.7 < floor < 2.0
