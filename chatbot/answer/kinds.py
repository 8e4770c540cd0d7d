"""The four kinds of reply the bot gives, named once.

A StrEnum, so each member is its plain string ("answer", ...): JSON replies,
stored exchanges and check-question files keep the same values they always had.
"""
from __future__ import annotations

from enum import StrEnum


class ReplyKind(StrEnum):
    """What a reply is: an answer from the passages, "I don't know", a call to seek care, small talk."""
    ANSWER = "answer"
    NO_ANSWER = "no_answer"
    URGENT = "urgent"
    SMALLTALK = "smalltalk"
