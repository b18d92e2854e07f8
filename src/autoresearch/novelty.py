"""Is an idea new? The earlier ideas and research-journal entries nearest to a text, by TF-IDF similarity.

`nearest` scores a text against documents (each earlier idea's title, hypothesis and mechanism; each
RESEARCH_JOURNAL.md entry, heading and text) with scikit-learn: TF-IDF over words (English stop words
dropped) and over character 3-5-grams within words, each fitted on the documents and the text
together, cosine similarity in each, averaged. Words catch the same terms; character n-grams catch
their inflections and spellings (warmup / warm-up, embeddings / embedding). Synonyms are not caught
(RoPE / rotary, bigger / larger): a repeat in other words scores lower. Word bigrams were tried and
dropped: a reworded repeat shares few of them, so they only diluted its score. `just idea` warns when
the top similarity reaches THRESHOLD. scikit-learn is imported only when there is something to
compare with. Usage:

    matches = nearest("Rotary base 50k\\nLonger range helps", [Document("idea", "rotary", "...")])
    if matches and matches[0].similarity >= THRESHOLD: ...   # Match(kind, name, similarity), best first
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

THRESHOLD = 0.28
"""Top similarity from which a new idea is reported as close to an earlier one.

Chosen on the corpus in tests/test_novelty.py: 12 ideas and 4 journal entries on the default
byte-level language-model problem, 10 reworded repeats of them and 10 different ideas in the same
vocabulary. Against the whole corpus the repeats' top similarity was 0.44 to 0.70 (each found its
original first) and the different ideas' 0.08 to 0.23. Against one document at a time (a young
project, where the IDF weights say little) the repeats scored 0.36 to 0.64 and the different ideas
0.17 at most. Both gaps contain 0.23 to 0.36; 0.28 sits a little below its middle, since a needless
warning costs the agent a read and a missed repeat costs a run. The tests hold both sides of it.
"""


@dataclass(frozen=True)
class Document:
    kind: Literal["idea", "journal"]
    name: str
    """the idea's slug or the journal entry's heading"""
    text: str


@dataclass(frozen=True)
class Match:
    kind: Literal["idea", "journal"]
    name: str
    similarity: float
    """cosine similarity, 0 (no shared terms) to 1 (the same text)"""


def nearest(text: str, documents: Sequence[Document], k: int = 3) -> list[Match]:
    """The k documents most similar to text, most similar first (ties in document order); [] when there are none."""
    if not documents:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer

    corpus = [text, *(d.text for d in documents)]
    views = []
    for vectorizer in (
        TfidfVectorizer(analyzer="word", ngram_range=(1, 1), stop_words="english", sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True),
    ):
        try:
            vectors = vectorizer.fit_transform(corpus)
        except ValueError:  # no term at all (an empty text, or stop words only): this view has nothing to say
            continue
        views.append(
            (vectors[1:] @ vectors[0].T).toarray().ravel()
        )  # rows are L2-normalised: the dot product is the cosine
    if not views:
        return []
    similarity = sum(views) / len(views)
    order = sorted(range(len(documents)), key=lambda i: -similarity[i])[:k]
    return [Match(documents[i].kind, documents[i].name, round(float(similarity[i]), 3)) for i in order]
