"""Match a visitor's question against FAQ questions and their other wordings.

This is the main signal for an FAQ entry (the best FAQ retrievers rank by
query-question similarity first and use the answer as support): the words
that separate FAQ intents ("why", "how", "when", "should", "can") stay, so
only articles, prepositions and pronouns of no intent are dropped.

Each wording (question or alternate) is scored on its own with BM25, its
length normalised within the question field only, so a long answer never
dilutes the match (BM25F's per-field normalisation). The score is divided by
the most the query could score (every query term found at saturation), so it
lies in [0, 1] and means the same across queries; an entry scores its
closest wording. Measured against a TF-IDF cosine of the same terms, BM25
ranked better on both FAQ benchmarks (README, Quality).
"""
from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer

from ..text import stem, words
from .matrices import term_major
from .ranking import accumulate

# Words that never tell two FAQ intents apart. Question words, modal verbs and
# negations are deliberately absent.
FILLER_WORDS = frozenset("a an the of to and or in on at by for it its this that these those".split())
K1 = 1.2   # textbook BM25 constants, not tuned
B = 0.75


def intent_terms(text: str) -> list[str]:
    """Stems of the words of `text` that may carry intent (analyzer of the question field)."""
    return [stem(w) for w in words(text) if w not in FILLER_WORDS and len(w) < 40]


class QuestionMatcher:
    """BM25 of a query against the closest wording of each passage's question field.

    `fit(wordings, owners, n)`: wording j belongs to passage owners[j];
    `scores(terms)` gives one value in [0, 1] per passage, 0 for passages
    without a question.
    """

    def fit(self, wordings: list[str], owners: np.ndarray, n_passages: int,
            background: list[str] = ()) -> "QuestionMatcher":
        """Learn the wordings' BM25 weights; document frequency counts `background` texts too."""
        self.n_passages_ = n_passages
        self.owners_ = np.asarray(owners, dtype=np.int64)
        counter = CountVectorizer(analyzer=intent_terms, dtype=np.float64)
        try:
            counts = counter.fit_transform([*wordings, *background]).tocsr() if wordings else None
        except ValueError:  # every wording was filler words only
            counts = None
        if counts is None:
            self.owners_ = np.zeros(0, dtype=np.int64)
            self.vocabulary_, self.idf_ = {}, np.zeros(0)
            self.postings_ = term_major(np.zeros((0, 0)))
            return self
        # Document frequency over the wordings and the passages' texts: a word
        # every answer uses ("covid" in a COVID FAQ) says little about which
        # entry is meant, even when few questions use it.
        n_docs = counts.shape[0]
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        self.idf_ = np.log1p((n_docs - df + 0.5) / (df + 0.5))
        field = counts[:len(wordings)].tocsr()
        lengths = np.asarray(field.sum(axis=1)).ravel()
        rows = np.repeat(np.arange(field.shape[0]), np.diff(field.indptr))
        tf = field.data
        field.data = self.idf_[field.indices] * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths[rows] / lengths.mean()))
        self.vocabulary_ = counter.vocabulary_
        self.postings_ = term_major(field)
        return self

    def scores(self, terms: list[str]) -> np.ndarray:
        """Per passage: max over its wordings of BM25(query, wording) / the query's best possible score.

        Query words no wording uses count in that bound at the highest idf, so
        a question mostly about other things matches weakly.
        """
        result = np.zeros(self.n_passages_)
        if not len(self.owners_) or not terms:
            return result
        distinct = set(terms)
        ids = np.array(sorted(self.vocabulary_[t] for t in distinct if t in self.vocabulary_), dtype=np.int64)
        if not len(ids):
            return result
        unknown = len(distinct) - len(ids)
        bound = (float(self.idf_[ids].sum()) + unknown * float(self.idf_.max())) * (K1 + 1)
        per_wording = accumulate(self.postings_, ids, np.full(len(ids), 1.0 / bound), len(self.owners_))
        rows, starts = self._runs()
        if len(starts) == len(per_wording):  # one wording a passage: nothing to take the max of
            result[rows] = per_wording
        else:
            result[rows] = np.maximum.reduceat(per_wording, starts)
        return result

    def _runs(self) -> tuple[np.ndarray, np.ndarray]:
        """(passage rows, index of each row's first wording): wordings come grouped by passage."""
        if getattr(self, "_runs_cache", None) is None:
            starts = np.flatnonzero(np.r_[True, self.owners_[1:] != self.owners_[:-1]])
            self._runs_cache = (self.owners_[starts], starts)
        return self._runs_cache
