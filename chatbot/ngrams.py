"""Word and character n-grams of a message, and linear models over their TF-IDF, as plain data.

The learned checks (self-harm in answer/urgent/learned.py, smalltalk in
answer/smalltalk_model.py, questions like those no passage answers in
index/unanswered_model.py) are logistic regressions fitted with scikit-learn over
`TfidfVectorizer` features: word 1-2 grams and character 3-5 grams inside
words, sublinear tf, each kind l2-normalised on its own. They are kept as
plain data (per term an idf and one weight per output) and scored here with
dictionaries, so a message costs tens of microseconds and no fitted
scikit-learn object is ever unpickled. The terms are scikit-learn's
(tests/test_urgent_learned.py checks them against its analyzers).
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (3, 5)
# scikit-learn's defaults: tokens of two or more word characters; runs of white space are one.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_WHITE_SPACES = re.compile(r"\s\s+")
WORD_CACHE_SIZE = 20_000

# term -> (idf, weight of output 0, weight of output 1, ...)
TermWeights = Mapping[str, Sequence[float]]


def token_count(text: str) -> int:
    """Words of `text` as the word n-grams count them."""
    return len(_TOKEN.findall(text))


def char_words(text: str) -> list[str]:
    """The lower-cased words that character n-grams are made inside."""
    return _WHITE_SPACES.sub(" ", text.lower()).split()


def word_ngrams(text: str) -> list[str]:
    """TfidfVectorizer(ngram_range=WORD_NGRAMS)'s terms of `text`."""
    tokens = _TOKEN.findall(text.lower())
    terms = list(tokens) if WORD_NGRAMS[0] == 1 else []
    for n in range(max(2, WORD_NGRAMS[0]), WORD_NGRAMS[1] + 1):
        terms += [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    return terms


def char_ngrams(text: str) -> list[str]:
    """TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS)'s terms: n-grams inside
    each space-padded word."""
    return [term for word in char_words(text) for term in word_char_ngrams(word)]


def word_char_ngrams(word: str) -> list[str]:
    """One word's character n-grams; a padded word no longer than n is itself, once, and ends the word."""
    padded, terms = f" {word} ", []
    for n in range(CHAR_NGRAMS[0], CHAR_NGRAMS[1] + 1):
        terms += [padded[i:i + n] for i in range(max(1, len(padded) - n + 1))]
        if len(padded) <= n:
            break
    return terms


class LinearNgramScorer:
    """The linear part (before the sigmoid or softmax) of a model over word and character n-grams.

    `words` and `chars` map a term to (idf, one weight per output); `intercepts` has one
    value per output. Terms the model does not know are ignored, as by a fitted vectorizer.
    The tables are turned into arrays once, so a text costs a few numpy calls.
    """

    def __init__(self, words: TermWeights, chars: TermWeights, intercepts: Sequence[float]):
        self.words, self.chars, self.intercepts = words, chars, tuple(intercepts)
        self._kinds = [_TermArrays(table, len(self.intercepts)) for table in (words, chars)]
        self._known_chars: dict[str, tuple[int, ...]] = {}

    def scores(self, text: str) -> list[float]:
        """Intercept plus the dot products with the l2-normalised TF-IDF of each kind, per output."""
        words, chars = self._kinds
        word_ids = [i for i in map(words.ids.get, word_ngrams(text)) if i is not None]
        char_ids = [i for word in char_words(text) for i in self._known_char_ids(word)]
        total = np.array(self.intercepts, dtype=np.float64)
        for kind, ids in ((words, word_ids), (chars, char_ids)):
            if ids:
                total += kind.weighted(ids)
        return total.tolist()

    def _known_char_ids(self, word: str) -> tuple[int, ...]:
        return known_char_ids(word, self._kinds[1].ids.get, self._known_chars)


def known_char_ids(word: str, lookup, remembered: dict[str, tuple[int, ...]], prefix: str = "") -> tuple[int, ...]:
    """The ids (`lookup(prefix + n-gram)`, None when unknown) of the word's character n-grams that
    a model knows, kept in `remembered` (at most WORD_CACHE_SIZE words): most words of a chat are
    common ones, and making and looking up their n-grams was most of a text's cost."""
    known = remembered.get(word)
    if known is None:
        known = tuple(i for i in map(lookup, (prefix + gram for gram in word_char_ngrams(word))) if i is not None)
        if len(remembered) >= WORD_CACHE_SIZE:
            remembered.clear()
        remembered[word] = known
    return known


class _TermArrays:
    """One kind of terms of a table as arrays: {term: id}, idf per id, weights per id and output."""

    def __init__(self, table: TermWeights, outputs: int):
        self.ids = {term: i for i, term in enumerate(table)}
        entries = np.array(list(table.values()), dtype=np.float64).reshape(len(self.ids), outputs + 1)
        self.idf, self.weights = entries[:, 0].copy(), np.ascontiguousarray(entries[:, 1:])

    def weighted(self, ids: list[int]) -> np.ndarray:
        return tfidf_dot(ids, self.idf, self.weights)


def tfidf_dot(ids: list[int], idf: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per column of `weights` (one row per term id), the dot product with the l2-normalised
    sublinear tf-idf vector of the terms `ids` (a term as often as it occurs; not empty)."""
    unique, counts = np.unique(np.array(ids, dtype=np.int64), return_counts=True)
    values = (1.0 + np.log(counts)) * idf[unique]
    return (values @ weights[unique]) / math.sqrt(float(values @ values))


def sigmoid(score: float) -> float:
    return 1.0 / (1.0 + math.exp(-score)) if score > -700 else 0.0


def softmax(scores: Sequence[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def fit_tfidf_logistic(texts: list[str], labels: list, c: float, min_df: int = 1, balanced: bool = True):
    """(the word and the character TfidfVectorizer, the LogisticRegression over their columns side by
    side), fitted on `texts`; what the plain-data models here are made from. None when the texts
    give no word or no character n-gram to learn from (every word a single letter, say)."""
    from scipy.sparse import hstack  # only fitting needs scikit-learn's objects; scoring reads plain data
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    vectorizers = [TfidfVectorizer(ngram_range=WORD_NGRAMS, sublinear_tf=True, min_df=min_df),
                   TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, sublinear_tf=True, min_df=min_df)]
    try:
        matrix = hstack([v.fit_transform(texts) for v in vectorizers]).tocsr()
    except ValueError:   # scikit-learn's "empty vocabulary"
        return None
    regression = LogisticRegression(C=c, class_weight="balanced" if balanced else None, max_iter=3000)
    return vectorizers, regression.fit(matrix, labels)


def plain_tables(vectorizers, coefficient_rows, digits: int) -> list[dict[str, tuple[float, ...]]]:
    """Per vectorizer, {term: (idf, the term's weight in each row of `coefficient_rows`)},
    rounded to `digits` significant digits."""
    tables, offset = [], 0
    for vectorizer in vectorizers:
        tables.append({term: (rounded(vectorizer.idf_[column], digits),
                              *(rounded(row[offset + column], digits) for row in coefficient_rows))
                       for term, column in vectorizer.vocabulary_.items()})
        offset += len(vectorizer.vocabulary_)
    return tables


def per_class(regression) -> tuple[np.ndarray, np.ndarray]:
    """(coefficients, intercepts) of a fitted LogisticRegression with one row per class: for two
    classes scikit-learn keeps one row (the second's against the first), split here into two halves
    of opposite sign, whose softmax is the same sigmoid."""
    coefficients, intercepts = np.asarray(regression.coef_), np.asarray(regression.intercept_)
    if len(regression.classes_) == 2:
        return np.vstack([-coefficients[0] / 2, coefficients[0] / 2]), np.array([-intercepts[0] / 2,
                                                                                  intercepts[0] / 2])
    return coefficients, intercepts


def rounded(value, digits: int) -> float:
    return float(f"{float(value):.{digits}g}")


@dataclass(frozen=True)
class NgramLogit:
    """A binary logistic regression over the n-grams of a text, as plain data: `probability(text)`.

    `words` and `chars` map a term to (idf, weight).
    """
    words: dict[str, tuple[float, float]]
    chars: dict[str, tuple[float, float]]
    intercept: float
    _scorer: LinearNgramScorer = field(init=False, compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "_scorer", LinearNgramScorer(self.words, self.chars, (self.intercept,)))

    def probability(self, text: str) -> float:
        return sigmoid(self._scorer.scores(text)[0])

    @classmethod
    def fitted(cls, texts: list[str], labels: list[bool], c: float, min_df: int = 1,
               digits: int = 4) -> "NgramLogit | None":
        """The model fitted on `texts`; None when they hold nothing to learn from (fit_tfidf_logistic)."""
        fitted = fit_tfidf_logistic(texts, labels, c, min_df)
        if fitted is None:
            return None
        vectorizers, regression = fitted
        words, chars = plain_tables(vectorizers, [regression.coef_[0]], digits)
        return cls(words, chars, rounded(regression.intercept_[0], digits))

    def to_json(self) -> dict:
        return {"intercept": self.intercept, "words": self.words, "chars": self.chars}

    @classmethod
    def from_json(cls, data: dict) -> "NgramLogit":
        """The model of `to_json`'s data; ValueError (or KeyError, TypeError) when it is not one."""
        tables = [{t: tuple(v) for t, v in data[kind].items()} for kind in ("words", "chars")]   # JSON numbers: floats
        if any(len(v) != 2 for table in tables for v in table.values()):
            raise ValueError("each term needs an idf and a weight")
        return cls(tables[0], tables[1], float(data["intercept"]))
