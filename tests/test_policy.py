"""The answer policy on labelled questions: the targets of the chat service."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatbot.answer.policy import UNSURE_ANSWER, PolicySettings, Responder
from chatbot.evaluate import corpus_responder, evaluate_kinds, read_eval_file
from conftest import DEFAULT_CORPUS

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def responder() -> Responder:
    return corpus_responder(DEFAULT_CORPUS)


@pytest.fixture(scope="module")
def kinds(responder, default_index):
    questions = [q for name in ("dev", "extra", "out_of_scope") for q in read_eval_file(DATA / f"{name}.jsonl")]
    return evaluate_kinds(lambda q: responder.respond(q, default_index).kind, questions)


def test_at_least_93_percent_of_answerable_questions_are_answered(kinds):
    # 0.95 until the confidence model learned which questions read like those no passage
    # answers (index/unanswered_like.py): left out, it declines more near-domain questions of
    # the fresh sets than it costs answers (README, "Quality"), and here it costs two of 58
    # ("can acupuncture help arthritis in my back?" reads like a condition the pages skip).
    assert kinds["answer"]["rate"] >= 0.93, kinds["answer"]["wrong"]


def test_at_least_90_percent_of_out_of_scope_questions_get_no_answer(kinds):
    # The calibrated threshold trades a little here (48/50 -> 47/50) for answering
    # more of the questions visitors word their own way (fresh set 61/95 -> 66/95).
    assert kinds["no_answer"]["questions"] >= 40
    assert kinds["no_answer"]["rate"] >= 0.90, kinds["no_answer"]["wrong"]


def test_every_urgent_and_smalltalk_dev_message_gets_its_kind(kinds):
    assert kinds["urgent"]["rate"] == 1.0 and kinds["smalltalk"]["rate"] == 1.0


def test_every_warning_sign_message_is_urgent_and_no_ordinary_one_is(responder, default_index):
    cases = [json.loads(line) for line in (DATA / "urgent_cases.jsonl").read_text().splitlines() if line.strip()]
    for case in cases:
        kind = responder.respond(case["message"], default_index).kind
        assert (kind == "urgent") == case["urgent"], case["message"]


def test_an_urgent_reply_carries_no_passages_and_says_to_seek_care(responder, default_index):
    answer = responder.respond("I'm thinking about ending my life", default_index)
    assert answer.kind == "urgent" and answer.passages == () and "988" in answer.reply


def test_a_no_answer_still_offers_the_closest_passages(responder, default_index):
    answer = responder.respond("What are the symptoms of the flu?", default_index, top_k=3)
    assert answer.kind == "no_answer" and len(answer.passages) >= 1
    assert "don't have a reliable answer" in answer.reply


def test_a_question_wrapped_in_context_is_answered_when_it_alone_finds_the_same_passage(responder,
                                                                                       default_index):
    # The bakery sentence has words no document uses; the question alone is sure of the
    # passage the whole message ranks first, so that passage is the answer.
    message = "I run a bakery and I'm on my feet all day. Where do the needles actually go for lower back pain?"
    whole = default_index.search(message, 3)
    alone = default_index.search("Where do the needles actually go for lower back pain?", 1)
    assert whole[0].passage.id == alone[0].passage.id
    assert default_index.answer_probability(message, default_index.search(message, 10)) < 0.7
    answer = responder.respond(message, default_index)
    assert answer.kind == "answer"
    assert [p.id for p in answer.passages] == [h.passage.id for h in whole]


@pytest.mark.parametrize("message", [
    "My cat keeps sleeping on my laptop. Can acupuncture cure hairballs?",
    "Long story short, my landlord is a nightmare. Do you take housing benefit?",
])
def test_a_wrapped_question_the_documents_cannot_answer_still_gets_no_answer(responder, default_index, message):
    assert responder.respond(message, default_index).kind == "no_answer"


def test_an_unsure_answer_gives_way_to_smalltalk_the_learned_model_is_sure_of(responder, default_index):
    # "take care" meets "carefully take out the needles": answerable on the threshold, but
    # below UNSURE_ANSWER, and the learned smalltalk model reads a goodbye.
    message = "ok that's it from me, take care"
    confidence = default_index.answer_probability(message, default_index.search(message, 10))
    assert responder.settings.threshold <= confidence < UNSURE_ANSWER
    assert responder.smalltalk.classify(message) is None      # no wording of the file matches
    assert responder.respond(message, default_index).kind == "smalltalk"


def test_an_answer_quotes_its_best_sentence_and_names_its_source(responder, default_index):
    answer = responder.respond("Are acupuncture needles sterile?", default_index)
    best = answer.passages[0]
    assert best.highlight in best.text and best.highlight in answer.reply
    assert f"Source: {best.source.title}" in answer.reply
    assert "not medical advice" in answer.reply


def test_close_candidates_about_other_topics_become_suggestions(make_corpus, topic_files):
    from chatbot.build import build_index
    files = {**topic_files,
             "a.md": "## Needles for sciatica\n\nFine needles help sciatica and leg pain in many patients.\n",
             "b.md": "## Needles for headaches\n\nFine needles help headaches and neck tension in many patients.\n"}
    index = build_index(make_corpus(files)).index
    responder = Responder(corpus_responder(DEFAULT_CORPUS).urgent_screen, PolicySettings(threshold=0.05))
    answer = responder.respond("Do fine needles help patients?", index)
    assert set(answer.suggestions) & {"Needles for sciatica", "Needles for headaches"}
    assert all(s != (answer.passages[0].question or answer.passages[0].source.section) for s in answer.suggestions)


def test_a_higher_threshold_turns_answers_into_no_answers(default_index):
    strict = Responder(corpus_responder(DEFAULT_CORPUS).urgent_screen, PolicySettings(threshold=0.99))
    assert strict.respond("Are acupuncture needles sterile?", default_index).kind == "no_answer"


def test_policy_from_settings_takes_the_clinics_values(tmp_path):
    from chatbot.answer.policy import policy_from_settings
    from chatbot.settings import resolve_settings
    settings = resolve_settings(tmp_path, environ={}, test_config={
        "CHATBOT_ANSWER_THRESHOLD": 0.7, "CHATBOT_SUGGESTION_MARGIN": 0.6,
        "CHATBOT_CONTACT_TEXT": "Call us.", "CHATBOT_NOTICE": "Not advice.", "CHATBOT_CLINIC_NAME": "Oak"})
    policy = policy_from_settings(settings)
    assert (policy.threshold, policy.suggestion_margin, policy.contact_text, policy.notice,
            policy.clinic_name) == (0.7, 0.6, "Call us.", "Not advice.", "Oak")


def test_reply_kinds_are_the_strings_clients_and_stored_rows_already_use():
    import json as json_module

    from chatbot.answer.kinds import ReplyKind
    assert [kind.value for kind in ReplyKind] == ["answer", "no_answer", "urgent", "smalltalk"]
    assert ReplyKind.NO_ANSWER == "no_answer" and f"{ReplyKind.URGENT}" == "urgent"
    assert json_module.dumps({"kind": ReplyKind.SMALLTALK}) == '{"kind": "smalltalk"}'


def _clinic_responder(tmp_path, **settings) -> Responder:
    from chatbot.answer.policy import policy_from_settings
    from chatbot.settings import resolve_settings
    return Responder(corpus_responder(DEFAULT_CORPUS).urgent_screen,
                     policy_from_settings(resolve_settings(tmp_path, environ={}, test_config=settings)))


def test_the_emergency_and_crisis_settings_reach_the_urgent_replies(tmp_path, default_index):
    responder = _clinic_responder(tmp_path, CHATBOT_EMERGENCY_NUMBER="999", CHATBOT_CRISIS_NUMBER="116 123",
                                  CHATBOT_URGENT_MEDICAL_REPLY="Call {emergency_number} now.")
    medical = responder.respond("I fell off a ladder and now my back hurts terribly", default_index)
    assert (medical.kind, medical.reply) == ("urgent", "Call 999 now.")
    self_harm = responder.respond("I'm thinking about ending my life", default_index)
    assert self_harm.kind == "urgent" and "116 123" in self_harm.reply and "988" not in self_harm.reply


def test_the_default_settings_keep_the_us_numbers(tmp_path, default_index):
    responder = _clinic_responder(tmp_path)
    assert "(911 in the US)" in responder.respond("I have crushing chest pain", default_index).reply


def test_the_no_answer_sentence_is_a_setting(tmp_path, default_index):
    responder = _clinic_responder(tmp_path, CHATBOT_NO_ANSWER_TEXT="Our documents do not cover that.",
                                  CHATBOT_CONTACT_TEXT="Call 555-0100.")
    answer = responder.respond("What are the symptoms of the flu?", default_index)
    assert answer.kind == "no_answer"
    assert answer.reply.startswith("Our documents do not cover that. Call 555-0100.")
    assert "reliable answer" not in answer.reply


def test_the_default_no_answer_reply_is_unchanged(tmp_path, default_index):
    answer = _clinic_responder(tmp_path).respond("What are the symptoms of the flu?", default_index)
    assert answer.reply == ("I'm sorry, I don't have a reliable answer to that in the clinic's information. "
                            "Please contact the clinic by phone or through the contact page of this website, "
                            "and a member of our team will be glad to help. "
                            "Some passages that may be related are listed below.")
