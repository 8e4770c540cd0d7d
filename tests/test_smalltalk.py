"""Smalltalk: short greetings, thanks, goodbyes and questions about the bot; nothing else."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from chatbot.answer import Smalltalk, SmalltalkMatch
from conftest import DEFAULT_CORPUS
from load_reports import assert_reported

SHIPPED_FILE = DEFAULT_CORPUS / "smalltalk.txt"
SHIPPED = Smalltalk.load(SHIPPED_FILE)[0]


def classify_smalltalk(message: str) -> SmalltalkMatch | None:
    return SHIPPED.classify(message)


def smalltalk_reply(match: SmalltalkMatch, clinic_name: str | None = None) -> str:
    return SHIPPED.reply(match, clinic_name)


DATA = Path(__file__).resolve().parent / "data"


def _jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text("utf-8").splitlines() if line.strip()]


DEV = _jsonl("dev.jsonl")
# Written blind on 2026-12-01 by people who saw neither the file nor the other sets: 95, 109,
# 108, 104 and 98 smalltalk messages of the six kinds, 60-64 lookalikes each; the file was widened
# for each in turn (README, "Smalltalk", has the figures before and left out). Floors, not
# every message: a formal sentence ("may I ask whom I am addressing?") is still missed.
BLIND_SETS = {"smalltalk_blind.jsonl": 0.95, "smalltalk_blind2.jsonl": 0.80, "smalltalk_blind3.jsonl": 0.85,
              "smalltalk_blind4.jsonl": 0.90, "smalltalk_blind5.jsonl": 0.95}


@pytest.mark.parametrize("message, intent", [
    ("hi", "greeting"), ("Hello there", "greeting"), ("good morning", "greeting"),
    ("hey!", "greeting"), ("Hi there :)", "greeting"), ("hiii", "greeting"),
    ("helo", "greeting"), ("good evening everyone", "greeting"), ("how are you?", "greeting"),
    ("thanks", "thanks"), ("thank you so much", "thanks"), ("cheers", "thanks"),
    ("thx", "thanks"), ("thnak you", "thanks"), ("ok thanks a lot!", "thanks"),
    ("Thank you for your help", "thanks"), ("thanks, that was helpful", "thanks"),
    ("bye!", "goodbye"), ("see you", "goodbye"), ("goodbye", "goodbye"), ("byee", "goodbye"),
    ("goodbey", "goodbye"), ("thanks, bye", "goodbye"), ("have a nice day", "goodbye"),
    ("are you a bot?", "about_bot"), ("are you human?", "about_bot"),
    ("who made you?", "about_bot"), ("what are you?", "about_bot"),
    ("what can you do?", "about_bot"), ("who are you", "about_bot"),
    ("hello, are you a real person?", "about_bot"), ("am I talking to a robot", "about_bot"),
    ("help", "about_bot"), ("waht can you do", "about_bot"),
    ("what's your name?", "about_bot"), ("ok", "acknowledge"), ("ok cool", "acknowledge"),
    ("got it, thanks", "thanks"), ("cheers mate", "thanks"), ("alright then", "acknowledge"),
    ("can I talk to a person please", "human"), ("is there a human I can talk to?", "human"),
])
def test_smalltalk_is_recognised(message, intent):
    assert classify_smalltalk(message) == SmalltalkMatch(intent)


@pytest.mark.parametrize("message", [
    "hi, does acupuncture hurt?", "hello, how long do the needles stay in?",
    "thanks, but is it safe?", "thanks, how many sessions do I need?",
    "are you a doctor who does acupuncture?", "what can acupuncture do for back pain?",
    "good", "yes", "no", "", "   ", "ok, how many sessions do I need?",
    "can I talk to a person about acupuncture for my back?", "?!", "hi " * 20, "high", "hell", "help with back pain",
    "who are you going to refer me to?", "bye the way, is cupping safe?",
    "help, my back hurts", "what is acupuncture", "can you help me with sciatica",
    "are you a doctor?", "is this safe?", "what can you do for sciatica?",
])
def test_messages_with_a_real_question_or_no_smalltalk_are_not_smalltalk(message):
    assert classify_smalltalk(message) is None


@pytest.mark.parametrize("row", [r for r in DEV if r["expect"] == "smalltalk"], ids=lambda r: r["id"])
def test_dev_smalltalk_messages_are_recognised(row):
    assert classify_smalltalk(row["q"]) is not None


# Every set that labels reply kinds; fresh7 found apostrophe-less "whats"/"thats"/"id", "software"
# for a bot and "is this thing on" missing, fresh8 "please" and "actually" as fillers and
# made/programmed/built as one word (README, "Smalltalk"). fresh9, fresh10 and fresh11 are left
# out on purpose: their smalltalk misses are kept unread, judges of later changes.
QUESTION_SETS = ("dev", "extra", "fresh", "fresh2", "fresh3", "fresh4", "fresh5", "fresh6", "fresh7", "fresh8")
SUITE_ROWS = [r for name in QUESTION_SETS for r in _jsonl(f"{name}.jsonl")]


def test_every_smalltalk_message_of_the_question_sets_is_recognised_and_nothing_else_is():
    missed = [r["q"] for r in SUITE_ROWS if r["expect"] == "smalltalk" and classify_smalltalk(r["q"]) is None]
    taken = [r["q"] for r in SUITE_ROWS if r["expect"] != "smalltalk" and classify_smalltalk(r["q"]) is not None]
    assert (missed, taken) == ([], [])


@pytest.mark.parametrize("message, intent", [
    ("whats your job here", "about_bot"), ("thats me done", "goodbye"),
    ("id rather speak to someone", "human"), ("is this a human or software", "about_bot"),
])
def test_words_typed_without_their_apostrophe_or_in_other_words_are_read_as_their_family(message, intent):
    assert classify_smalltalk(message) == SmalltalkMatch(intent)


@pytest.mark.parametrize("message, intent", [
    ("Thank you kindly. Regards, Dorothy", "thanks"),
    ("Dear clinic, hello. Kind regards, Mr P. Hughes", "greeting"),
    ("Dear clinic, do you treat sciatica? Kind regards, Anna", None),
])
def test_a_letters_salutation_and_sign_off_are_not_read_as_the_message(message, intent):
    assert classify_smalltalk(message) == (SmalltalkMatch(intent) if intent else None)


@pytest.mark.parametrize("row", [r for r in DEV if r["expect"] in ("answer", "no_answer")],
                         ids=lambda r: r["id"])
def test_dev_questions_are_not_smalltalk(row):
    assert classify_smalltalk(row["q"]) is None


@pytest.mark.parametrize("name", BLIND_SETS)
def test_blind_sets_smalltalk_is_recognised_with_its_kind_and_no_lookalike_is(name):
    rows = _jsonl(name)
    kinds = [(row["smalltalk"], getattr(classify_smalltalk(row["message"]), "intent", None)) for row in rows]
    smalltalk = [(expected, got) for expected, got in kinds if expected is not None]
    assert len(smalltalk) >= 90 and len(kinds) - len(smalltalk) >= 60
    assert [got for expected, got in kinds if expected is None] == [None] * (len(kinds) - len(smalltalk))
    assert sum(expected == got for expected, got in smalltalk) >= BLIND_SETS[name] * len(smalltalk)


def test_matches_are_frozen_values():
    match = classify_smalltalk("hello")
    with pytest.raises(dataclasses.FrozenInstanceError):
        match.intent = "thanks"


@pytest.mark.parametrize("intent", ["greeting", "thanks", "goodbye", "about_bot"])
def test_replies_are_short_plain_text_about_acupuncture_for_back_pain(intent):
    reply = smalltalk_reply(SmalltalkMatch(intent))
    assert "acupuncture for back pain" in reply
    assert len(reply) < 400
    assert not any(mark in reply for mark in ("<", ">", "*", "_", "#", "[", "`", "\n", "{"))


def test_greeting_says_what_the_bot_can_help_with():
    reply = smalltalk_reply(SmalltalkMatch("greeting"))
    assert "what to expect" in reply and "safe" in reply and "how it works" in reply


def test_about_bot_reply_says_it_is_automated_uses_the_clinics_documents_and_gives_no_medical_advice():
    reply = smalltalk_reply(SmalltalkMatch("about_bot"))
    assert "automated assistant" in reply and "not a person" in reply
    assert "the clinic's own documents" in reply
    assert "can't give medical advice" in reply


def test_asking_for_a_person_is_told_how_to_reach_the_clinic():
    reply = SHIPPED.reply(SmalltalkMatch("human"), None, "Call us on 555 0100.")
    assert "automated" in reply and reply.endswith("Call us on 555 0100.")


def test_clinic_name_appears_in_greeting_and_about_bot_replies():
    assert "welcome to Riverside Acupuncture" in smalltalk_reply(SmalltalkMatch("greeting"),
                                                                 "Riverside Acupuncture")
    assert "Riverside Acupuncture's own documents" in smalltalk_reply(
        SmalltalkMatch("about_bot"), "Riverside Acupuncture")
    assert smalltalk_reply(SmalltalkMatch("greeting"), "  ") == smalltalk_reply(
        SmalltalkMatch("greeting"))


@pytest.mark.parametrize("message", [
    "are you a real person or a bot?", "is this a real person", "who am I talking to?",
    "am I chatting with a human", "are you a human or a computer?", "is anyone there?",
    "are you automated?", "Are you a person or a bot?", "hello, are you a human or a robot?",
    "you are a bot?", "who am i talking to right now",
])
def test_questions_about_the_bot_itself_are_recognised(message):
    assert classify_smalltalk(message) == SmalltalkMatch("about_bot")


@pytest.mark.parametrize("message, intent", [
    ("good day", "greeting"), ("hi, anyone there?", "greeting"), ("thanks a lot", "thanks"),
    ("great, thanks", "thanks"), ("ok bye", "goodbye"),
])
def test_everyday_greetings_thanks_and_goodbyes_are_recognised(message, intent):
    assert classify_smalltalk(message) == SmalltalkMatch(intent)


def test_the_shipped_smalltalk_file_loads_without_problems():
    smalltalk, errors = Smalltalk.load(SHIPPED_FILE)
    assert errors == []
    assert [intent.name for intent in smalltalk.intents] == ["greeting", "acknowledge", "thanks", "goodbye",
                                                             "about_bot", "human"]


def test_smalltalk_comes_from_the_file(tmp_path):
    path = tmp_path / "smalltalk.txt"
    path.write_text("# a made-up section\nfiller: ok\n[weather]\nreply: I only know about "
                    "the clinic, not the weather.\nnice weather today\nlovely day\n",
                    encoding="utf-8")
    smalltalk, errors = Smalltalk.load(path)
    assert errors == []
    match = smalltalk.classify("Nice weather today!")
    assert match == SmalltalkMatch("weather")
    assert smalltalk.reply(match) == "I only know about the clinic, not the weather."
    assert smalltalk.classify("ok, lovley day") == SmalltalkMatch("weather")
    assert smalltalk.classify("hi") is None


SECTIONS = """\
[greeting]
reply: Hello!
hi
[about_bot]
reply: I am a bot.
are you a real person or a bot
who am i talking to
is anyone there
"""


@pytest.mark.parametrize("message", [
    "are you a person or a bot", "are you a real person or just a bot", "you are a real person or a bot?",
    "who am I talking to here", "so who am i talking to", "hi, are you a person or a bot?",
    "who am i talking to please",
])
def test_a_message_one_small_word_from_a_wording_matches_it(message):
    smalltalk, _ = Smalltalk.from_text(SECTIONS)
    assert smalltalk.classify(message) == SmalltalkMatch("about_bot")


@pytest.mark.parametrize("message", [
    "are you a person", "are you a doctor or a bot", "who am i talking to about sciatica",
    "are you a person or just a robot", "is anyone", "who am i",
])
def test_a_message_further_from_every_wording_does_not_match(message):
    smalltalk, _ = Smalltalk.from_text(SECTIONS)
    assert smalltalk.classify(message) is None


@pytest.mark.parametrize("message", [
    "hi there, thanks so much, you've been a big help, bye for now",  # 13 words, three wordings
    "hello again, am I talking to a real person or a bot?",
])
def test_a_message_longer_than_any_wording_is_smalltalk_when_all_of_it_is(message):
    assert len(message.split()) > 10
    assert classify_smalltalk(message) is not None


def test_a_message_of_more_than_fifteen_words_is_never_smalltalk():
    assert classify_smalltalk("hi " * 15) is not None
    assert classify_smalltalk("hi " * 16) is None


def test_when_a_message_mixes_sections_the_one_further_down_the_file_wins():
    smalltalk, _ = Smalltalk.from_text(SECTIONS)
    assert smalltalk.classify("hi, who am i talking to?") == SmalltalkMatch("about_bot")
    flipped, _ = Smalltalk.from_text(SECTIONS.replace("[greeting]", "[greeting_]")
                                     .replace("[about_bot]", "[greeting]")
                                     .replace("[greeting_]", "[about_bot]"))
    assert flipped.classify("hi, who am i talking to?") == SmalltalkMatch("greeting")


BAD_SECTIONS = """\
# a comment
hello
[greeting]
reply: Hello{welcome}!
hi
reply: Hi again!
[greeting]
hey
[Bad Name!]
yo
[thanks]
reply: You're welcome, {name}!
thanks
[goodbye]
bye
[about_bot]
reply: I am {clinic_name}'s assistant.
hi
replly: oops
filler:
"""


def test_bad_lines_are_reported_with_line_numbers_and_good_lines_still_load():
    smalltalk, errors = Smalltalk.from_text(BAD_SECTIONS, "smalltalk.txt")
    assert [intent.name for intent in smalltalk.intents] == ["greeting"]
    assert_reported(errors, "smalltalk.txt", {
        2: "before any [section]",
        6: "already has a reply on line 4",
        7: "[greeting] is already on line 3",
        9: "must be letters, digits and _",
        12: "unknown placeholder {name}",
        14: "[goodbye] has no 'reply:' line",
        16: "[about_bot] has no wordings",
        18: "already in section [greeting] on line 5",
        19: "unknown line 'replly:'",
        20: "'filler:' is followed by no words",
    })
    assert smalltalk.classify("hi") == SmalltalkMatch("greeting")
    assert smalltalk.classify("thanks") is None


FAMILIES = """\
filler: bot
same: talk, speak, chat
same: person, receptionist, someone
same: bot, robot, machine
[human]
reply: Call us.
can i talk to a person
[about_bot]
reply: I am a bot.
are you a bot
"""


@pytest.mark.parametrize("message, intent", [
    ("can i speak to a receptionist", "human"), ("could i chat to someone", None),
    ("can I talk to someone?", "human"), ("are you a robot", "about_bot"), ("are you a machine?", "about_bot"),
    ("thanks robot", None), ("can i speak to a doctor", None),
])
def test_words_of_one_same_line_are_read_as_one(message, intent):
    smalltalk, errors = Smalltalk.from_text(FAMILIES)
    assert errors == []
    assert smalltalk.classify(message) == (SmalltalkMatch(intent) if intent else None)


def test_same_lines_with_one_word_or_a_word_taken_are_reported_and_left_out():
    smalltalk, errors = Smalltalk.from_text("same: talk, speak\nsame: chat\nsame: chat, speak\n[human]\n"
                                            "reply: Call us.\ncan i talk to a person\n", "smalltalk.txt")
    assert_reported(errors, "smalltalk.txt", {2: "at least two words", 3: "'speak' is already on the 'same:' line 1"})
    assert smalltalk.classify("can i speak to a person") == SmalltalkMatch("human")
    assert smalltalk.classify("can i chat to a person") is None


def test_reply_placeholders_are_filled_with_the_clinic_name():
    smalltalk, errors = Smalltalk.from_text(
        "[greeting]\nreply: Hello{welcome}! I answer from {clinic_name}'s documents.\nhi\n")
    assert errors == []
    match = smalltalk.classify("hi")
    assert smalltalk.reply(match, "Riverside Acupuncture") == (
        "Hello, and welcome to Riverside Acupuncture! I answer from Riverside Acupuncture's "
        "documents.")
    assert smalltalk.reply(match) == smalltalk.reply(match, "  ") == (
        "Hello! I answer from the clinic's documents.")


def test_a_reply_for_a_section_the_file_lacks_is_an_error():
    smalltalk, _ = Smalltalk.from_text(SECTIONS)
    with pytest.raises(ValueError, match=r"\[thanks\]"):
        smalltalk.reply(SmalltalkMatch("thanks"))


def test_a_file_saved_with_a_bom_and_crlf_loads():
    smalltalk, errors = Smalltalk.from_text("\ufeff[greeting]\r\nreply: Hello!\r\nhi there :)\r\n")
    assert errors == []
    assert smalltalk.classify("Hi there") == SmalltalkMatch("greeting")


def test_a_reply_changed_in_the_smalltalk_file_is_what_the_bot_says(tmp_path, default_index):
    from chatbot.answer.policy import Responder
    from chatbot.answer.urgent import UrgentScreen
    shipped = SHIPPED_FILE.read_text("utf-8")
    old = next(line for line in shipped.splitlines() if line.startswith("reply: You're welcome!"))
    path = tmp_path / "smalltalk.txt"
    path.write_text(shipped.replace(old, "reply: Glad to help with your massage questions."), "utf-8")
    smalltalk, errors = Smalltalk.load(path)
    assert errors == []
    answer = Responder(UrgentScreen(), smalltalk=smalltalk).respond("thanks a lot", default_index)
    assert (answer.kind, answer.reply) == ("smalltalk", "Glad to help with your massage questions.")


def test_without_a_smalltalk_file_no_reply_is_assumed(default_index):
    from chatbot.answer.policy import Responder
    from chatbot.answer.urgent import UrgentScreen
    assert Responder(UrgentScreen()).respond("thanks a lot", default_index).kind != "smalltalk"
