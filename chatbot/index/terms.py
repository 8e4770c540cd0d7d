"""The terms the word index is built from: stems and stem bigrams."""
from __future__ import annotations

from itertools import pairwise

from sklearn.feature_extraction.text import CountVectorizer

from ..text import STOP_WORDS, content_stems, stem, words


def ngrams(stems: list[str]) -> list[str]:
    """Unigrams then bigrams of a stem sequence ("lower back pain" -> ..., "back pain")."""
    return stems + [f"{a} {b}" for a, b in pairwise(stems)]


def word_terms(text: str) -> list[str]:
    """Analyzer of the word index: content stems of `text` and their bigrams.

    Module-level so the vectorizer that holds it stays a plain object.
    """
    return ngrams(content_stems(text))


class RecordingAnalyzer:
    """`word_terms` that also records every word it reads, so a build tokenizes its texts once.

    The terms are exactly word_terms(text); `seen` gathers the lower-cased words.
    """

    def __init__(self):
        self.seen: set[str] = set()

    def __call__(self, text: str) -> list[str]:
        tokens = words(text)
        self.seen.update(tokens)
        return ngrams([stem(w) for w in tokens if w not in STOP_WORDS and len(w) < 40])


class CountingVectorizer(CountVectorizer):
    """CountVectorizer without its pruning pass when nothing can be pruned.

    With max_df=1.0, min_df=1 and no max_features, scikit-learn still runs
    `_limit_features`, which keeps every column yet copies the whole count
    matrix (X[:, all columns]) and stores numpy integers in the vocabulary: a
    second copy of the largest matrix of an index build, for nothing. The
    counts, vocabulary and column order are the same as CountVectorizer's.
    """

    def _limit_features(self, X, vocabulary, high=None, low=None, limit=None):
        if limit is None and (high is None or high >= X.shape[0]) and (low is None or low <= 1):
            return X
        return super()._limit_features(X, vocabulary, high, low, limit)
