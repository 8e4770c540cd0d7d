"""The passage index: field-weighted TF-IDF over stems, served from postings.

Score of passage p for query q (both TF-IDF vectors, L2-normalised per field):

    score(q, p) = sum_f w_f * cos(q, p_f) / sum_{f present in p} w_f

over the fields f = text, section (the heading above the passage) and
question (an FAQ entry's question and alternates). Each cosine lies in [0, 1],
so the score does too, and because missing fields drop out of the
denominator a passage without a heading is not penalised. The sum is linear
in q, so it is folded into one term-major matrix at fit time and a query reads
only the rows of its own terms.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.preprocessing import normalize

from ..passages.model import Passage
from ..text import STOP_WORDS, content_stems, stem, words
from .ranking import accumulate, top_k
from .spelling import SpellingMatcher
from .synonyms import SynonymExpander
from .terms import ngrams, word_terms

FIELDS = ("text", "section", "question")


@dataclass(frozen=True)
class Hit:
    """One ranked passage; `score` is in [0, 1] and comparable across queries."""
    passage: Passage
    score: float


class PassageIndex(BaseEstimator):
    """Fit on passages, then `search(query, k)`.

    Parameters are stored unchanged; all learned state ends in `_`.
    """

    def __init__(self, *, text_weight: float = 1.0, section_weight: float = 0.35,
                 question_weight: float = 1.0, sublinear_tf: bool = True,
                 synonyms: tuple = ()):
        self.text_weight = text_weight
        self.section_weight = section_weight
        self.question_weight = question_weight
        self.sublinear_tf = sublinear_tf
        self.synonyms = synonyms

    # -- building -----------------------------------------------------------
    def fit(self, passages: list[Passage]) -> "PassageIndex":
        """Learn vocabulary, idf and postings from `passages`; returns self."""
        if not passages:
            raise ValueError("cannot build an index from zero passages")
        n = len(passages)
        fields = {
            "text": [p.text for p in passages],
            "section": [p.section or "" for p in passages],
            "question": [" ".join((p.question or "", *p.alternates)) for p in passages],
        }
        counter = CountVectorizer(analyzer=word_terms, dtype=np.float32)
        counts = counter.fit_transform(fields["text"] + fields["section"] + fields["question"]).tocsr()
        per_field = {f: counts[i * n:(i + 1) * n] for i, f in enumerate(FIELDS)}
        # idf counts a passage once, whichever of its fields holds the term.
        transformer = TfidfTransformer(sublinear_tf=self.sublinear_tf, norm=None)
        transformer.fit(per_field["text"] + per_field["section"] + per_field["question"])
        weights = {"text": self.text_weight, "section": self.section_weight,
                   "question": self.question_weight}
        vectors = {f: normalize(transformer.transform(m)) for f, m in per_field.items()}
        present = sum(weights[f] * (np.diff(vectors[f].indptr) > 0) for f in FIELDS)
        present = np.where(present > 0, present, 1.0)
        combined = sum(sparse.diags(weights[f] / present) @ vectors[f] for f in FIELDS)
        self.passages_ = list(passages)
        self.vocabulary_ = counter.vocabulary_
        self.idf_ = transformer.idf_.astype(np.float32)
        self.postings_ = sparse.csr_matrix(combined.T, dtype=np.float32)
        self.postings_.sort_indices()
        self.spelling_ = SpellingMatcher().fit(
            self._known_words(fields["text"] + fields["section"] + fields["question"]))
        self._prepare()
        return self

    def _known_words(self, texts: list[str]) -> list[str]:
        """Distinct surface words whose stem is an indexed unigram."""
        seen = set()
        for text in texts:
            seen.update(w for w in words(text) if w.isalpha() and w not in STOP_WORDS)
        return sorted(w for w in seen if stem(w) in self.vocabulary_)

    def _prepare(self) -> None:
        """Derived, unsaved state: synonym rules and the idf given to unknown words."""
        self._expander = SynonymExpander(tuple(tuple(r) for r in self.synonyms))
        self._unknown_idf = float(self.idf_.max()) if len(self.idf_) else 1.0

    # -- querying -----------------------------------------------------------
    def query_terms(self, query: str) -> tuple[np.ndarray, np.ndarray, float]:
        """(term ids, weights, norm) of the query vector, synonyms and typos applied.

        Words the index has never seen still count in the norm, as if rare,
        so that a question mostly about other things scores low.
        """
        stems = content_stems(query)
        weights: dict[int, float] = {}
        unknown = 0.0
        for variant in [stems, *self._expander.variants(stems)]:
            for term in ngrams(variant):
                tid = self.vocabulary_.get(term)
                if tid is not None:
                    weights[tid] = max(weights.get(tid, 0.0), float(self.idf_[tid]))
        for word in {w for w in words(query) if w not in STOP_WORDS}:
            if stem(word) in self.vocabulary_:
                continue
            matches = self.spelling_.match(word) if word.isalpha() and len(word) >= 4 else []
            for known, similarity in matches:
                tid = self.vocabulary_[stem(known)]
                weights[tid] = max(weights.get(tid, 0.0), similarity * float(self.idf_[tid]))
            if not matches:
                unknown += self._unknown_idf ** 2
        ids = np.fromiter(weights, dtype=np.int64, count=len(weights))
        values = np.fromiter(weights.values(), dtype=np.float64, count=len(weights))
        norm = float(np.sqrt(np.sum(values ** 2) + unknown))
        return ids, values, norm

    def scores(self, query: str) -> np.ndarray:
        """Score of every passage for `query` (dense, length = number of passages)."""
        self._check_fitted()
        ids, values, norm = self.query_terms(query)
        if len(ids) == 0:
            return np.zeros(len(self.passages_))
        return accumulate(self.postings_, ids, values / norm, len(self.passages_))

    def search(self, query: str, k: int = 3) -> list[Hit]:
        """The `k` best passages for `query`, best first; empty when nothing matches."""
        scores = self.scores(query)
        return [Hit(self.passages_[i], round(min(float(scores[i]), 1.0), 6))
                for i in top_k(scores, k)]

    def _check_fitted(self) -> None:
        if not hasattr(self, "postings_"):
            raise NotFittedError("PassageIndex is not fitted: call fit(passages) or load an index first")

    @property
    def vocabulary_size(self) -> int:
        return len(self.vocabulary_)
