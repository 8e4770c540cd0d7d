"""Answer stage: decide what to reply to a visitor's message."""
from .smalltalk import Smalltalk, SmalltalkIntent, SmalltalkMatch
from .urgent import UrgentMatch, UrgentRule, UrgentScreen, urgent_reply

__all__ = ["Smalltalk", "SmalltalkIntent", "SmalltalkMatch", "UrgentMatch", "UrgentRule",
           "UrgentScreen", "urgent_reply"]
