"""Grouping visitors' questions by meaning (chatbot/staff/grouping.py), on a small hand-written set."""
from __future__ import annotations

import pytest

from chatbot.staff.grouping import MAX_QUESTIONS, group_questions

QUESTIONS = [
    "How long do the needles stay in?",          # 0  needles, duration
    "how long are needles left in",              # 1
    "How long do needles stay in for??",         # 2
    "Does acupuncture hurt?",                    # 3  pain
    "does acupuncture hurt a lot",               # 4
    "How much does a session cost?",             # 5  price
    "what does a session cost",                  # 6
    "Is there parking near the clinic?",         # 7  parking
    "can I park near the clinic",                # 8
    "Do you treat migraines?",                   # 9  alone
]


def group_of(groups: list[list[int]], position: int) -> list[int]:
    return next(group for group in groups if position in group)


def test_paraphrases_share_a_group_and_unrelated_questions_do_not():
    groups = group_questions(QUESTIONS)
    assert group_of(groups, 0) == [0, 1, 2]
    assert group_of(groups, 3) == [3, 4]
    assert group_of(groups, 5) == [5, 6]
    assert group_of(groups, 7) == [7, 8]
    assert group_of(groups, 9) == [9]


def test_every_question_is_in_exactly_one_group_largest_first():
    groups = group_questions(QUESTIONS)
    assert sorted(p for group in groups for p in group) == list(range(len(QUESTIONS)))
    sizes = [len(group) for group in groups]
    assert sizes == sorted(sizes, reverse=True)
    assert all(group == sorted(group) for group in groups)


def test_the_same_questions_give_the_same_groups_in_the_same_order():
    assert group_questions(QUESTIONS) == group_questions(list(QUESTIONS))
    # Ties of size are ordered by their earliest question, whatever the clustering's labels.
    pairs = [group for group in group_questions(QUESTIONS) if len(group) == 2]
    assert pairs == sorted(pairs)


def test_a_tighter_threshold_splits_groups():
    loose, tight = group_questions(QUESTIONS), group_questions(QUESTIONS, distance_threshold=0.05)
    assert len(tight) > len(loose)


def test_edge_cases_empty_single_and_wordless_texts():
    assert group_questions([]) == []
    assert group_questions(["only one"]) == [[0]]
    groups = group_questions(["???", "!!!", "does it hurt", "does it hurt?"])
    assert group_of(groups, 2) == [2, 3]
    assert group_of(groups, 0) == [0] and group_of(groups, 1) == [1]  # no words: nothing in common


def test_bad_threshold_or_too_many_questions_raise_value_error():
    with pytest.raises(ValueError):
        group_questions(QUESTIONS, distance_threshold=0)
    with pytest.raises(ValueError):
        group_questions(["q"] * (MAX_QUESTIONS + 1))


def test_purity_and_entry_folds_of_the_grouping_evaluation():
    from chatbot.evaluation.grouping import entry_folds, purity
    assert purity([1, 1, 2, 2], [0, 0, 1, 1]) == 1.0
    assert purity([1, 1, 2, 2], [0, 0, 0, 0]) == 0.5
    assert purity([1, 2, 2, 2], [0, 1, 1, 2]) == 1.0   # singletons are pure: purity alone rewards splitting
    folds = entry_folds([5, 1, 3, 3, 2, 4, 0], folds=3, seed=1)
    assert sorted(e for fold in folds for e in fold) == [0, 1, 2, 3, 4, 5]
    assert folds == entry_folds([0, 1, 2, 3, 4, 5], folds=3, seed=1)
