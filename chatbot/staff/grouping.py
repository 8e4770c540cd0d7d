"""Group visitors' questions by meaning, for the inbox of questions to review.

Each question becomes a TF-IDF vector over the index's own tokens (Snowball
stems of content words, as chatbot/text.py makes them, and their bigrams)
joined with character n-grams of its words, which keep typos and word forms
close; questions are then merged by agglomerative clustering (average
linkage over cosine distances) until the closest two groups are further
apart than `distance_threshold`.

The default threshold was chosen by cross-validation over the entries of
CovidFAQ's labelled queries: `python -m chatbot.evaluation.grouping --data ../shared/data`
prints the adjusted Rand index and purity of every threshold tried on
left-out folds (README, "Grouping questions").
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse import hstack
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_distances
from sklearn.preprocessing import normalize

from ..text import content_stems, normalize_text

DEFAULT_DISTANCE_THRESHOLD = 0.85  # chosen by chatbot/evaluation/grouping.py (3 of 5 folds; README)
CHAR_WEIGHT = 0.9   # share of the character n-grams in a question vector (the rest: stems); tuned likewise
MAX_QUESTIONS = 3000  # clustering holds a square matrix of distances: the caller keeps the newest


def stem_terms(text: str) -> list[str]:
    """Content stems of `text` and their adjacent pairs."""
    stems = content_stems(text)
    return stems + [f"{a} {b}" for a, b in zip(stems, stems[1:], strict=False)]


def question_vectors(texts: Sequence[str], char_weight: float = CHAR_WEIGHT):
    """One L2-normalised row per text: stem TF-IDF and character n-gram TF-IDF, weighted.

    A text with no word at all gets a zero row (it is then far from every other).
    """
    stems = TfidfVectorizer(analyzer=stem_terms, sublinear_tf=True)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
                            preprocessor=lambda t: normalize_text(t).lower())
    parts = []
    for vectorizer, weight in ((stems, 1.0 - char_weight), (chars, char_weight)):
        try:
            parts.append(vectorizer.fit_transform(texts) * np.sqrt(weight))
        except ValueError:  # an empty vocabulary: no text has such a term
            continue
    if not parts:
        return None
    return normalize(hstack(parts).tocsr())


def group_questions(texts: Sequence[str], distance_threshold: float = DEFAULT_DISTANCE_THRESHOLD,
                    char_weight: float = CHAR_WEIGHT) -> list[list[int]]:
    """Groups of positions in `texts` that ask the same thing.

    Every position is in exactly one group. Deterministic: the same texts in
    the same order give the same groups, largest first (ties: the group
    holding the earliest position first), positions ascending within a group.
    ValueError for more than MAX_QUESTIONS texts or a threshold outside (0, 2].
    """
    if not 0 < distance_threshold <= 2:
        raise ValueError(f"distance_threshold must be in (0, 2], not {distance_threshold!r}")
    texts = [t if isinstance(t, str) else "" for t in texts]
    if len(texts) > MAX_QUESTIONS:
        raise ValueError(f"at most {MAX_QUESTIONS} questions can be grouped at once, not {len(texts)}")
    if len(texts) < 2:
        return [[0]] if texts else []
    vectors = question_vectors(texts, char_weight)
    if vectors is None:
        return [[i] for i in range(len(texts))]
    distances = np.clip(cosine_distances(vectors), 0.0, 2.0)
    empty = np.asarray(vectors.getnnz(axis=1) == 0)
    distances[empty, :] = distances[:, empty] = 2.0  # a text with no words matches nothing
    np.fill_diagonal(distances, 0.0)
    labels = AgglomerativeClustering(n_clusters=None, metric="precomputed", linkage="average",
                                     distance_threshold=distance_threshold).fit_predict(distances)
    groups: dict[int, list[int]] = {}
    for position, label in enumerate(labels):
        groups.setdefault(int(label), []).append(position)
    return sorted(groups.values(), key=lambda group: (-len(group), group[0]))
