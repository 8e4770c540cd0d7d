"""Ranking and confidence behaviour that must hold on questions nobody tuned for.

The quality floors run on the fresh sets (tests/data/fresh.jsonl to fresh15.jsonl),
each written from the documents before the changes it judged; README "Quality"
has the figures.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from chatbot.evaluate import corpus_responder, evaluate_retrieval, read_eval_file
from chatbot.index import PassageIndex
from chatbot.index.answer_types import (
    CLOCK_TIME,
    DEFINITION,
    MONEY,
    QUANTITY,
    question_type,
    states_clock_time,
    states_money,
)
from chatbot.index.artifact import load_index, save_index
from chatbot.index.confidence import FEATURES, ConfidenceModel, load_model
from chatbot.text import without_letter_framing
from conftest import DEFAULT_CORPUS

DATA = Path(__file__).resolve().parent / "data"
# Floors a little below each fresh set's measured figures (README "Quality": hit@3
# 0.937 / 0.974 / 0.900 / 0.915 / 0.924 / 0.989 / 0.908 / 0.897 / 0.904, no_answer 1.000 / 1.000 /
# 0.967 / 0.926 / 0.925 / 0.771 / 0.767 / 0.780 / 0.756): a change that costs answers or
# abstentions on unseen wording fails here. fresh12 and fresh13 (eleventh
# session): hit@3 0.932 and 0.951, no_answer 0.900 and 0.975. fresh14 and fresh15
# (fifteenth session, measured as they came): hit@3 0.970 and 0.979, no_answer 0.907 and 0.891.
FRESH_FLOORS = {  # file: (hit@3 floor, no_answer floor)
    "fresh.jsonl": (0.88, 0.90), "fresh2.jsonl": (0.90, 0.80),
    "fresh3.jsonl": (0.85, 0.78), "fresh4.jsonl": (0.83, 0.80), "fresh5.jsonl": (0.85, 0.72),
    "fresh6.jsonl": (0.93, 0.68), "fresh7.jsonl": (0.84, 0.70), "fresh8.jsonl": (0.85, 0.70),
    "fresh9.jsonl": (0.86, 0.70), "fresh10.jsonl": (0.93, 0.70),
    "fresh11.jsonl": (0.93, 0.80), "fresh12.jsonl": (0.90, 0.80),
    "fresh13.jsonl": (0.92, 0.85), "fresh14.jsonl": (0.93, 0.85), "fresh15.jsonl": (0.94, 0.83)}


@dataclass(frozen=True)
class FreshSet:
    questions: list
    hit_at_3_floor: float
    no_answer_floor: float


@pytest.fixture(scope="module", params=sorted(FRESH_FLOORS))
def fresh(request):
    """Each fresh set, with its floors; each was written before the changes it judged."""
    return FreshSet(read_eval_file(DATA / request.param), *FRESH_FLOORS[request.param])


@pytest.fixture(scope="module")
def responder():
    return corpus_responder(DEFAULT_CORPUS)


def test_fresh_questions_find_a_right_passage_in_the_top_three(default_index, fresh):
    report = evaluate_retrieval(default_index, fresh.questions)
    assert report.questions >= 70
    assert report.hit_at_3 >= fresh.hit_at_3_floor, [(q.question, rank) for q, rank, _ in report.misses]


def test_fresh_questions_the_documents_cannot_answer_get_no_answer(default_index, fresh, responder):
    unanswerable = [q.question for q in fresh.questions if q.expect == "no_answer"]
    answered = [q for q in unanswerable if responder.respond(q, default_index).kind != "no_answer"]
    assert len(unanswerable) >= 20
    assert 1 - len(answered) / len(unanswerable) >= fresh.no_answer_floor, answered


def test_an_faq_entry_is_found_from_a_rewording_that_shares_only_its_intent_word(make_passage):
    # Both entries are about the next session; only "when" tells them apart,
    # and question words used to be dropped as stop words.
    passages = [make_passage("faq", "The practitioner checks how you responded and adjusts the points.",
                             question="What happens in the next session?"),
                make_passage("faq", "Usually about a week later.", question="When is the next session?")]
    index = PassageIndex().fit(passages)
    assert index.search("when will my next session be", 1)[0].passage.question == "When is the next session?"


def test_an_alternate_wording_counts_as_much_as_the_question(make_passage):
    passages = [make_passage("faq", "Yes, most plans cover a course of ten sessions.",
                             question="Is acupuncture covered by health plans?",
                             alternates=("does my insurance pay for it",)),
                make_passage("faq", "A session costs the same whether or not you are insured.",
                             question="How much does a session cost?")]
    index = PassageIndex().fit(passages)
    assert index.search("will insurance pay for this", 1)[0].passage.question.startswith("Is acupuncture covered")


def test_a_passage_meeting_only_a_side_word_loses_to_one_meeting_the_main_concept(make_passage):
    passages = [make_passage("wear", "Wear loose clothes and shorts so the practitioner can reach "
                                     "your back and your leg without fuss."),
                make_passage("sciatica", "Sciatica is nerve pain that runs from the lower back through "
                                         "the buttock. Needling points along the nerve can ease sciatica."),
                make_passage("diet", "Eat a light meal an hour before your appointment.")]
    index = PassageIndex().fit(passages)
    assert index.search("can it help sciatica down my leg?", 1)[0].passage.source.doc_id == "sciatica"


def test_the_confidence_model_is_saved_and_loaded_with_the_index(default_index, tmp_path):
    save_index(default_index, tmp_path / "v1")
    loaded, _ = load_index(tmp_path / "v1")
    assert loaded.confidence_ == default_index.confidence_ == load_model()
    question = "do the needles hurt?"
    assert loaded.answer_probability(question, loaded.search(question, 10)) == pytest.approx(
        default_index.answer_probability(question, default_index.search(question, 10)))


def test_confidence_is_a_probability_higher_for_a_covered_question_than_an_unrelated_one(default_index):
    def probability(question):
        return default_index.answer_probability(question, default_index.search(question, 10))
    covered, unrelated = probability("is acupuncture safe for back pain?"), probability("how do I knit a scarf?")
    assert 0.0 <= unrelated < covered <= 1.0


@pytest.mark.parametrize("question, kind", [
    ("how much is a session?", MONEY), ("what are your fees", MONEY), ("how much do you charge?", MONEY),
    ("would my health plan cover the cost?", None),
    ("what time do you open on saturdays", CLOCK_TIME), ("are you open on sundays?", CLOCK_TIME),
    ("what are your opening hours", CLOCK_TIME), ("how many sessions will I need?", QUANTITY),
    ("how much is it going to hurt?", QUANTITY), ("is it cheaper than pills?", None),
    ("what is qi?", DEFINITION), ("whats cupping, do they use it with the needles", DEFINITION),
    ("what even is acupuncture", DEFINITION), ("what is it like afterwards and does it hurt?", DEFINITION),
    ("what do the needles do", None), ("how much is one session? do you have a price list", MONEY),
    ("do you have a price list", MONEY), ("how much is a session going to hurt", QUANTITY),
])
def test_the_kind_of_answer_a_question_asks_for(question, kind):
    assert question_type(question).kind == kind


def test_the_defined_term_of_a_misspelt_definition_question_is_looked_up_as_corrected(make_passage):
    index = PassageIndex().fit([
        make_passage("table", "Technique Key Focus\nElectroacupuncture Electric stimulation of the needles"),
        make_passage("defined", "Electroacupuncture is a form of acupuncture where a small electric current "
                                "passes between pairs of needles."),
        make_passage("other", "Cupping places cups on the skin of the back.")])
    assert index.parse_query("what is electroaccupuncture").subject == ("electroacupunctur",)
    assert index.search("what is electroaccupuncture", 1)[0].passage.source.doc_id == "defined"


def test_prices_and_clock_times_are_recognised_in_passages():
    assert states_money("A first session is $85.") and states_money("It costs 45 pounds.")
    assert not states_money("It is cheaper in the long run than pills.")
    assert states_clock_time("We open at 9am and close at 5:30 pm.")
    assert not states_clock_time("The needles stay in for 20 minutes.")


def test_a_price_question_is_less_sure_when_no_passage_states_a_price(make_passage):
    about_sessions = "A session lasts about an hour; most people need six to eight sessions."
    without_price = PassageIndex().fit([make_passage("sessions", about_sessions)])
    with_price = PassageIndex().fit([make_passage("sessions", about_sessions + " Each session costs $70.")])
    question = "how much is a session?"
    features = [index.answer_features(question, index.search(question, 3)) for index in (without_price,
                                                                                          with_price)]
    assert [f["answer_type_met"] for f in features] == [0.0, 1.0]


def test_near_domain_questions_stay_below_the_answer_threshold(default_index, fresh):
    # The clinic's business (prices, hours, insurance) is not in its documents.
    threshold = corpus_responder(DEFAULT_CORPUS).settings.threshold
    questions = ["how much does a session cost?", "what time do you close on fridays?",
                 "do you take my insurance?", "is there parking at the clinic?"]
    sure = {q: default_index.answer_probability(q, default_index.search(q, 10)) for q in questions}
    assert all(p < threshold for p in sure.values()), sure


def test_a_confidence_model_names_its_features_so_an_older_one_still_loads(default_index):
    older = {"features": list(FEATURES[:7]), "coefficients": [0.5] * 7, "intercept": 0.1,
             "means": [0.0] * 7, "scales": [1.0] * 7}
    model = ConfidenceModel.from_dict(older)
    assert model.features == FEATURES[:7] and ConfidenceModel.from_dict(model.to_dict()) == model
    question = "do the needles hurt?"
    features = default_index.answer_features(question, default_index.search(question, 10))
    assert 0.0 < model.probability(features) < 1.0
    with pytest.raises(ValueError, match="features"):
        ConfidenceModel.from_dict(older | {"features": [*FEATURES[:6], "made_up"]})


@pytest.mark.parametrize("framed, inner", [
    ("Dear Sir or Madam, do the needles hurt? Yours faithfully, E. Pritchard", "do the needles hurt?"),
    ("Dear clinic, how long is a session? With thanks, Mr Okafor", "how long is a session?"),
    ("Is it safe in pregnancy? Kind regards, Miss H.", "Is it safe in pregnancy?"),
    ("does it hurt? thanks in advance", "does it hurt?"),
    # Nothing to take away: a "dear" that greets nobody, a closing that is the whole message,
    # a lower-case word after a closing (not a name: the message may go on).
    ("my dear old mum has back pain, can she have acupuncture", None),
    ("Kind regards, Miss H.", None),
    ("I'm asking, sincerely hoping it helps", None),
])
def test_a_letters_salutation_and_sign_off_are_set_aside(framed, inner):
    assert without_letter_framing(framed) == (framed if inner is None else inner)


@pytest.mark.parametrize("question", ["does acupuncture hurt?", "how long does a session take?",
                                      "can I have acupuncture if I am pregnant?"])
def test_a_question_written_as_a_letter_is_answered_as_the_bare_question(default_index, question):
    letter = f"Dear Sir or Madam, {question} Yours faithfully, Mrs E. Pritchard-Jones"
    bare_hits, letter_hits = default_index.search(question, 3), default_index.search(letter, 3)
    assert [h.passage.id for h in letter_hits] == [h.passage.id for h in bare_hits]
    assert default_index.answer_probability(letter, letter_hits) == pytest.approx(
        default_index.answer_probability(question, bare_hits), abs=0.05)
