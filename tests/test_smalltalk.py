"""Smalltalk: short greetings, thanks, goodbyes and questions about the bot; nothing else."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from chatbot.answer import SmalltalkMatch, classify_smalltalk, smalltalk_reply

DEV = [json.loads(line) for line in
       (Path(__file__).resolve().parent / "data" / "dev.jsonl").read_text("utf-8").splitlines()
       if line.strip()]


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
])
def test_smalltalk_is_recognised(message, intent):
    assert classify_smalltalk(message) == SmalltalkMatch(intent)


@pytest.mark.parametrize("message", [
    "hi, does acupuncture hurt?", "hello, how long do the needles stay in?",
    "thanks, but is it safe?", "thanks, how many sessions do I need?",
    "are you a doctor who does acupuncture?", "what can acupuncture do for back pain?",
    "good", "ok", "yes", "no", "", "   ", "?!", "hi " * 20, "high", "hell", "help with back pain",
    "who are you going to refer me to?", "bye the way, is cupping safe?",
])
def test_messages_with_a_real_question_or_no_smalltalk_are_not_smalltalk(message):
    assert classify_smalltalk(message) is None


@pytest.mark.parametrize("row", [r for r in DEV if r["expect"] == "smalltalk"], ids=lambda r: r["id"])
def test_dev_smalltalk_messages_are_recognised(row):
    assert classify_smalltalk(row["q"]) is not None


@pytest.mark.parametrize("row", [r for r in DEV if r["expect"] in ("answer", "no_answer")],
                         ids=lambda r: r["id"])
def test_dev_questions_are_not_smalltalk(row):
    assert classify_smalltalk(row["q"]) is None


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


def test_clinic_name_appears_in_greeting_and_about_bot_replies():
    assert "welcome to Riverside Acupuncture" in smalltalk_reply(SmalltalkMatch("greeting"),
                                                                 "Riverside Acupuncture")
    assert "Riverside Acupuncture's own documents" in smalltalk_reply(
        SmalltalkMatch("about_bot"), "Riverside Acupuncture")
    assert smalltalk_reply(SmalltalkMatch("greeting"), "  ") == smalltalk_reply(
        SmalltalkMatch("greeting"))
