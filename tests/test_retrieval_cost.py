"""Cuts in what answering a chat costs (issue 9, item 7; issue 8's speed target), each
checked against the slower way it replaces: the same results on the same inputs.

The dense passes of small indexes are checked in tests/test_index.py; bench/README.md
("A chat's retrieval, fourth pass") has the figures.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from chatbot.index import answer_types
from chatbot.index.answer_types import MONEY, question_type
from chatbot.index.synonyms import SynonymExpander, load_synonyms
from chatbot.text import content_stems

ROOT = Path(__file__).resolve().parent.parent


def _messages() -> list[str]:
    """Every question and message of tests/data."""
    records = [json.loads(line) for path in sorted((ROOT / "tests/data").glob("*.jsonl"))
               for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [record.get("q") or record["message"] for record in records]


# -- synonym phrases: looked up by length, found as if compared one by one -------------------


def _compared_one_by_one(rules):
    """What SynonymExpander.matches did before it looked phrases up by length, as a function of stems."""
    by_first = {}
    for a, b in rules:
        source = tuple(content_stems(a))
        by_first.setdefault(source[0], []).append((source, tuple(content_stems(b))))

    def matches(stems: list[str]) -> list[tuple[int, int, tuple[str, ...]]]:
        found = []
        for i, first in enumerate(stems):
            for source, target in by_first.get(first, ()):
                if tuple(stems[i:i + len(source)]) == source:
                    found.append((i, i + len(source), target))
        return found
    return matches


@pytest.mark.parametrize("rules", [
    (("back", "spine"), ("back pain", "lumbago"), ("lower back pain", "lumbago"), ("back", "dorsal"),
     ("pins", "needles"), ("pin pricks", "needles"), ("pins", "acupuncture needles")),
    load_synonyms(ROOT / "corpus" / "synonyms.txt")[0],
], ids=["overlapping", "shipped"])
def test_synonym_phrases_are_found_as_by_comparing_each_rule(rules):
    expander = SynonymExpander(rules)
    words = sorted({w for rule in rules for side in rule for w in content_stems(side)}) + ["other", "word"]
    rng = random.Random(3)
    sequences = [content_stems(m) for m in _messages()]
    sequences += [[rng.choice(words) for _ in range(rng.randint(1, 10))] for _ in range(5_000)]
    several_at_one_start = 0
    compared = _compared_one_by_one(rules)
    for stems in sequences:
        expected = compared(stems)
        assert expander.matches(stems) == expected, stems
        several_at_one_start += len({start for start, _, _ in expected}) < len(expected)
    assert several_at_one_start > 100  # rules sharing a first word, in the rules' order


# -- price questions: only messages holding a price word are searched -------------------------


def _top_level_alternatives(pattern: str) -> list[str]:
    parts, depth, current, escaped = [], 0, "", False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    return parts + [current]


def test_every_price_question_pattern_holds_a_price_word():
    """A new alternative of _MONEY_QUESTION needs its word in _MONEY_QUESTION_WORDS, or it is never searched."""
    alternatives = _top_level_alternatives(answer_types._MONEY_QUESTION.pattern)
    assert len(alternatives) >= 7
    for alternative in alternatives:
        assert any(word in alternative.lower() for word in answer_types._MONEY_QUESTION_WORDS), alternative


def test_price_questions_are_found_as_by_searching_every_message(monkeypatch):
    messages = _messages() + [
        "How much is a session?", "HOW MUCH DOES IT COST", "what are your fees", "Prices?", "pricing",
        "price list please", "What do you charge?", "cost of a session", "what are your rates?", "Fees",
        "how much would one visit be?", "what are the charges", "how much do I pay for a course of six",
        "how much pain is normal", "how much", "\u017fome pricing", "coſt of one session", "what\u00a0are your fees"]
    fast = [question_type(m) for m in messages]
    monkeypatch.setattr(answer_types, "_may_ask_price", lambda query: True)
    assert [question_type(m) for m in messages] == fast
    assert sum(t.kind == MONEY for t in fast) >= 12
