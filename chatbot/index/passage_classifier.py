"""Which passage a question asks for, learned from the questions written or taught for each passage.

Staff write, under each passage, questions it answers (`questions.txt`) and
teach more from the inbox; the index already matches a visitor's question
against them one wording at a time (BM25, `question_match`). This model pools
them instead: a multinomial logistic regression with one class per passage
that has wordings, over word 1-2 grams and character 3-5 grams
(chatbot/ngrams.py, the features of the other learned checks). It learns
which words and spellings tell the passages apart ("sting", "ouch" and "hurt"
all point at the passage on what needles feel like once any of them is
written there), so a question worded like none of the wordings still lands
near the passage whose wordings share most of it; the word association the
translation-model approach to FAQ retrieval (Xue, Jeon and Croft, 2008)
learns from question-answer pairs, here learned from the clinic's own pairs.

PassageIndex.search adds WEIGHT times the model's probability to the score of
each passage in its candidate pool, then ranks. C and WEIGHT were chosen
leaving one suite out at a time (README, "Quality"). Kept as plain arrays in
the index version (memory-mapped like the rest): the terms as a TermTable
("w " + word n-gram, "c " + character n-gram), their idf, the weight matrix
(term x class), the intercepts and each class's passage row.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..ngrams import char_words, fit_tfidf_logistic, known_char_ids, per_class, tfidf_dot, word_ngrams
from .tables import TermTable

C = 1.0
WEIGHT = 3.0
CANDIDATES = 20       # passages of a search's pool that the model may lift
MAX_CLASSES = 2_000   # more passages with wordings than this: no model (the fit grows with classes x terms)
# Fewer wordings than this per passage on average: too little to learn from (an FAQ file whose
# entries have one alternate each); the FAQ fields' own BM25 match them.
MIN_WORDINGS_PER_CLASS = 2
_KINDS = ("w ", "c ")


@dataclass
class PassageClassifier:
    """P(passage | question) over the passages that have wordings (`rows`), as plain arrays."""
    terms: TermTable
    idf: np.ndarray          # float32, one per term
    weights: np.ndarray      # float32, terms x classes
    intercepts: np.ndarray   # float64, one per class
    rows: np.ndarray         # int64, the passage row of each class
    _known: dict = field(default_factory=dict, compare=False, repr=False)

    def probabilities(self, question: str) -> np.ndarray:
        """The probability of each class (in `rows` order) that `question` asks for its passage."""
        z = np.array(self.intercepts, dtype=np.float64)
        word_ids = [row for row in map(self.terms.get, (_KINDS[0] + t for t in word_ngrams(question)))
                    if row is not None]
        char_ids = [row for word in char_words(question) for row in self._char_ids(word)]
        for ids in (word_ids, char_ids):   # each kind l2-normalised on its own, as by scikit-learn
            if ids:
                z += tfidf_dot(ids, self.idf, self.weights)
        z -= z.max()
        exps = np.exp(z)
        return exps / exps.sum()

    def _char_ids(self, word: str) -> tuple[int, ...]:
        return known_char_ids(word, self.terms.get, self._known, prefix=_KINDS[1])

    def arrays(self) -> dict[str, np.ndarray]:
        return {**{f"terms.{name}": array for name, array in self.terms.arrays().items()}, "idf": self.idf,
                "weights": self.weights, "intercepts": self.intercepts, "rows": self.rows}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "PassageClassifier":
        """The model of `arrays()`; ValueError when the arrays disagree on their sizes."""
        terms = TermTable(*(arrays[f"terms.{name}"] for name in ("blob", "offsets", "hashes", "ids")))
        model = cls(terms, arrays["idf"], arrays["weights"], arrays["intercepts"], arrays["rows"])
        if (model.weights.ndim != 2 or model.weights.shape != (len(terms), len(model.rows))
                or len(model.idf) != len(terms) or len(model.intercepts) != len(model.rows)):
            raise ValueError("passage classifier arrays disagree on their sizes")
        return model


ARRAY_NAMES = (*(f"terms.{name}" for name in ("blob", "offsets", "hashes", "ids")), "idf", "weights",
               "intercepts", "rows")


def fit_passage_classifier(wordings: Sequence[tuple[int, str]]) -> PassageClassifier | None:
    """The model of (passage row, wording) pairs; None with fewer than two passages or more
    than MAX_CLASSES (nothing to tell apart, or too many to fit at build time), with fewer than
    MIN_WORDINGS_PER_CLASS wordings a passage on average, or wordings without an n-gram to
    learn from."""
    classes = sorted({row for row, _ in wordings})
    if not 2 <= len(classes) <= MAX_CLASSES or len(wordings) < MIN_WORDINGS_PER_CLASS * len(classes):
        return None
    texts, labels = [text for _, text in wordings], [row for row, _ in wordings]
    fitted = fit_tfidf_logistic(texts, labels, C, balanced=False)
    if fitted is None:
        return None
    vectorizers, regression = fitted
    coefficients, intercepts = per_class(regression)
    terms, idf, columns = [], [], []
    offset = 0
    for prefix, vectorizer in zip(_KINDS, vectorizers, strict=True):
        for term, column in vectorizer.vocabulary_.items():
            terms.append(prefix + term)
            idf.append(vectorizer.idf_[column])
            columns.append(offset + column)
        offset += len(vectorizer.vocabulary_)
    weights = np.ascontiguousarray(coefficients[:, columns].T, dtype=np.float32)
    return PassageClassifier(TermTable.of(terms), np.array(idf, dtype=np.float32), weights,
                             np.asarray(intercepts, dtype=np.float64),
                             np.asarray(regression.classes_, dtype=np.int64))
