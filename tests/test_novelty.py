"""novelty.py: the nearest earlier ideas and journal entries to a new idea, and the threshold that flags a repeat.

CORPUS, REPEATS and DIFFERENT are the small corpus THRESHOLD was chosen on (see its docstring): earlier
ideas and journal entries on the default byte-level language-model problem, reworded repeats of some of
them, and different ideas written in the same vocabulary (the hard case: every idea here speaks of
learning rates, layers and val_bpb).
"""

from __future__ import annotations

import pytest

from autoresearch.novelty import THRESHOLD, Document, Match, nearest


def idea(slug: str, title: str, hypothesis: str, mechanism: str) -> Document:
    return Document("idea", slug, f"{title}\n{hypothesis}\n{mechanism}")


def entry(heading: str, observation: str, inference: str) -> Document:
    return Document("journal", heading, f"## {heading}\n\n**Observation:** {observation}\n\n**Inference:** {inference}")


CORPUS = [
    idea(
        "rotary-base-50k",
        "Rotary base 50k",
        "A larger rotary base lets attention resolve positions over the whole context, so long-range topics are predicted better.",
        "Raising the RoPE base from 10k to 50k slows the rotation of the low frequencies, so distant positions stay distinguishable.",
    ),
    idea(
        "longer-warmup",
        "Longer learning-rate warmup",
        "Warming the learning rate up over 10% of the steps instead of 2% avoids the early loss spikes and ends lower.",
        "The first updates of Adam are noisy while its second-moment estimates are poor; a slow warmup keeps them small.",
    ),
    idea(
        "bigram-embed",
        "Bigram byte embeddings",
        "Adding an embedding of the previous byte pair to the token embedding gives the first layer local context for free.",
        "A hashed table of byte bigrams is summed into the input, so the model need not spend attention on the previous byte.",
    ),
    idea(
        "swiglu-mlp",
        "SwiGLU feed-forward",
        "Replacing the GELU MLP with a SwiGLU gated unit of equal parameter count lowers val_bpb.",
        "The multiplicative gate lets each hidden unit switch its output on and off per token.",
    ),
    idea(
        "weight-tying",
        "Tie input and output embeddings",
        "Sharing the embedding matrix between input and the output head saves parameters that deeper layers use better.",
        "With 256 bytes the vocabulary is tiny, so tying mostly regularises the head.",
    ),
    idea(
        "muon-lr-sweep",
        "Higher Muon learning rate for matrices",
        "The matrix learning rate of Muon is too low for this model size; doubling it trains faster within the time budget.",
        "Muon orthogonalises updates, so their scale is set by the learning rate alone and tolerates larger steps.",
    ),
    idea(
        "qk-norm",
        "QK normalisation in attention",
        "Normalising queries and keys with RMSNorm before the dot product stabilises attention logits and allows a higher learning rate.",
        "Bounded logits keep the softmax from saturating early in training.",
    ),
    idea(
        "depth-vs-width",
        "Six narrow layers instead of four wide ones",
        "At fixed parameters a deeper, narrower transformer models byte sequences better.",
        "Composition across layers builds longer patterns than width does.",
    ),
    idea(
        "dropout-off",
        "Remove dropout",
        "With one epoch over fresh data there is no overfitting, so dropout only slows learning.",
        "Every batch is new data; regularisation has nothing to prevent.",
    ),
    idea(
        "cosine-to-zero",
        "Cosine schedule decaying to zero",
        "Letting the learning rate decay all the way to zero at the end of the budget lowers the final loss.",
        "The last steps at a tiny learning rate average out the gradient noise.",
    ),
    idea(
        "batch-size-half",
        "Halve the batch size",
        "Smaller batches give twice as many optimiser steps in the same token budget, which helps more than the extra noise hurts.",
        "Below the critical batch size, steps matter more than gradient accuracy.",
    ),
    idea(
        "label-smoothing",
        "Label smoothing 0.1",
        "Smoothing the byte targets calibrates the predictions and lowers validation bits per byte.",
        "Overconfident logits are penalised.",
    ),
    entry(
        "2025-01-02 03:10 UTC · rotary base 50k: within noise · [rotary-base-50k]",
        "val_bpb 1.8712 vs 1.8720 baseline over 3 seeds, paired interval -0.004..+0.002.",
        "The context of 256 bytes is too short for the rotary base to matter; positions are already distinct at 10k.",
    ),
    entry(
        "2025-01-02 05:40 UTC · bigram embeddings: -0.03 bpb · [bigram-embed]",
        "val_bpb 1.842 vs 1.872, better on all 5 seeds; step time +2%.",
        "Local byte context from a bigram table is cheap and the first layer no longer rebuilds it.",
    ),
    entry(
        "2025-01-02 07:05 UTC · warmup 10%: worse · [longer-warmup]",
        "val_bpb 1.889 vs 1.872: the long warmup wastes a tenth of a short budget.",
        "With a 5-minute budget every step counts; a short warmup was already enough to avoid spikes.",
    ),
    entry(
        "2025-01-02 09:30 UTC · GPU out of memory at batch 64",
        "The gpu profile crashed with CUDA out of memory at batch size 64 on the 24 GB card.",
        "Activation memory of the attention matrices dominates; keep batch 32 or use gradient accumulation.",
    ),
]

REPEATS = [  # (new idea: title and hypothesis, the earlier document it repeats)
    (
        "Increase the RoPE base to 50000\nWith a bigger rotary embedding base, positions far apart stay distinguishable and long-range prediction improves.",
        "rotary-base-50k",
    ),
    (
        "Warm up the learning rate for longer\nA slower warmup at the start of training avoids loss spikes from noisy early Adam updates.",
        "longer-warmup",
    ),
    (
        "Embeddings of byte bigrams\nSum an embedding of the previous two bytes into the input so the first layer sees local context.",
        "bigram-embed",
    ),
    (
        "Gated SwiGLU MLP\nSwap the GELU feed-forward block for a SwiGLU gate with the same parameter count.",
        "swiglu-mlp",
    ),
    ("Tied embeddings\nShare one matrix between the input embedding and the output head.", "weight-tying"),
    (
        "Double the Muon matrix learning rate\nMuon's learning rate for matrices is too low; a higher one trains faster in the budget.",
        "muon-lr-sweep",
    ),
    (
        "RMSNorm on queries and keys\nNormalise q and k before the attention dot product so the logits stay bounded and the learning rate can rise.",
        "qk-norm",
    ),
    ("Drop dropout\nThere is no overfitting with a single epoch over new data, so set dropout to zero.", "dropout-off"),
    (
        "Decay the learning rate to zero with a cosine\nA cosine schedule ending at zero learning rate averages out gradient noise in the final steps.",
        "cosine-to-zero",
    ),
    (
        "Bigger batch runs out of GPU memory?\nBatch size 64 crashed with CUDA out of memory on the gpu profile; use gradient accumulation.",
        "2025-01-02 09:30 UTC · GPU out of memory at batch 64",
    ),
]

DIFFERENT = [  # new ideas that share the problem's vocabulary but repeat none of the corpus
    "ALiBi attention biases\nReplace positional information with linear biases on attention scores that grow with distance.",
    "Exponential moving average of the weights\nEvaluate an EMA of the parameters, which sits in a flatter region than the last iterate.",
    "Multi-token prediction head\nPredicting the next two bytes with an extra head gives a richer training signal per step.",
    "Gradient clipping at 0.5\nClip the global gradient norm to 0.5 to stop rare large updates from undoing progress.",
    "Mixture of experts MLP\nRoute each token to one of four smaller feed-forward experts for more capacity at equal compute.",
    "Sliding-window attention\nRestrict attention to the previous 64 bytes in the lower layers to save compute for more steps.",
    "Sequence length curriculum\nStart training on 64-byte sequences and grow to 256 so early steps are cheaper.",
    "Z-loss on the output logits\nPenalise the log partition function so logits do not drift to large values.",
    "Weight decay only on matrices\nExclude norms and biases from weight decay so only the large matrices are regularised.",
    "Byte-level data augmentation by case flipping\nRandomly flip letter case in training text so the model learns case-invariant structure.",
]


def top(text: str) -> Match:
    return nearest(text, CORPUS, k=1)[0]


@pytest.mark.parametrize(("text", "repeated"), REPEATS, ids=[r[1][:20] for r in REPEATS])
def test_a_reworded_repeat_is_nearest_to_what_it_repeats_and_above_the_threshold(text: str, repeated: str) -> None:
    match = top(text)
    assert match.name == repeated
    assert match.similarity >= THRESHOLD


@pytest.mark.parametrize("text", DIFFERENT, ids=[d.split("\n")[0][:20] for d in DIFFERENT])
def test_a_different_idea_in_the_same_vocabulary_stays_below_the_threshold(text: str) -> None:
    assert top(text).similarity < THRESHOLD


def test_matches_are_ranked_most_similar_first_and_name_their_kind() -> None:
    matches = nearest("Rotary base 50k\nA larger RoPE base for long-range positions in attention.", CORPUS)
    assert len(matches) == 3
    assert [m.similarity for m in matches] == sorted((m.similarity for m in matches), reverse=True)
    assert matches[0] == Match("idea", "rotary-base-50k", matches[0].similarity)
    assert ("journal", "2025-01-02 03:10 UTC · rotary base 50k: within noise · [rotary-base-50k]") in [
        (m.kind, m.name) for m in matches
    ]


def test_the_same_text_scores_one_and_an_unrelated_one_near_zero() -> None:
    docs = [Document("idea", "same", "Label smoothing 0.1"), Document("idea", "other", "zebra quantum opera")]
    same, other = nearest("Label smoothing 0.1", docs)
    assert (same.name, other.name) == ("same", "other")
    assert same.similarity == pytest.approx(1.0) and other.similarity < 0.05


def test_nothing_to_compare_with_gives_no_matches() -> None:
    assert nearest("anything", []) == []
    assert nearest("", [Document("idea", "a", "")]) == []
    assert len(nearest("one idea", CORPUS[:2], k=3)) == 2


def test_the_threshold_holds_with_one_earlier_document_where_idf_says_little() -> None:
    originals = {d.name: d for d in CORPUS}
    for text, repeated in REPEATS:
        assert nearest(text, [originals[repeated]])[0].similarity >= THRESHOLD, repeated
    for text in DIFFERENT:
        assert max(nearest(text, [d])[0].similarity for d in CORPUS) < THRESHOLD, text
