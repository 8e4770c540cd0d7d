"""make eval: metrics, the FAQ-bank path, baselines in the same table, k-fold choice."""
from __future__ import annotations

import json

import numpy as np
import pytest

from chatbot.evaluation.__main__ import format_table
from chatbot.evaluation.faq_banks import FaqBank, build_bank_index, read_covidfaq, read_stackfaq
from chatbot.evaluation.suites import OURS, rank_metrics, run_faq_suite
from chatbot.evaluation.tune import k_fold

BANK = FaqBank("toy", (
    ("How long does a session last?", "A session takes about thirty minutes, needles included."),
    ("Do the needles hurt?", "Most people feel a slight pinch and then nothing at all."),
    ("Can I exercise after a session?", "Wait a day before hard training or heavy lifting."),
    ("Is acupuncture safe during pregnancy?", "Tell your practitioner; some points are avoided in pregnancy."),
), (("how long is a session", 0), ("will the needles hurt", 1),
    ("when can i exercise again", 2), ("im pregnant, is it safe", 3)))


def test_rank_metrics_follow_the_rank_of_the_first_right_item():
    figures = rank_metrics([1, 2, None, 11])
    assert figures["hit@1"] == 0.25 and figures["hit@3"] == 0.5
    assert figures["mrr@10"] == pytest.approx((1 + 0.5) / 4)
    assert figures["ndcg@10"] == pytest.approx((1 + 1 / np.log2(3)) / 4)


def test_a_bank_is_built_through_the_faq_csv_path_and_maps_back_to_its_entries():
    index, entry_of = build_bank_index(BANK)
    assert sorted(entry_of.values()) == [0, 1, 2, 3]
    assert all(p.form == "faq" and p.question for p in index.passages_)


def test_a_faq_suite_reports_ours_beside_the_three_baselines(tmp_path):
    result = run_faq_suite(BANK)
    assert set(result.ranking) == {OURS, "BM25 question", "BM25 question+answer", "TF-IDF question"}
    assert result.ranking[OURS]["hit@1"] == 1.0
    assert len(result.ranks) == len(BANK.queries)
    table = format_table([result])
    assert table.count("toy") == 4 and "ndcg@10" in table.splitlines()[0]


def test_benchmark_files_are_read_in_their_published_shapes(tmp_path):
    covid = tmp_path / "covid.json"
    covid.write_text(json.dumps({"bank": [{"question": "Q?", "answer": "A."}],
                                 "queries": [{"query": "q", "entry": 0}, {"query": " ", "entry": 0}]}))
    stack = tmp_path / "stack.json"
    stack.write_text(json.dumps({"root": {"qapair": [{"question": "Q?", "answer": ["A1", "A2"],
                                                      "rephr": ["first", "*", "second"]}]}}))
    assert read_covidfaq(covid).queries == (("q", 0),)
    bank = read_stackfaq(stack)
    assert bank.entries == (("Q?", "A1\nA2"),) and [q for q, _ in bank.queries] == ["first", "second"]


def test_k_fold_reports_each_question_with_a_setting_chosen_without_it():
    gains_good = {"a": np.array([1.0, 1.0, 0.0, 1.0]), "b": np.array([1.0, 0.5])}
    gains_bad = {"a": np.array([0.0, 0.0, 1.0, 0.0]), "b": np.array([0.0, 0.5])}
    left_out, chosen = k_fold([({"w": 1}, gains_good), ({"w": 2}, gains_bad)], folds=2)
    assert all(c == {"w": 1} for c in chosen)
    assert left_out == {"a": pytest.approx(0.75), "b": pytest.approx(0.75)}
