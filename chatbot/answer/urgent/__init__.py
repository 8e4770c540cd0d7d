"""Urgent screen: warning signs that need care now, checked before retrieval.

Rules come from a staff-editable file, `corpus/urgent.txt` (its header is the
manual; rules.py shows the format), one rule per line.

A rule fires when each `+` group has an alternative in the message that is
not negated ("I have no fever"), no `unless` phrase is present, and, for
medical rules, the message describes the visitor's own situation rather than
only asking about treatment ("does acupuncture for back pain cause fever?"):
a question is about treatment when one of its words starts with a
`treatment:` word of the file, so a clinic names its own therapies there.

    rules.py     the file format and its parsing
    message.py   message analysis: words, clauses, negation, treatment questions
    matching.py  the screen: how a rule matches a message
    replies.py   what the bot replies (texts and numbers are settings)
"""
from .matching import UrgentMatch, UrgentScreen
from .replies import UrgentReplies, urgent_reply
from .rules import CATEGORIES, URGENT_FILE, UrgentRule, parse_urgent_rules

__all__ = ["CATEGORIES", "URGENT_FILE", "UrgentMatch", "UrgentReplies", "UrgentRule", "UrgentScreen",
           "parse_urgent_rules", "urgent_reply"]
