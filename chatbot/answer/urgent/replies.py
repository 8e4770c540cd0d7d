"""What the bot replies to an urgent message: the clinic's texts and numbers (settings)."""
from __future__ import annotations

from dataclasses import dataclass

from ...settings import BY_NAME
from .matching import UrgentMatch


def _default(name: str) -> str:
    return BY_NAME[name].default


@dataclass(frozen=True)
class UrgentReplies:
    """What the bot tells a visitor with warning signs, per category; the texts are
    settings, and `{emergency_number}` / `{crisis_number}` in them become the clinic's numbers."""
    medical: str = _default("CHATBOT_URGENT_MEDICAL_REPLY")
    self_harm: str = _default("CHATBOT_URGENT_SELF_HARM_REPLY")
    emergency_number: str = _default("CHATBOT_EMERGENCY_NUMBER")
    crisis_number: str = _default("CHATBOT_CRISIS_NUMBER")

    def text(self, category: str) -> str:
        template = self.self_harm if category == "self_harm" else self.medical
        # Plain replacement, not str.format: a stray brace in a clinic's text never fails a reply.
        return (template.replace("{emergency_number}", self.emergency_number)
                .replace("{crisis_number}", self.crisis_number))


def urgent_reply(match: UrgentMatch, replies: UrgentReplies = UrgentReplies()) -> str:
    """The plain-text reply to an urgent message: where to get help now."""
    return replies.text(match.category)

