"""Storage stage: the chat log (exchanges and feedback) in SQLite or PostgreSQL.

    storage = Storage("sqlite:////abs/path/instance/chatbot.db")  # no connection yet
    storage.migrate()                     # schema to the newest revision, at startup
    storage.record_exchange(Exchange(...))
    storage.record_feedback(message_id, helpful=True, comment=None)  # False: unknown id
    storage.purge(timedelta(days=90))     # or `flask purge`, see cli.py

Visitor text is redacted (redact_personal_details) before it is written; no IP
address is stored. Database failures raise StorageError, so the chat can
answer without its log.
"""
from .model import KINDS, MAX_COMMENT_LENGTH, Exchange, Feedback, StorageError
from .redaction import redact_personal_details
from .storage import Storage

# `flask purge` (cli.py) is imported by create_app, not here: what uses storage alone needs no Flask.
__all__ = ["KINDS", "MAX_COMMENT_LENGTH", "Exchange", "Feedback", "Storage", "StorageError",
           "redact_personal_details"]
