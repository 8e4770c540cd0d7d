"""The smalltalk learned from the staff's files: scikit-learn's numbers as plain data, asked only
when retrieval would not answer, never taking a labelled question for chat, saved with each version."""
from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import hstack

from chatbot.answer.kinds import ReplyKind
from chatbot.answer.policy import Responder
from chatbot.answer.smalltalk import Smalltalk
from chatbot.answer.smalltalk_model import (
    MIXES,
    MODEL_FILE,
    NOT_SMALLTALK,
    SmalltalkModel,
    fit_smalltalk_model,
    fitted_pipeline,
    training_examples,
)
from chatbot.answer.urgent import UrgentScreen
from chatbot.answer.version_rules import load_responder, version_files
from chatbot.build import publish_build
from chatbot.evaluate import corpus_responder
from chatbot.settings import default_settings
from conftest import DEFAULT_CORPUS

DATA = Path(__file__).resolve().parent / "data"
SMALL_FILE = """
[greeting]
reply: Hello!
hi
hello there
good morning
[thanks]
reply: You're welcome!
thanks
thank you so much
cheers for that
[about_bot]
reply: I'm a bot.
are you a bot
is this a robot
who made this chatbot
"""
QUESTIONS = ["does acupuncture hurt", "how long does a session take", "do you take insurance",
             "can it help my sciatica", "is it safe in pregnancy", "what should i wear",
             "how many sessions will i need", "are the needles clean"]
SAMPLES = ["hi", "thanks so much!", "are you a real robot", "does it hurt?", "", "é café naïve",
           "cheers, does acupuncture help sciatica?"]


def _jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text("utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def shipped_responder() -> Responder:
    return corpus_responder(DEFAULT_CORPUS)


@pytest.mark.parametrize("sections", [None, "greeting"])
def test_the_plain_model_gives_scikit_learns_probabilities(sections):
    text = SMALL_FILE if sections is None else SMALL_FILE.split("[thanks]")[0]   # one section: two classes
    smalltalk, errors = Smalltalk.from_text(text)
    assert errors == []
    model = fit_smalltalk_model(smalltalk, text, QUESTIONS)
    vectorizers, regression = fitted_pipeline(*training_examples(smalltalk, QUESTIONS))
    texts = [smalltalk.canonical_text(s) for s in SAMPLES]
    expected = regression.predict_proba(hstack([v.transform(texts) for v in vectorizers]).tocsr())
    got = np.array([[model.probabilities(t)[name] for name in regression.classes_] for t in texts])
    assert model.intents == tuple(regression.classes_)
    np.testing.assert_allclose(got, expected, atol=2e-3)


def test_nothing_to_learn_without_wordings_or_questions():
    smalltalk, _ = Smalltalk.from_text(SMALL_FILE)
    assert fit_smalltalk_model(smalltalk, SMALL_FILE, []) is None
    assert fit_smalltalk_model(Smalltalk(), "", QUESTIONS) is None
    tiny, _ = Smalltalk.from_text("[greeting]\nreply: Hi!\nk\n")
    assert fit_smalltalk_model(tiny, "x", ["a", "b"]) is None   # single letters: no word n-grams


def test_a_greeting_around_a_question_is_taught_as_a_question():
    smalltalk, _ = Smalltalk.from_text(SMALL_FILE)
    texts, labels = training_examples(smalltalk, QUESTIONS)
    mixed = [t for t, label in zip(texts, labels, strict=True)
             if label == NOT_SMALLTALK and t not in {smalltalk.canonical_text(q) for q in QUESTIONS}]
    assert len(mixed) == MIXES * len(QUESTIONS)
    assert training_examples(smalltalk, QUESTIONS) == (texts, labels)   # the same examples every build


class _AlwaysChat:
    """A model that calls every message a greeting."""
    def classify(self, smalltalk, message):
        from chatbot.answer.smalltalk import SmalltalkMatch
        return SmalltalkMatch("greeting")


def test_the_model_is_asked_only_when_retrieval_would_not_answer(default_index, shipped_responder):
    responder = Responder(UrgentScreen.load(DEFAULT_CORPUS / "urgent.txt")[0], shipped_responder.settings,
                          shipped_responder.smalltalk, _AlwaysChat())
    assert responder.respond("does acupuncture hurt?", default_index).kind == ReplyKind.ANSWER
    assert responder.respond("what is the capital of peru", default_index).kind == ReplyKind.SMALLTALK
    assert (responder.respond("my chest is crushing and my left arm is numb", default_index).kind
            == ReplyKind.URGENT)


@pytest.mark.parametrize("message, intent", [("who coded this chatbot thing", "about_bot"),
                                             ("ta muchly", "thanks"), ("howdy partner", "greeting")])
def test_smalltalk_in_words_no_wording_has_is_recognised(default_index, shipped_responder, message, intent):
    assert shipped_responder.smalltalk.classify(message) is None   # the file's wordings miss it
    answer = shipped_responder.respond(message, default_index)
    assert answer.kind == ReplyKind.SMALLTALK
    assert shipped_responder.smalltalk_model.classify(shipped_responder.smalltalk, message).intent == intent


def test_labelled_questions_are_not_taken_for_smalltalk(default_index, shipped_responder):
    """Of the messages of the test data that are not smalltalk (questions of every set, the blind
    sets' lookalikes, the distressed and out-of-scope messages), at most one in a thousand gets a
    smalltalk reply: the limit the threshold was chosen under (chatbot.evaluation.smalltalk_model)."""
    others = [row.get("q") or row["message"] for path in sorted(DATA.glob("*.jsonl"))
              for row in _jsonl(path.name) if not row.get("smalltalk") and row.get("expect") != "smalltalk"]
    assert len(others) > 1500
    taken = [m for m in others if shipped_responder.respond(m, default_index).kind == ReplyKind.SMALLTALK]
    assert len(taken) <= len(others) // 1000, taken


def test_a_version_keeps_its_model_and_serving_reads_it(tmp_path, default_build):
    corpus = tmp_path / "corpus"
    shutil.copytree(DEFAULT_CORPUS, corpus)
    version = publish_build(default_build, tmp_path / "index", corpus)
    folder = tmp_path / "index" / "versions" / version
    assert (folder / MODEL_FILE).is_file()
    responder, _ = load_responder(folder, default_settings())
    saved = SmalltalkModel.from_json(json.loads((folder / MODEL_FILE).read_text("utf-8")))
    assert responder.smalltalk_model == saved
    assert set(version_files(corpus)) == {"urgent.txt", "smalltalk.txt", MODEL_FILE}


def test_a_stale_or_broken_saved_model_is_fitted_again(tmp_path, default_build, caplog):
    version = publish_build(default_build, tmp_path / "index", DEFAULT_CORPUS)
    folder = tmp_path / "index" / "versions" / version
    (folder / "smalltalk.txt").write_text(SMALL_FILE, encoding="utf-8")   # not the text the model was fitted on
    responder, _ = load_responder(folder, default_settings(), fallback_dir=DEFAULT_CORPUS)
    assert set(responder.smalltalk_model.intents) == {NOT_SMALLTALK, "greeting", "thanks", "about_bot"}
    (folder / MODEL_FILE).write_text('{"intents": ["x"]', encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        responder, _ = load_responder(folder, default_settings(), fallback_dir=DEFAULT_CORPUS)
    assert responder.smalltalk_model is not None
    assert MODEL_FILE in caplog.text
    # Without questions to learn from there is no model, and the file's wordings still work.
    responder, _ = load_responder(folder, default_settings())
    assert responder.smalltalk_model is None
    assert responder.smalltalk.classify("hello there") is not None


@pytest.mark.parametrize("change", [
    lambda d: d.update(intents=d["intents"][:-1]),
    lambda d: d["words"].update({"zz": [1.0]}),
    lambda d: d.pop("chars"),
])
def test_a_model_file_that_is_not_one_is_refused(change):
    smalltalk, _ = Smalltalk.from_text(SMALL_FILE)
    data = json.loads(json.dumps(fit_smalltalk_model(smalltalk, SMALL_FILE, QUESTIONS).to_json()))
    change(data)
    with pytest.raises((ValueError, KeyError)):
        SmalltalkModel.from_json(data)
