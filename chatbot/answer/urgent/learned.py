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
kind) over the lower-cased text, scored with dictionaries (chatbot/ngrams.py): a
message costs tens of microseconds, and the fitting command checks that the
probabilities equal scikit-learn's before it writes the file.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ...ngrams import CHAR_NGRAMS, WORD_NGRAMS, NgramLogit, char_ngrams, token_count, word_ngrams

__all__ = ["CHAR_NGRAMS", "MIN_WORDS", "WORD_NGRAMS", "SelfHarmModel", "char_ngrams", "long_enough",
           "shipped_model", "word_ngrams"]

SHIPPED_MODEL = Path(__file__).with_name("self_harm_model.json")
# Shorter messages are left to the rules: in a few words the n-grams of "myself" or
# "suicidal" outweigh the rest ("I cut myself shaving", "I'm not suicidal" scored 0.96 and
# 0.88), while the indirect messages the rules miss were all longer.
MIN_WORDS = 8


def long_enough(message: str) -> bool:
    """Has `message` MIN_WORDS words or more (words as the model counts them)?"""
    return token_count(message) >= MIN_WORDS


@dataclass(frozen=True)
class SelfHarmModel(NgramLogit):
    """Probability that a message speaks of self-harm or suicide; `flags` compares it with the threshold.

    `words` and `chars` map a term to (idf, weight).
    """
    threshold: float = 0.5

    def flags(self, message: str) -> bool:
        """True when `message` has at least MIN_WORDS words and its probability reaches the threshold."""
        return long_enough(message) and self.probability(message) >= self.threshold

    def to_json(self) -> dict:
        return {"about": "python -m chatbot.evaluation.self_harm --write", "threshold": self.threshold,
                **super().to_json()}

    @classmethod
    def from_json(cls, data: dict) -> "SelfHarmModel":
        plain = NgramLogit.from_json(data)
        return cls(plain.words, plain.chars, plain.intercept, float(data["threshold"]))


@lru_cache(maxsize=1)
def shipped_model() -> SelfHarmModel | None:
    """The model shipped with the package, or None when its file is missing (then rules alone screen)."""
    try:
        return SelfHarmModel.from_json(json.loads(SHIPPED_MODEL.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
