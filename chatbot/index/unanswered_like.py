"""How much a question reads like those staff listed as answered by no passage: a learned signal.

`questions.txt` lists, under each passage, questions it answers and, under
`[no passage]`, questions no passage answers (prices, opening hours,
conditions the pages never mention); staff add to both from the inbox. The
confidence model already has the closest match with the second list
(`unanswered_match`, BM25). This signal generalises from the two lists
instead: a logistic regression over word 1-2 grams and character 3-5 grams
(chatbot/ngrams.py) learns which words and forms tell the two kinds apart
("do you take", "how much", "open on" against "does acupuncture", "needles"),
so a near-domain question in words of neither list ("any discount for
pensioners?") still reads as one the clinic's pages leave unanswered.

It is fitted with the index (the passages' written, taught and FAQ questions
against the unanswered ones) and saved in its version as plain data. An index
without both lists has no model; the signal is then unknown (NaN), which the
confidence model counts at its mean. C was chosen with the confidence model's
left-out figures (README, "Quality").
"""
from __future__ import annotations

from collections.abc import Sequence

from ..ngrams import NgramLogit

C = 1.0
MIN_EACH = 2   # fewer questions of either kind than this: nothing to learn from


def fit_unanswered_like(answered: Sequence[str], unanswered: Sequence[str]) -> NgramLogit | None:
    """P(a question is like `unanswered` rather than `answered`), or None when either list is too short."""
    answered, unanswered = list(dict.fromkeys(answered)), list(dict.fromkeys(unanswered))
    if len(answered) < MIN_EACH or len(unanswered) < MIN_EACH:
        return None
    return NgramLogit.fitted(answered + unanswered, [False] * len(answered) + [True] * len(unanswered), C)
