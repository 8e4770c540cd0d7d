"""Word and character n-grams of a message, and linear models over their TF-IDF, as plain data.

The learned checks (self-harm in urgent/learned.py, smalltalk in
smalltalk_model.py) are logistic regressions fitted with scikit-learn over
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
from collections import Counter
from collections.abc import Mapping, Sequence

WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (3, 5)
# scikit-learn's defaults: tokens of two or more word characters; runs of white space are one.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_WHITE_SPACES = re.compile(r"\s\s+")
WORD_CACHE_SIZE = 20_000

# term -> (idf, weight of output 0, weight of output 1, ...)
TermTable = Mapping[str, Sequence[float]]


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
    """

    def __init__(self, words: TermTable, chars: TermTable, intercepts: Sequence[float]):
        self.words, self.chars, self.intercepts = words, chars, tuple(intercepts)
        self._known_chars: dict[str, tuple[str, ...]] = {}

    def scores(self, text: str) -> list[float]:
        """Intercept plus the dot products with the l2-normalised TF-IDF of each kind, per output."""
        char_terms = [term for word in char_words(text) for term in self._known_char_ngrams(word)]
        word_part = weighted_sums(word_ngrams(text), self.words, len(self.intercepts))
        char_part = weighted_sums(char_terms, self.chars, len(self.intercepts))
        return [b + w + c for b, w, c in zip(self.intercepts, word_part, char_part, strict=True)]

    def _known_char_ngrams(self, word: str) -> tuple[str, ...]:
        """The word's character n-grams that the model knows, remembered per word: most words
        of a chat are common ones, and making their n-grams was most of a message's cost."""
        known = self._known_chars.get(word)
        if known is None:
            known = tuple(term for term in word_char_ngrams(word) if term in self.chars)
            if len(self._known_chars) >= WORD_CACHE_SIZE:
                self._known_chars.clear()
            self._known_chars[word] = known
        return known


def weighted_sums(terms: list[str], table: TermTable, outputs: int) -> list[float]:
    """Per output, the dot product of the l2-normalised sublinear tf-idf vector of `terms` with its weights."""
    sums = [0.0] * outputs
    squares = 0.0
    for term, count in Counter(term for term in terms if term in table).items():
        idf, *weights = table[term]
        value = idf if count == 1 else (1.0 + math.log(count)) * idf
        squares += value * value
        for output, weight in enumerate(weights):
            sums[output] += value * weight
    if not squares:
        return sums
    norm = math.sqrt(squares)
    return [total / norm for total in sums]


def sigmoid(score: float) -> float:
    return 1.0 / (1.0 + math.exp(-score)) if score > -700 else 0.0


def softmax(scores: Sequence[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]
