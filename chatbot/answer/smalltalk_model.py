"""Smalltalk in words no wording of `corpus/smalltalk.txt` uses: a model learned from the staff's own files.

The wordings of smalltalk.txt are matched strictly (smalltalk.py): every word
of a message must belong to smalltalk. Visitors keep finding new words for
the same few things ("which company programmed this chat thing?", "thank u
sm that actually helped"), and on sets written blind about half of their
smalltalk was missed. This model is the second chance, asked only when
retrieval would say "I don't know" (policy.py): a message like that is
either a question the documents do not answer or chat.

It is a logistic regression over word 1-2 grams and character 3-5 grams
(chatbot/ngrams.py), fitted when a version is built, from two files staff already
edit:

- each wording of smalltalk.txt is an example of its section (greeting,
  thanks, about the bot, ...), its words read through the file's `same:`
  lines;
- each question of questions.txt (those a passage answers, and the
  `[no passage]` ones such as prices and opening hours) is an example of
  "not smalltalk", once as written and once with a random wording of
  smalltalk.txt before or after it ("thanks! do you take Bupa?"): a
  greeting does not make a question chat.

A message of at most MAX_MESSAGE_WORDS words is smalltalk when the model
gives "not smalltalk" a probability of at most 1 - `threshold`; its section
is the most probable of the others. C and the threshold were chosen on
smalltalk sets written blind, each judged with the smalltalk file as it was
before its misses were read (`python -m chatbot.evaluation.smalltalk_model`,
README). The fitted model is saved inside the version (MODEL_FILE) as plain
data, so serving never fits.
"""
from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..ngrams import LinearNgramScorer, fit_tfidf_logistic, per_class, plain_tables, rounded, softmax, token_count
from .smalltalk import MAX_MESSAGE_WORDS, Smalltalk, SmalltalkMatch

MODEL_FILE = "smalltalk_model.json"
NOT_SMALLTALK = ""          # the class of questions (no section name is empty)
C = 2.0
THRESHOLD = 0.92
SEED = 0
MIXES = 3                   # each question is also taught with this many wordings around it
DIGITS = 4                  # significant digits kept of each idf and weight
MIN_DF = 2                  # terms of one example only are left out (half the model, no loss left out)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SmalltalkModel:
    """Which section of smalltalk a message is, for messages the file's wordings miss.

    `intents` are the classes in the model's order (NOT_SMALLTALK among them); `words` and
    `chars` map a term to (idf, one weight per class). `smalltalk_sha256` names the
    smalltalk.txt text it was fitted with: a model is only used with that file's rules.
    """
    intents: tuple[str, ...]
    words: dict[str, tuple[float, ...]]
    chars: dict[str, tuple[float, ...]]
    intercepts: tuple[float, ...]
    threshold: float
    smalltalk_sha256: str
    _scorer: LinearNgramScorer = field(init=False, compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "_scorer", LinearNgramScorer(self.words, self.chars, self.intercepts))

    def probabilities(self, text: str) -> dict[str, float]:
        """{class: probability} of `text` as the model reads it (Smalltalk.canonical_text)."""
        return dict(zip(self.intents, softmax(self._scorer.scores(text)), strict=True))

    def classify(self, smalltalk: Smalltalk, message: str) -> SmalltalkMatch | None:
        """The smalltalk section of `message` by the model, or None (a question, or too long to be chat)."""
        text = smalltalk.canonical_text(message)
        if not text or token_count(text) > MAX_MESSAGE_WORDS:
            return None
        probabilities = self.probabilities(text)
        if 1.0 - probabilities.get(NOT_SMALLTALK, 0.0) < self.threshold:
            return None
        best = max((p, name) for name, p in probabilities.items() if name != NOT_SMALLTALK)
        return SmalltalkMatch(best[1])

    def to_json(self) -> dict:
        return {"about": "fitted from smalltalk.txt and questions.txt (chatbot/answer/smalltalk_model.py)",
                "smalltalk_sha256": self.smalltalk_sha256, "threshold": self.threshold,
                "intents": list(self.intents), "intercepts": list(self.intercepts),
                "words": self.words, "chars": self.chars}

    @classmethod
    def from_json(cls, data: dict) -> "SmalltalkModel":
        """The model of `to_json`'s data; ValueError (or KeyError, TypeError) when it is not one."""
        intents = tuple(str(name) for name in data["intents"])
        tables = [{t: tuple(v) for t, v in data[kind].items()} for kind in ("words", "chars")]   # JSON numbers: floats
        if any(len(v) != len(intents) + 1 for table in tables for v in table.values()):
            raise ValueError("each term needs an idf and one weight per class")
        intercepts = tuple(float(x) for x in data["intercepts"])
        if len(intercepts) != len(intents):
            raise ValueError("one intercept per class")
        return cls(intents, tables[0], tables[1], intercepts, float(data["threshold"]), str(data["smalltalk_sha256"]))


def training_examples(smalltalk: Smalltalk, questions: Sequence[str],
                      seed: int = SEED) -> tuple[list[str], list[str]]:
    """(texts as the model reads them, their classes): the file's wordings under their section;
    each question, alone and with a random wording before or after it, as NOT_SMALLTALK."""
    chat = [(wording, intent.name) for intent in smalltalk.intents for wording in intent.wordings]
    rng = random.Random(seed)
    texts = [wording for wording, _ in chat]
    labels = [name for _, name in chat]
    for question in questions:
        texts.append(question)
        for _ in range(MIXES):
            wording = rng.choice(chat)[0]
            texts.append(f"{wording}, {question}" if rng.random() < 0.5 else f"{question} {wording}")
        labels += [NOT_SMALLTALK] * (1 + MIXES)
    return [smalltalk.canonical_text(text) for text in texts], labels


def fit_smalltalk_model(smalltalk: Smalltalk, smalltalk_text: str, questions: Sequence[str],
                        c: float = C, threshold: float = THRESHOLD) -> SmalltalkModel | None:
    """The model of `smalltalk` (made from `smalltalk_text`) against `questions`; None without
    at least one section of wordings and one question (nothing to tell apart)."""
    if not smalltalk.intents or not questions:
        return None
    fitted = fitted_pipeline(*training_examples(smalltalk, questions), c=c)
    if fitted is None:   # nothing to learn from in the texts
        return None
    vectorizers, regression = fitted
    intents = tuple(str(name) for name in regression.classes_)
    coefficients, intercepts = per_class(regression)
    words, chars = plain_tables(vectorizers, coefficients, DIGITS)
    return SmalltalkModel(intents, words, chars, tuple(rounded(b, DIGITS) for b in intercepts), threshold,
                          text_sha256(smalltalk_text))


def fitted_pipeline(texts: list[str], labels: list[str], c: float = C):
    """(the two fitted TfidfVectorizers, the fitted LogisticRegression over their columns side by side),
    or None when the texts give no n-gram to learn from."""
    return fit_tfidf_logistic(texts, labels, c, MIN_DF)


def model_json_bytes(model: SmalltalkModel) -> bytes:
    return (json.dumps(model.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
