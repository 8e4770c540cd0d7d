"""What kind of answer a question asks for, and which passages can give it.

Two classic question-answering signals, both cheap and language-general:

- quantity questions ("how long", "how many", "how often", "how much") want a
  passage that states a number or a duration; the quantity word itself
  ("long" in "how long") is not a topic and is dropped from the query;
- definition questions ("what is an acupoint?") want a passage that defines
  the term ("... known as acupoints", "Electroacupuncture is a form of ...").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..text import content_stems

_QUANTITY_QUESTION = re.compile(r"\bhow\s+(long|many|much|often|soon|frequently)\b", re.I)
# A digit, or a number word: two searches, since one alternation starting with \b
# is tried at every position of a text (half of the time, measured on an index build).
_DIGIT = re.compile(r"\d")
_NUMBER_WORD = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty"
    r"|forty|fifty|hundred|thousand|dozen|several|few|once|twice|daily|weekly|monthly)\b", re.I)
_DEFINITION_QUESTION = re.compile(
    r"^\s*(?:what|who)(?:\s+is|\s+are|'s|\s+exactly\s+is)\s+(?:an?\s+|the\s+)?(?P<subject>[^?.!,]{2,60}?)\s*[?.!]*\s*$"
    r"|^\s*(?:define|definition of|meaning of)\s+(?:an?\s+|the\s+)?(?P<subject2>[^?.!,]{2,60}?)\s*[?.!]*\s*$"
    r"|^\s*what\s+does\s+(?:an?\s+|the\s+)?(?P<subject3>[^?.!,]{2,60}?)\s+mean\s*[?.!]*\s*$", re.I)
# "... known as acupoints", "called qi", "referred to as meridians"
_NAMED_AS = re.compile(r"\b(?:known as|called|referred to as|termed|defined as)\s+(?:the\s+)?[\"\u201c']?([\w-]+)",
                       re.I)
# "Electroacupuncture is an advanced form ...", "Moxibustion, which uses heat ..."
_IS_A = re.compile(r"^\s*(?:an?\s+|the\s+)?([\w-]+(?:\s+[\w-]+)?)\s*(?:\([^)]*\)\s*)?"
                   r"(?:is|are|refers to|means)\s+(?:an?|the|one|any)\b", re.I)
_WHICH = re.compile(r"\b([\w-]+),\s+which\s+(?:is|are|uses|involves|means)\b", re.I)
# What any match of _NAMED_AS or _WHICH must contain (the same words, the same flags):
# one search of a passage's sentences together rules both out for most passages,
# instead of two scans of each sentence (a tenth of an index build).
_NAMED_AS_OR_WHICH = re.compile(r"(?:known as|called|referred to as|termed|defined as)\s"
                                r"|,\s+which\s+(?:is|are|uses|involves|means)", re.I)

_NAMING_WORDS = ("known as", "called", "referred to as", "termed", "defined as", "which")

QUANTITY = "quantity"
DEFINITION = "definition"


@dataclass(frozen=True)
class QuestionType:
    """`kind` is QUANTITY, DEFINITION or None; `subject` holds the defined stems."""
    kind: str | None = None
    subject: tuple[str, ...] = ()
    dropped: frozenset[str] = frozenset()


def question_type(query: str) -> QuestionType:
    """The answer type `query` asks for."""
    quantity = _QUANTITY_QUESTION.search(query)
    if quantity:
        return QuestionType(QUANTITY, (), frozenset(content_stems(quantity.group(1))))
    definition = _DEFINITION_QUESTION.match(query)
    if definition:
        subject = next(g for g in definition.groups() if g)
        stems = tuple(content_stems(subject))
        if 1 <= len(stems) <= 3:
            return QuestionType(DEFINITION, stems)
    return QuestionType()


def states_quantity(text: str) -> bool:
    """True when the passage states a number, a count or a frequency."""
    return bool(_DIGIT.search(text) or _NUMBER_WORD.search(text))


def defined_terms(sentences: list[str]) -> set[str]:
    """Stems of the terms the given sentences define (last stem of each defined phrase)."""
    found: set[str] = set()
    joined = "\n".join(sentences)
    patterns = (_NAMED_AS, _WHICH) if _may_name_or_which(joined) and _NAMED_AS_OR_WHICH.search(joined) else ()
    for sentence in sentences:
        for pattern in patterns:
            for match in pattern.finditer(sentence):
                found.update(content_stems(match.group(1))[-1:])
        match = _IS_A.match(sentence)
        if match:
            found.update(content_stems(match.group(1))[-1:])
    return found


def _may_name_or_which(text: str) -> bool:
    """False when _NAMED_AS_OR_WHICH cannot match `text`: an ASCII text without one of its
    words, lower-cased (a substring test is ten times faster than the search; beyond
    ASCII, re.I also matches letters such as the long s, so the search decides)."""
    if not text.isascii():
        return True
    lowered = text.lower()
    return any(word in lowered for word in _NAMING_WORDS)
