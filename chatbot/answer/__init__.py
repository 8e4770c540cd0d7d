"""Answer stage: decide what to reply to a visitor's message."""
from .smalltalk import Smalltalk, SmalltalkIntent, SmalltalkMatch, classify_smalltalk, smalltalk_reply
from .urgent import UrgentMatch, UrgentRule, UrgentScreen, urgent_reply

__all__ = ["Smalltalk", "SmalltalkIntent", "SmalltalkMatch", "UrgentMatch", "UrgentRule",
           "UrgentScreen", "classify_smalltalk", "smalltalk_reply", "urgent_reply"]
