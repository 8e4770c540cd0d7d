"""String tables of a memory-mapped index: lookups like a dict, exact even when hashes collide."""
from __future__ import annotations

import numpy as np
import pytest

from chatbot.index import tables
from chatbot.index.tables import PassageTable, StringTable, TermRows, TermTable, term_hash

TERMS = ["needl", "back pain", "acupunctur", "säure", "", "日本", "pain"]


def test_term_table_finds_every_term_at_its_position():
    table = TermTable.of(TERMS)
    assert len(table) == len(TERMS)
    for position, term in enumerate(TERMS):
        assert table.get(term) == position
        assert table[term] == position
        assert term in table
        assert table[position] == term
    assert list(table) == TERMS
    assert dict(table.items()) == {t: i for i, t in enumerate(TERMS)}


@pytest.mark.parametrize("absent", ["needle", "back", "pain ", "PAIN", "日"])
def test_term_table_says_absent_terms_are_absent(absent):
    table = TermTable.of(TERMS)
    assert table.get(absent) is None
    assert table.get(absent, -1) == -1
    assert absent not in table
    with pytest.raises(KeyError):
        table[absent]


def test_term_table_compares_the_stored_term_when_hashes_collide(monkeypatch):
    monkeypatch.setattr(tables, "term_hash", lambda term: 42)  # every term collides
    table = TermTable.of(TERMS)
    for position, term in enumerate(TERMS):
        assert table.get(term) == position
    assert table.get("sciatica") is None


def test_term_table_of_a_vocabulary_keeps_its_ids():
    vocabulary = {"pain": 2, "back": 0, "back pain": 1}
    table = TermTable.of_vocabulary(vocabulary)
    assert dict(table.items()) == vocabulary


def test_term_hash_is_stable_across_runs():
    # A saved index is looked up by these values in other processes: they must never change.
    assert term_hash("back pain") == term_hash("back pain")
    assert term_hash("needl") == int.from_bytes(
        __import__("hashlib").blake2b(b"needl", digest_size=8).digest(), "little")


def test_empty_tables_work():
    table = TermTable.of([])
    assert len(table) == 0 and table.get("x") is None and list(table) == []
    assert len(StringTable.of([])) == 0


def test_string_table_rejects_offsets_that_do_not_fit_its_data():
    with pytest.raises(ValueError):
        StringTable(np.frombuffer(b"abc", dtype=np.uint8), np.array([0, 2, 5]))


def test_string_table_indexes_like_a_list():
    table = StringTable.of(["a", "bb", "ccc"])
    assert table[-1] == "ccc" and table[0:2] == ["a", "bb"]
    assert table == ["a", "bb", "ccc"] and table != ["a", "bb"]
    with pytest.raises(IndexError):
        table[3]


def test_passage_table_decodes_the_passages_it_was_made_of(topic_passages):
    table = PassageTable.of(topic_passages)
    assert len(table) == len(topic_passages)
    assert table == topic_passages
    assert list(table) == topic_passages
    assert table[1] == topic_passages[1] and table[-1] == topic_passages[-1]
    with pytest.raises(IndexError):
        table[len(topic_passages)]


def test_term_rows_give_each_term_its_rows():
    rows = TermRows.of({"cup": [1, 4], "moxa": [2], "needl": []})
    assert rows.get("cup").tolist() == [1, 4]
    assert rows.get("moxa").tolist() == [2]
    assert rows.get("needl").tolist() == []
    assert rows.get("gua sha") is None
    assert rows.to_dict() == {"cup": [1, 4], "moxa": [2], "needl": []}


def test_a_term_table_answers_the_same_from_its_recent_lookups():
    table = TermTable.of(["needl", "pain", "back pain"])
    for _ in range(2):  # the second round is answered from the remembered lookups
        assert [table.get(t) for t in ("pain", "needl", "back pain")] == [1, 0, 2]
        assert table.get("sciatica") is None and table.get("sciatica", -1) == -1
        assert "pain" in table and "sciatica" not in table
