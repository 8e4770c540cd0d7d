"""corpus/questions.txt: the questions each passage answers, joined to passages by a quote."""
from __future__ import annotations

import math

import pytest

from chatbot.build import build_index
from chatbot.corpus.model import CorpusError
from chatbot.index import PassageIndex
from chatbot.index.artifact import load_index, save_index
from chatbot.index.passage_index import UNANSWERED_LIST_FULL
from chatbot.passages.questions_file import parse_questions, questions_by_passage, unanswered_questions

QUESTIONS = """# what visitors ask
[Cupping places glass or silicone cups]
will it leave round red marks   # a comment after a question
is the thing with glasses good for a knotted neck

[usually cause only a brief prick]
do the pins sting
"""


def test_a_file_is_read_as_sections_of_a_quote_and_its_wordings():
    sections, errors = parse_questions(QUESTIONS)
    assert errors == []
    assert [(s.quote, s.line, s.wordings) for s in sections] == [
        ("cupping places glass or silicone cups", 2,
         ("will it leave round red marks", "is the thing with glasses good for a knotted neck")),
        ("usually cause only a brief prick", 6, ("do the pins sting",))]


@pytest.mark.parametrize("text, line, message", [
    ("do the pins sting\n", 1, "must come under a [quote]"),
    ("[a brief prick]\ndo the pins sting\n", 1, "at least 4 words"),
    ("[usually cause only a brief prick\ndo the pins sting\n", 1, "must end with ']'"),
    ("[usually cause only a brief prick]\n\n[Cupping places glass or silicone cups]\nmarks?\n", 1, "no questions"),
    ("[usually cause only a brief prick]\n" + "why " * 80 + "\n", 2, "at most 300 characters"),
    ("[usually cause only a brief prick]\n?!\n", 2, "has no words"),
])
def test_a_faulty_line_is_reported_with_its_number(text, line, message):
    _, errors = parse_questions(text)
    assert [(e.line, message in e.message) for e in errors] == [(line, True)]


def test_questions_under_a_faulty_quote_are_left_out_without_a_report_of_their_own():
    sections, errors = parse_questions("[too short]\ndo the pins sting\nand this\n")
    assert sections == [] and [e.line for e in errors] == [1]


def test_a_quote_joins_its_wordings_to_the_one_passage_that_contains_it(make_passage):
    passages = [make_passage("cupping", "Cupping places glass or silicone cups on the skin."),
                make_passage("needles", "The needles usually cause only a brief prick,\nthen warmth.")]
    sections, _ = parse_questions("[CUPPING places glass, or silicone]\nmarks?\n"
                                  "[only a brief prick then warmth]\ndo the pins sting\n")
    found, errors = questions_by_passage(passages, sections)
    assert errors == []
    assert found == {passages[0].id: ("marks?",), passages[1].id: ("do the pins sting",)}


def test_a_quote_in_no_passage_or_in_several_is_reported_and_left_out(make_passage):
    passages = [make_passage("a", "Rest after the session and drink water."),
                make_passage("b", "Rest after the session and avoid heavy lifting.")]
    sections, _ = parse_questions("[rest after the session]\nwhat now\n"
                                  "[rest after the session and drink]\ncan i drink\n"
                                  "[words that are nowhere at all]\nwhere\n")
    found, errors = questions_by_passage(passages, sections)
    assert found == {passages[0].id: ("can i drink",)}
    assert [(e.line, e.message.split(" ")[0]) for e in errors] == [(1, "2"), (5, "no")]


def test_a_built_index_finds_a_passage_from_a_question_worded_only_like_its_written_questions(
        make_corpus, topic_files):
    question = "would it leave round red marks"  # no word of it is in the documents
    without = build_index(make_corpus(topic_files)).index
    assert [h.passage.source.doc_id for h in without.search(question, 1)] != ["cupping"]
    files = topic_files | {"questions.txt": QUESTIONS}
    result = build_index(make_corpus(files))
    assert result.errors == []
    assert result.report["passages_with_written_questions"] == 2
    assert result.index.search(question, 1)[0].passage.source.doc_id == "cupping"
    shown = next(p for p in result.index.passages_ if p.source.doc_id == "cupping")
    assert shown.question is None and shown.text.startswith("Cupping places")  # what visitors read is unchanged


def test_wordings_staff_taught_from_the_inbox_come_after_the_files(make_corpus, topic_files):
    corpus = make_corpus(topic_files | {"questions.txt": QUESTIONS})
    cupping = next(p for p in build_index(corpus).index.passages_ if p.source.doc_id == "cupping")
    taught = build_index(corpus, taught_questions={cupping.id: ("does it bruise", "will it leave round red marks")})
    passage = next(p for p in taught.index.passages_ if p.id == cupping.id)
    assert passage.alternates == ("will it leave round red marks",
                                  "is the thing with glasses good for a knotted neck", "does it bruise")


def test_a_faulty_questions_file_is_reported_by_a_build_and_refused_by_a_strict_one(make_corpus, topic_files):
    corpus = make_corpus(topic_files | {"questions.txt": "[words that are nowhere at all]\nwhere\n"})
    assert [str(e) for e in build_index(corpus).errors] == [
        "questions.txt:1: no passage contains 'words that are nowhere at all': copy the words from the document"]
    with pytest.raises(CorpusError):
        build_index(corpus, strict=True)


def test_the_questions_file_is_not_read_as_knowledge(make_corpus, topic_files):
    index = build_index(make_corpus(topic_files | {"questions.txt": QUESTIONS})).index
    assert {p.source.doc_id for p in index.passages_} == {p.source.doc_id for p in
                                                           build_index(make_corpus(topic_files)).index.passages_}


def test_how_closely_a_visitor_asked_a_written_question_is_a_confidence_signal(make_corpus, topic_files):
    index = build_index(make_corpus(topic_files | {"questions.txt": QUESTIONS})).index

    def question_match(question: str) -> float:
        return index.answer_features(question, index.search(question, 3))["question_match"]

    assert index.search("will it leave round red marks", 1)[0].passage.source.doc_id == "cupping"
    assert question_match("will it leave round red marks") > question_match("will it leave marks on my legs") > 0
    assert index.search("how does acupuncture relieve stiffness", 1)[0].passage.source.doc_id == "acupuncture"
    assert question_match("how does acupuncture relieve stiffness") == 0.0  # no written questions there


def test_questions_of_a_document_staff_hid_are_left_out_without_a_report(make_corpus, topic_files):
    corpus = make_corpus(topic_files | {"questions.txt": QUESTIONS})
    result = build_index(corpus, hidden_files=frozenset({"cupping.md"}))
    assert result.errors == []
    assert result.report["passages_with_written_questions"] == 1  # the needles' section only


NOT_ANSWERED = """[no passage]
do you take my health insurance
can acupuncture help with tinnitus
"""


def test_questions_no_passage_answers_are_listed_apart_and_joined_to_no_passage(make_passage):
    sections, errors = parse_questions(QUESTIONS + NOT_ANSWERED)
    assert errors == []
    assert unanswered_questions(sections) == ("do you take my health insurance", "can acupuncture help with tinnitus")
    passages = [make_passage("cupping", "Cupping places glass or silicone cups on the skin."),
                make_passage("needles", "The needles usually cause only a brief prick.")]
    found, errors = questions_by_passage(passages, sections)
    assert errors == [] and sorted(found) == sorted(p.id for p in passages)


def test_how_closely_a_visitor_asked_a_question_no_passage_answers_is_a_confidence_signal(
        make_corpus, topic_files, tmp_path):
    index = build_index(make_corpus(topic_files | {"questions.txt": QUESTIONS + NOT_ANSWERED})).index

    def unanswered_match(some_index, question: str) -> float:
        return some_index.answer_features(question, some_index.search(question, 3))["unanswered_match"]

    listed = unanswered_match(index, "does my health insurance cover acupuncture")
    assert listed > unanswered_match(index, "do the needles cause a brief prick") >= 0
    # Without a list the signal is unknown, and the model counts it at its mean: the
    # probability is the one it gives a question exactly as close as the average one.
    bare = build_index(make_corpus(topic_files)).index
    question = "does my health insurance cover acupuncture"
    features = bare.answer_features(question, bare.search(question, 3))
    assert math.isnan(features["unanswered_match"])
    model = bare.confidence_
    at_mean = features | {"unanswered_match": model.means[model.features.index("unanswered_match")]}
    assert model.probability(features) == pytest.approx(model.probability(at_mean))
    assert model.probability(features | {"unanswered_match": 1.0}) < model.probability(at_mean)
    save_index(index, tmp_path / "saved")
    loaded, _ = load_index(tmp_path / "saved")
    assert unanswered_match(loaded, "does my health insurance cover acupuncture") == pytest.approx(listed)


def test_a_short_list_counts_in_full_only_where_a_question_comes_close_to_it(make_corpus, topic_files):
    # Two listed questions say little about a question far from both: it must not look
    # "surely answerable" next to a clinic with no list, where the signal is at its mean.
    index = build_index(make_corpus(topic_files | {"questions.txt": QUESTIONS + NOT_ANSWERED})).index
    mean = index.confidence_.mean_of("unanswered_match")

    def signal_and_raw(question: str) -> tuple[float, float]:
        raw = float(index.unanswered_match_.scores(list(index._parsed(question).intent))[0])
        return index.answer_features(question, index.search(question, 3))["unanswered_match"], raw

    far, far_raw = signal_and_raw("do the needles cause a brief prick")
    assert far_raw < mean and far_raw < far < mean
    assert far == pytest.approx(mean + (far_raw - mean) * len(index.unanswered) / UNANSWERED_LIST_FULL)
    close, close_raw = signal_and_raw("does my health insurance cover acupuncture")
    assert close_raw > mean and close == close_raw
    long_list = PassageIndex(unanswered=tuple(f"question number {n} about {n} things" for n in range(200)))
    long_list.fit(index.passages_)
    question = "do the needles cause a brief prick"
    raw = float(long_list.unanswered_match_.scores(list(long_list._parsed(question).intent))[0])
    assert long_list.answer_features(question, long_list.search(question, 3))["unanswered_match"] == raw


def test_a_passage_with_written_questions_scores_its_relevance_leaning_on_their_match(make_passage):
    # score = (1 - e) * relevance + e * question match, e = written_question_weight; a passage
    # without written questions scores its relevance alone, whatever e is.
    passages = [make_passage("cupping", "Cupping uses suction cups on the back muscles to loosen them.",
                             alternates=("will it leave marks on my skin",)),
                make_passage("fading", "Marks on the skin fade within days after any treatment of the skin.")]
    question = "will suction leave marks on my skin"
    plain = PassageIndex(written_question_weight=0.0).fit(passages)
    leaning = PassageIndex(written_question_weight=0.4).fit(passages)
    match = leaning.question_match_.scores(list(leaning._parsed(question).intent))
    expected = 0.6 * plain.scores(question) + 0.4 * match
    assert leaning.scores(question)[0] == pytest.approx(expected[0])
    assert leaning.scores(question)[1] == pytest.approx(plain.scores(question)[1])
    assert match[0] > 0 and match[1] == 0
