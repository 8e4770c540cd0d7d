"""Smalltalk: greetings, thanks, goodbyes and questions about the bot itself.

Only a message made entirely of smalltalk counts: "hi" is smalltalk, "hi, does
acupuncture hurt?" is a question for retrieval. Small typos are forgiven
("helo", "thnak you"), and so are stretched words ("hiii", "byee").
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from nltk.metrics.distance import edit_distance

from ..text import words

INTENTS = ("greeting", "thanks", "goodbye", "about_bot")
MAX_WORDS = 10

PHRASES = {
    "greeting": """hi | hello | hey | hiya | howdy | yo | greetings | hi there | hello there |
        hey there | good morning | good afternoon | good evening | morning | afternoon |
        evening | how are you | how are you doing | how's it going | what's up | whats up""",
    "thanks": """thanks | thank you | thankyou | thx | thnx | thanx | thks | ty | tysm | cheers |
        many thanks | much appreciated | appreciate it | i appreciate it | thanks for your help |
        thanks for the help | thank you for your help | thank you for the help |
        thank you for helping | that helps | that helped | that was helpful | that's helpful |
        very helpful | helpful | for your help | for the help | for all your help |
        for all the help | for helping | for that | for the info | for the information""",
    "goodbye": """bye | goodbye | good bye | bye bye | byebye | see you | see ya | see you later |
        see you soon | cya | later | good night | goodnight | take care | farewell |
        have a nice day | have a good day | have a great day | that's all | that is all""",
    "about_bot": """are you a bot | are you a robot | are you a chatbot | are you human |
        are you a human | are you a person | are you a real person | are you real | are you ai |
        are you an ai | are you a computer | is this a bot | is this a robot | is this a human |
        is this a real person | am i talking to a bot | am i talking to a robot |
        am i talking to a human | am i talking to a person | am i talking to a real person |
        who are you | what are you | who made you | who built you | who created you |
        who programmed you | who wrote you | what can you do | what do you do | how do you work |
        what can i ask | what can i ask you | what can you help with | what can you help me with |
        how can you help | can you help me | help | help me | what is this""",
}
# Words that may surround smalltalk without adding a question ("thanks so much").
FILLER_WORDS = frozenset("""
oh ok okay well so and then there much very a lot again all everyone everybody folks
guys dear friend now just really great awesome nice cool perfect lovely bot chatbot
assistant too you
""".split())
# Real words one letter from a smalltalk word: never read as its typo.
NOT_TYPOS = frozenset({"hell", "hall", "hill", "held", "think", "thinks"})
# When one message holds several intents, the most informative reply wins.
PRIORITY = ("about_bot", "goodbye", "thanks", "greeting")

_STRETCHED = re.compile(r"(.)\1{2,}")   # "hiiii" -> "hi"
_DOUBLED = re.compile(r"(.)\1")         # "byee" -> "bye"


@dataclass(frozen=True)
class SmalltalkMatch:
    """A message that is only smalltalk, and which kind."""
    intent: str  # one of INTENTS


def _phrase_table() -> dict[tuple[str, ...], str]:
    """Map each phrase (as words) -> its intent."""
    return {tuple(words(p)): intent for intent, text in PHRASES.items()
            for p in text.split("|") if p.strip()}


def _typo_targets(phrases) -> dict[str, list[str]]:
    """Map first letter -> words of 4+ letters, in the order of PHRASES ("hello" before "help")."""
    targets: dict[str, list[str]] = {}
    for word in dict.fromkeys(w for p in phrases for w in p if len(w) >= 4):
        targets.setdefault(word[0], []).append(word)
    return targets


_PHRASE_INTENT = _phrase_table()
_LONGEST = max(len(p) for p in _PHRASE_INTENT)
_VOCABULARY = frozenset(w for p in _PHRASE_INTENT for w in p)
_TYPO_TARGETS = _typo_targets(_PHRASE_INTENT)


@functools.lru_cache(maxsize=4096)
def _known_word(word: str) -> str | None:
    """`word` as a smalltalk or filler word: itself, de-stretched, or a one-edit typo."""
    for candidate in (word, _STRETCHED.sub(r"\1", word), _DOUBLED.sub(r"\1", word)):
        if candidate in _VOCABULARY or candidate in FILLER_WORDS:
            return candidate
    if len(word) < 4 or word in NOT_TYPOS:
        return None
    for known in _TYPO_TARGETS.get(word[0], ()):
        if abs(len(known) - len(word)) <= 1 and edit_distance(word, known, transpositions=True) <= 1:
            return known
    return None


def classify_smalltalk(message: str) -> SmalltalkMatch | None:
    """The smalltalk intent of a short message made only of smalltalk, else None."""
    tokens = words(message)
    if not tokens or len(tokens) > MAX_WORDS:
        return None
    known = []
    for token in tokens:
        word = _known_word(token)
        if word is None:
            return None  # most questions stop here, at their first word
        known.append(word)
    intents = set()
    i = 0
    while i < len(known):
        for length in range(min(_LONGEST, len(known) - i), 0, -1):
            intent = _PHRASE_INTENT.get(tuple(known[i:i + length]))
            if intent:
                intents.add(intent)
                i += length
                break
        else:
            if known[i] not in FILLER_WORDS:
                return None
            i += 1
    return next((SmalltalkMatch(intent) for intent in PRIORITY if intent in intents), None)


WHAT_I_CAN_DO = ("I can answer questions about acupuncture for back pain, such as what to "
                 "expect at a session, whether it is safe and how it works.")

SMALLTALK_REPLIES = {
    "greeting": "Hello{welcome}! " + WHAT_I_CAN_DO + " What would you like to know?",
    "thanks": "You're welcome! If you have another question about acupuncture for back pain, "
              "just ask.",
    "goodbye": "Goodbye, and take care of your back! Come back any time with questions about "
               "acupuncture for back pain.",
    "about_bot": "I'm an automated assistant, not a person. I answer questions about acupuncture "
                 "for back pain from {documents}, and I can't give medical advice. For advice "
                 "about your own health, please talk to a practitioner or your doctor.",
}


def smalltalk_reply(match: SmalltalkMatch, clinic_name: str | None = None) -> str:
    """A short, friendly plain-text reply that says what the bot can help with."""
    name = clinic_name.strip() if clinic_name else ""
    return SMALLTALK_REPLIES[match.intent].format(
        welcome=f", and welcome to {name}" if name else "",
        documents=f"{name}'s own documents" if name else "the clinic's own documents")
