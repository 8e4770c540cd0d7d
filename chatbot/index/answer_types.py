"""What kind of answer a question asks for, and which passages can give it.

Two classic question-answering signals, both cheap and language-general:

- quantity questions ("how long", "how many", "how often", "how much") want a
  passage that states a number or a duration; the quantity word itself
  ("long" in "how long") is not a topic and is dropped from the query;
- definition questions ("what is an acupoint?") want a passage that defines
  the term ("... known as acupoints", "Electroacupuncture is a form of ...");
- price questions ("how much is a session?", "what are your fees?") want an
  amount of money, and clock-time questions ("what time do you open?") a time
  of day. They rank like quantity questions (the answer is a number), and the
  confidence model is told when the best passage states no price or time, the
  usual case of a question about the clinic's business that its documents
  leave out.
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
# "what is X", "whats X", "what even is X", "what exactly is X": the subject ends at the
# end of the message or of its first clause ("whats cupping, do they ...").
_DEFINITION_QUESTION = re.compile(
    r"^\s*(?:what|who)(?:\s+is|\s+are|'s|s|\s+exactly\s+is|\s+even\s+is|\s+is\s+(?:exactly|even))\s+(?:an?\s+|the\s+)?"
    r"(?P<subject>[^?.!,]{2,60}?)(?:\s+(?:actually|exactly|anyway|then|again))?\s*(?:[?.!,].*)?$"
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

# Asking for a price: "how much does it cost / do you charge", "how much is a session",
# "what are your fees", "cost of a session", "prices?", "a price list". A money word
# alone is not enough: "will my plan cover the cost" asks about cover, not a price.
_MONEY_QUESTION = re.compile(
    r"\bhow\s+much\b[^?.!]*\b(?:cost|costs|charge|charges|pay)\b"
    r"|\bhow\s+much\s+(?:is|are|for|does|do|would|will)\s+(?:an?|one|the|each|per|your|a\s+single)\s+\w+"
    r"(?:\s+(?:of|for)\s+\w+)?\s*(?:[?.!,].*)?$|\bprice\s+list\b|\bpricing\b"
    r"|\bwhat\s+(?:is|are|'s)\s+(?:the\s+|your\s+)?(?:price|prices|cost|costs|fee|fees|charges|rates)\b"
    r"|\bwhat\s+do\s+you\s+charge\b|\b(?:price|cost|fee)s?\s+(?:of|for|per)\s+(?:an?|one|the|each)\b"
    r"|^\s*(?:prices?|fees?|costs?|pricing)\s*[?.!]*\s*$", re.I)
# A word every alternative of _MONEY_QUESTION holds ("prices?" and "pricing" hold
# "pric", "charges" "charg", "rates" "rate"): a message without one is not searched
# (a substring test is a twentieth of the search, a third of question_type's time).
_MONEY_QUESTION_WORDS = ("much", "pric", "cost", "fee", "charg", "rate")
_MONEY = re.compile(r"[$\u00a3\u20ac\u00a5]\s?\d|\b\d+(?:[.,]\d+)?\s?(?:dollars|pounds|euros|usd|gbp|eur)\b"
                    r"|\b[a-z]+ (?:dollars|pounds|euros)\b|\b(?:free of|no) charge\b", re.I)
_CLOCK_QUESTION = re.compile(
    r"\bwhat\s+time\b|\bopening\s+(?:hours|times)\b|\b(?:are|is)\s+(?:you|it|the\s+\w+)\s+open\b"
    r"|\bwhen\s+(?:are|do|does|is)\s+(?:you|it|the\s+\w+)\s+(?:open|close)\b"
    r"|\bhours\s+of\s+(?:business|opening)\b", re.I)
_CLOCK_TIME = re.compile(r"\b\d{1,2}(?::\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.)|\bo'clock\b|\b\d{1,2}:\d{2}\b", re.I)
_NAMING_WORDS = ("known as", "called", "referred to as", "termed", "defined as", "which")

QUANTITY = "quantity"
DEFINITION = "definition"
MONEY = "money"
CLOCK_TIME = "clock time"
NUMERIC_KINDS = frozenset({QUANTITY, MONEY, CLOCK_TIME})  # answered only by a passage that states a number


@dataclass(frozen=True)
class QuestionType:
    """`kind` is QUANTITY, MONEY, CLOCK_TIME, DEFINITION or None; `subject` holds the defined stems."""
    kind: str | None = None
    subject: tuple[str, ...] = ()
    dropped: frozenset[str] = frozenset()


def question_type(query: str) -> QuestionType:
    """The answer type `query` asks for."""
    quantity = _QUANTITY_QUESTION.search(query)
    dropped = frozenset(content_stems(quantity.group(1))) if quantity else frozenset()
    if _may_ask_price(query) and _MONEY_QUESTION.search(query):
        return QuestionType(MONEY, (), dropped)
    if _CLOCK_QUESTION.search(query):
        return QuestionType(CLOCK_TIME, (), dropped)
    if quantity:
        return QuestionType(QUANTITY, (), dropped)
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


def states_money(text: str) -> bool:
    """True when the passage states an amount of money ("$60", "45 pounds", "free of charge")."""
    return bool(_MONEY.search(text))


def states_clock_time(text: str) -> bool:
    """True when the passage states a time of day ("9am", "5:30 pm", "ten o'clock")."""
    return bool(_CLOCK_TIME.search(text))


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


def _may_ask_price(query: str) -> bool:
    """False when _MONEY_QUESTION cannot match `query`: an ASCII text without one of
    _MONEY_QUESTION_WORDS, lower-cased (beyond ASCII re.I matches more letters: the search decides)."""
    if not query.isascii():
        return True
    lowered = query.lower()
    return any(word in lowered for word in _MONEY_QUESTION_WORDS)


def _may_name_or_which(text: str) -> bool:
    """False when _NAMED_AS_OR_WHICH cannot match `text`: an ASCII text without one of its
    words, lower-cased (a substring test is ten times faster than the search; beyond
    ASCII, re.I also matches letters such as the long s, so the search decides)."""
    if not text.isascii():
        return True
    lowered = text.lower()
    return any(word in lowered for word in _NAMING_WORDS)
