"""Retrieval quality on the bundled dev questions: a guard against regressions."""
from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.evaluate import evaluate_retrieval, read_eval_file
from site_chrome import SEED_CHROME

DATA = Path(__file__).resolve().parent / "data"

# Floors below the measured figures (see README "Quality"), so a change that
# costs answers fails here before it reaches visitors.
DEV_HIT_AT_3_FLOOR = 0.90
DEV_HIT_AT_1_FLOOR = 0.80


@pytest.fixture(scope="module")
def dev_report(default_index):
    return evaluate_retrieval(default_index, read_eval_file(DATA / "dev.jsonl"))


def test_dev_questions_find_a_correct_passage_in_the_top_three(dev_report):
    assert dev_report.questions >= 30
    assert dev_report.hit_at_3 >= DEV_HIT_AT_3_FLOOR, dev_report.misses


def test_dev_questions_find_a_correct_passage_first(dev_report):
    assert dev_report.hit_at_1 >= DEV_HIT_AT_1_FLOOR, dev_report.misses


def test_no_passage_returned_for_a_dev_question_contains_site_chrome(default_index, dev_questions):
    for question in dev_questions:
        for hit in default_index.search(question, 10):
            assert not SEED_CHROME.search(f"{hit.passage.section} {hit.passage.text}"), (question, hit.passage.text)


@pytest.mark.parametrize("typo, correct", [
    ("acupunture for lower back pian", "acupuncture for lower back pain"),
    ("side efects of acupunture", "side effects of acupuncture"),
    ("cuping with acupuncture", "cupping with acupuncture"),
])
def test_a_question_with_typos_finds_what_the_correct_spelling_finds(default_index, typo, correct):
    # What a reply shows: its best passage and two more. A corrected word weighs a
    # little less than one spelt right ("pian" is "pain" at 0.75), so two passages
    # that nearly tie for the correct spelling may swap places, but neither is lost.
    with_typos = [h.passage.id for h in default_index.search(typo, 3)]
    spelt_right = [h.passage.id for h in default_index.search(correct, 3)]
    assert with_typos[0] in spelt_right and spelt_right[0] in with_typos


def test_an_off_topic_question_scores_far_below_an_on_topic_one(default_index):
    on_topic = default_index.search("Are acupuncture needles sterile?", 1)[0].score
    off_topic = max((h.score for h in default_index.search("What's a good recipe for banana bread?", 1)), default=0)
    assert off_topic < on_topic / 2
