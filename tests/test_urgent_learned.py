"""The learned self-harm check: its features are scikit-learn's, the shipped model behind the
rules, and its figures on two sets it was never fitted on.

`tests/data/heldout_urgent_tenth.jsonl` (38 medical and 38 self-harm messages in indirect
words, 67 lookalikes) and `heldout_distressed.jsonl` (137 messages of visitors fed up or
low about their pain, not at risk) were written blind on 2026-12-01 after the model was
fitted; `python -m chatbot.evaluation.self_harm` leaves every `heldout_` file out.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from chatbot.answer import UrgentScreen
from chatbot.answer.urgent.learned import (
    CHAR_NGRAMS,
    MIN_WORDS,
    WORD_NGRAMS,
    SelfHarmModel,
    char_ngrams,
    shipped_model,
    word_ngrams,
)
from chatbot.answer.urgent.matching import LEARNED_RULE
from chatbot.evaluation.self_harm import pipeline, plain_model

DATA = Path(__file__).resolve().parent / "data"
RULES_FILE = Path(__file__).resolve().parents[1] / "corpus" / "urgent.txt"
SAMPLES = ["I can't  sleep, my BACK hurts!!", "no", "a", "is   it ok?\tI'm 34", "don't wake up", "é café naïve"]


def _jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text("utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def screen() -> UrgentScreen:
    screen, errors = UrgentScreen.load(RULES_FILE)
    assert errors == []
    return screen


@pytest.mark.parametrize("text", SAMPLES)
def test_the_terms_are_scikit_learns(text):
    words = TfidfVectorizer(ngram_range=WORD_NGRAMS).build_analyzer()
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS).build_analyzer()
    assert word_ngrams(text) == words(text)
    assert char_ngrams(text) == chars(text)


def test_the_plain_model_gives_scikit_learns_probabilities():
    rows = _jsonl("urgent_third.jsonl") + _jsonl("urgent_fourth.jsonl")
    texts, labels = [r["message"] for r in rows], [r["category"] == "self_harm" for r in rows]
    fitted = pipeline().fit(texts, labels)
    model = plain_model(fitted, 0.5)
    expected = fitted.predict_proba(texts + SAMPLES)[:, 1]
    assert np.allclose([model.probability(t) for t in texts + SAMPLES], expected, atol=1e-4)
    assert SelfHarmModel.from_json(json.loads(json.dumps(model.to_json()))) == model


def test_the_shipped_model_loads_and_short_messages_are_left_to_the_rules(screen):
    model = shipped_model()
    assert model is not None and 0.5 <= model.threshold < 1
    for message in ("I'm not suicidal", "I cut myself shaving", "nothing works"):
        assert len(message.split()) < MIN_WORDS and not model.flags(message)


def test_a_message_only_the_model_flags_is_a_self_harm_reply(screen):
    message = "everyone would be better off if i just quietly stopped being around, honestly"
    assert screen.check_rules(message) is None
    match = screen.check(message)
    assert match is not None and (match.category, match.rule) == ("self_harm", LEARNED_RULE)
    rules_only = UrgentScreen(screen.rules, screen.ignored, screen.treatment, learned=None)
    assert rules_only.check(message) is None


def test_on_the_tenth_set_the_model_catches_more_than_half_of_what_the_rules_miss(screen):
    rows = _jsonl("heldout_urgent_tenth.jsonl")
    harm = [r["message"] for r in rows if r["category"] == "self_harm"]
    by_rules = sum(getattr(screen.check_rules(m), "category", None) == "self_harm" for m in harm)
    by_both = sum(getattr(screen.check(m), "category", None) == "self_harm" for m in harm)
    assert len(harm) >= 35 and by_rules == 13 and by_both >= 29  # measured: 13 and 29 of 38
    assert [r["message"] for r in rows if not r["urgent"] and screen.check(r["message"])] == []
    medical = [r["message"] for r in rows if r["category"] == "medical"]
    assert all(getattr(screen.check(m), "category", None) != "self_harm" for m in medical)


def test_on_distressed_but_safe_visitors_the_model_adds_at_most_one_alarm(screen):
    messages = [r["message"] for r in _jsonl("heldout_distressed.jsonl")]
    by_rules = sum(screen.check_rules(m) is not None for m in messages)
    by_both = sum(screen.check(m) is not None for m in messages)
    assert len(messages) >= 130 and by_both - by_rules <= 1  # measured: 2 by the rules, 3 with the model
