"""A learned second check for self-harm, behind the rules of `corpus/urgent.txt`.

Phrase rules catch the words people use most ("kill myself", "end it all")
but miss the indirect ones ("everyone would be better off if I just
disappeared"): on sets written blind, about half of those or more. This model was
fitted on the project's labelled messages (`python -m
chatbot.evaluation.self_harm --write`, which also prints its
leave-one-set-out figures) and is shipped as plain data,
`self_harm_model.json`: per word (1-2 grams) and per character n-gram (3-5,
inside words) an idf and a weight, and the logistic regression's intercept
and threshold.

The features are scikit-learn's `TfidfVectorizer` (sublinear tf, l2 norm per
kind) over the lower-cased text, rebuilt here with dictionaries: a message
costs tens of microseconds, and the fitting command checks that the
probabilities equal scikit-learn's before it writes the file.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

SHIPPED_MODEL = Path(__file__).with_name("self_harm_model.json")
# Shorter messages are left to the rules: in a few words the n-grams of "myself" or
# "suicidal" outweigh the rest ("I cut myself shaving", "I'm not suicidal" scored 0.96 and
# 0.88), while the indirect messages the rules miss were all longer.
MIN_WORDS = 8
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (3, 5)
# scikit-learn's defaults: tokens of two or more word characters; runs of white space are one.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_WHITE_SPACES = re.compile(r"\s\s+")


def long_enough(message: str) -> bool:
    """Has `message` MIN_WORDS words or more (words as the model counts them)?"""
    return len(_TOKEN.findall(message)) >= MIN_WORDS


def _char_words(text: str) -> list[str]:
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
    return [term for word in _char_words(text) for term in _word_char_ngrams(word)]


def _word_char_ngrams(word: str) -> list[str]:
    """One word's character n-grams; a padded word no longer than n is itself, once, and ends the word."""
    padded, terms = f" {word} ", []
    for n in range(CHAR_NGRAMS[0], CHAR_NGRAMS[1] + 1):
        terms += [padded[i:i + n] for i in range(max(1, len(padded) - n + 1))]
        if len(padded) <= n:
            break
    return terms


WORD_CACHE_SIZE = 20_000


@dataclass(frozen=True)
class SelfHarmModel:
    """Probability that a message speaks of self-harm or suicide; `flags` compares it with the threshold.

    `words` and `chars` map a term to (idf, weight).
    """
    words: dict[str, tuple[float, float]]
    chars: dict[str, tuple[float, float]]
    intercept: float
    threshold: float
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    def probability(self, message: str) -> float:
        char_terms = [term for word in _char_words(message) for term in self._known_char_ngrams(word)]
        score = (self.intercept + _weighted(word_ngrams(message), self.words)
                 + _weighted(char_terms, self.chars))
        return 1.0 / (1.0 + math.exp(-score)) if score > -700 else 0.0

    def _known_char_ngrams(self, word: str) -> tuple[str, ...]:
        """The word's character n-grams that the model knows, remembered per word: most words
        of a chat are common ones, and making their n-grams was most of a message's cost."""
        cache = self._cache
        known = cache.get(word)
        if known is None:
            known = tuple(term for term in _word_char_ngrams(word) if term in self.chars)
            if len(cache) >= WORD_CACHE_SIZE:
                cache.clear()
            cache[word] = known
        return known

    def flags(self, message: str) -> bool:
        """True when `message` has at least MIN_WORDS words and its probability reaches the threshold."""
        return long_enough(message) and self.probability(message) >= self.threshold

    def to_json(self) -> dict:
        return {"about": "python -m chatbot.evaluation.self_harm --write", "intercept": self.intercept,
                "threshold": self.threshold, "words": self.words, "chars": self.chars}

    @classmethod
    def from_json(cls, data: dict) -> "SelfHarmModel":
        return cls({t: tuple(v) for t, v in data["words"].items()}, {t: tuple(v) for t, v in data["chars"].items()},
                   float(data["intercept"]), float(data["threshold"]))


def _weighted(terms: list[str], table: dict[str, tuple[float, float]]) -> float:
    """Dot product of the l2-normalised sublinear tf-idf vector of `terms` with the weights."""
    squares = dot = 0.0
    for term, count in Counter(term for term in terms if term in table).items():
        idf, weight = table[term]
        value = idf if count == 1 else (1.0 + math.log(count)) * idf
        squares += value * value
        dot += value * weight
    return dot / math.sqrt(squares) if squares else 0.0


@lru_cache(maxsize=1)
def shipped_model() -> SelfHarmModel | None:
    """The model shipped with the package, or None when its file is missing (then rules alone screen)."""
    try:
        return SelfHarmModel.from_json(json.loads(SHIPPED_MODEL.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
