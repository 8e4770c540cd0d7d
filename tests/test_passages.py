"""Segmentation: passages a visitor can read, lists and tables kept whole, stable ids."""
from __future__ import annotations

import pytest

from chatbot.corpus import parse_document
from chatbot.passages import SegmentOptions, make_passages, split_paragraph
from chatbot.text import split_sentences, word_count


def passages_of(text: str, name: str = "doc.md", options: SegmentOptions = SegmentOptions()):
    document, errors = parse_document(text, name, "." + name.rsplit(".", 1)[1])
    assert errors == []
    return make_passages([document], options)[0]


def test_a_list_stays_with_the_sentence_that_introduces_it():
    passages = passages_of("## Risks\n\nCommon side effects include:\n\n- bruising\n- soreness\n- dizziness\n")
    [passage] = [p for p in passages if "bruising" in p.text]
    assert passage.text.startswith("Common side effects include:")
    assert "soreness" in passage.text and "dizziness" in passage.text
    assert passage.form == "list"


def test_a_long_list_is_cut_into_groups_that_each_repeat_the_introduction():
    items = "\n".join(f"- Item {i} explains one more detail of the treatment plan in plain words." for i in range(30))
    passages = passages_of(f"The plan has these parts:\n\n{items}\n")
    groups = [p for p in passages if p.form == "list"]
    assert len(groups) > 1
    assert all(p.text.startswith("The plan has these parts:") for p in groups)
    assert sum(p.text.count("Item ") for p in groups) == 30


def test_every_table_row_is_kept_with_the_header():
    table = ("Acupoint TCM Name Description\n"
             "BL23 Shenshu Located on the lower back, used for lumbar pain and kidney health\n"
             "GB30 Huantiao Found at the buttocks, effective for sciatica and hip pain\n"
             "LI4 Hegu Found on the hand, used for overall pain relief and inflammation\n")
    passages = passages_of(f"Common points\n\nThe table lists common points:\n{table}", "points.txt")
    rows = [p for p in passages if p.form == "table"]
    assert len(rows) == 3
    assert all(p.text.startswith("Acupoint TCM Name Description\n") for p in rows)
    assert any("Hegu" in p.text for p in rows)


def test_a_markdown_pipe_table_is_read_as_a_table():
    passages = passages_of("| Step | Minutes |\n|---|---|\n| Rest | 15-30 |\n| Removal | 5 |\n")
    [table] = [p for p in passages if p.form == "table"]
    assert "Step | Minutes" in table.text and "Rest | 15-30" in table.text


def test_the_heading_above_a_passage_is_its_section():
    passages = passages_of("# Guide\n\n## Aftercare\n\nDrink water and rest for the remainder of the day.\n")
    assert passages[0].section == "Aftercare"


def test_a_fragment_joins_its_neighbour_in_the_same_section():
    passages = passages_of("## Needles\n\nThey are thin.\n\nMost people feel only a slight pinch, and the "
                           "feeling fades within seconds of the needle settling in place.\n")
    assert len(passages) == 1
    assert passages[0].text.startswith("They are thin.")


def test_fragments_do_not_join_across_sections():
    passages = passages_of("## One\n\nShort text here.\n\n## Two\n\nOther short text.\n")
    assert [p.section for p in passages] == ["One", "Two"]


def test_a_wall_of_text_is_split_at_sentence_boundaries():
    sentence = "Acupuncture sessions usually last around half an hour and are repeated weekly. "
    text = sentence * 20
    chunks = split_paragraph(text.strip(), max_words=60)
    assert len(chunks) > 1
    assert all(word_count(c) <= 60 for c in chunks)
    assert " ".join(chunks) == text.strip()
    assert all(split_sentences(c)[-1].endswith(".") for c in chunks)


def test_passages_stay_within_the_size_target_unless_one_sentence_is_longer():
    options = SegmentOptions(max_words=40, min_words=10)
    text = " ".join(f"Sentence number {i} talks about the needles and the session in some detail." for i in range(40))
    for passage in passages_of(text, options=options):
        assert word_count(passage.text) <= 40 or len(split_sentences(passage.text)) == 1


def test_exact_and_near_duplicate_passages_are_dropped():
    body = ("Acupuncture is a treatment in which very thin needles are placed at chosen points of the body "
            "to relieve pain, and many people with chronic back pain try it after other treatments.")
    near = body.replace("many people", "most people")
    first, _ = parse_document(f"## A\n\n{body}\n", "a.md", ".md")
    second, _ = parse_document(f"## A\n\n{body}\n", "b.md", ".md")
    third, _ = parse_document(f"## A\n\n{near}\n", "c.md", ".md")
    passages, stats = make_passages([first, second, third])
    assert len(passages) == 1 and passages[0].source.doc_id == "a"
    assert stats.exact_duplicates == 1 and stats.near_duplicates == 1


def test_different_passages_sharing_a_few_words_are_both_kept():
    first, _ = parse_document("Acupuncture may ease chronic back pain for many patients over several weeks.",
                              "a.md", ".md")
    second, _ = parse_document("Massage may ease chronic neck stiffness for office workers after a long day.",
                               "b.md", ".md")
    passages, stats = make_passages([first, second])
    assert len(passages) == 2 and stats.near_duplicates == 0


def test_the_same_text_from_the_same_source_keeps_its_id():
    text = "## Risks\n\nBruising is the most common side effect and fades within a few days.\n"
    assert [p.id for p in passages_of(text)] == [p.id for p in passages_of(text)]


def test_a_passage_id_ignores_white_space_but_not_the_source():
    spaced = passages_of("## Risks\n\nBruising   is the most common\nside effect.\n")
    plain = passages_of("## Risks\n\nBruising is the most common side effect.\n")
    other = passages_of("## Risks\n\nBruising is the most common side effect.\n", name="other.md")
    assert spaced[0].id == plain[0].id != other[0].id


def test_the_first_paragraph_of_a_qa_thread_is_the_question_not_an_answer():
    text = ("---\nkind: qa_thread\n---\nDoes it hurt?\n\nI am nervous about needles. Does acupuncture hurt?\n\n"
            "Most patients feel a slight pinch at most, and many feel nothing at all during the session.\n")
    passages = passages_of(text)
    assert all("I am nervous" not in p.text for p in passages)
    assert any("slight pinch" in p.text for p in passages)


@pytest.mark.parametrize("text", ["", "\n\n   \n", "Home\n\nContact Us\n"])
def test_a_document_without_content_yields_an_error_not_a_crash(text):
    document, errors = parse_document(text, "empty.md", ".md")
    assert document is None or make_passages([document])[0] == []
    assert document is not None or errors


_BREAK_SAMPLES = ["One sentence.", "Two. Sentences", "e.g. this", "Dr. Who is here. Yes!", "Wait?!\u201d Then",
                  "no break at all", "3.5 mg. Then more", "end with space. ", "A.\tB", "quote.\" Next", "x.y z"]


def test_the_quick_break_test_finds_a_break_exactly_when_the_full_pattern_does(default_build):
    from chatbot.text import _ANY_BREAK, _INNER_BREAK
    texts = _BREAK_SAMPLES + [line for p in default_build.index.passages_ for line in p.text.split("\n")]
    for text in texts:
        assert bool(_ANY_BREAK.search(text)) == bool(_INNER_BREAK.search(text)), text


def test_defined_terms_skips_only_passages_where_no_pattern_can_match(default_build):
    from chatbot.index.answer_types import _NAMED_AS, _NAMED_AS_OR_WHICH, _WHICH
    from chatbot.index.matrices import sentence_spans
    checked = 0
    for passage in default_build.index.passages_:
        sentences = [passage.text[a:b] for a, b in sentence_spans(passage.text)]
        if any(p.search(s) for p in (_NAMED_AS, _WHICH) for s in sentences):
            assert _NAMED_AS_OR_WHICH.search("\n".join(sentences)), passage.text
            checked += 1
    assert checked > 0
