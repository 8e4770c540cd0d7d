"""Chat-log records: an exchange or a feedback as a plain JSON-ready dict, already redacted.

This is the form in which the writer batches them, the spool keeps them on
disk and `Storage.store_records` writes them, so a record read back from a
spool file left by a dead worker is written exactly like a fresh one.

    {"type": "exchange", "message_id", "session_id", "message", "kind",
     "passage_ids", "scores", "index_version", "created_at", "confidence"}
    {"type": "feedback", "message_id", "helpful", "comment", "created_at",
     "missing_since"}

Times are ISO 8601 strings in UTC. `confidence` may be missing (a record spooled
by an older release): it is then None. `missing_since` is when feedback was first
found without its exchange in a working database (None until then).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from .model import KINDS, MAX_COMMENT_LENGTH, MAX_ID_LENGTH, Exchange, checked_confidence
from .redaction import redact_personal_details

EXCHANGE = "exchange"
FEEDBACK = "feedback"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def exchange_record(exchange: Exchange) -> dict:
    """The record of `exchange`, its message redacted; created now unless it says when."""
    return {"type": EXCHANGE, "message_id": exchange.message_id, "session_id": exchange.session_id,
            "message": redact_personal_details(exchange.message), "kind": exchange.kind,
            "passage_ids": list(exchange.passage_ids), "scores": list(exchange.scores),
            "index_version": exchange.index_version,
            "created_at": (exchange.created_at or utc_now()).astimezone(timezone.utc).isoformat(),
            "confidence": exchange.confidence}


def feedback_record(message_id: str, helpful: bool, comment: str | None,
                    created_at: datetime | None = None) -> dict:
    """The record of a visitor's verdict, the comment redacted (blank: None).

    TypeError when `helpful` is not a bool; ValueError for a comment over
    1000 characters or a message_id that could not be stored.
    """
    if not isinstance(helpful, bool):
        raise TypeError(f"helpful must be True or False, not {helpful!r}")
    if not message_id or len(message_id) > MAX_ID_LENGTH:
        raise ValueError(f"message_id must have 1 to {MAX_ID_LENGTH} characters")
    if comment is not None:
        if len(comment) > MAX_COMMENT_LENGTH:
            raise ValueError(f"comment is longer than {MAX_COMMENT_LENGTH} characters")
        comment = redact_personal_details(comment.strip()) or None
    return {"type": FEEDBACK, "message_id": message_id, "helpful": helpful, "comment": comment,
            "created_at": (created_at or utc_now()).astimezone(timezone.utc).isoformat(), "missing_since": None}


def exchange_row(record: dict) -> dict:
    """Column values of the exchanges table for an exchange record; KeyError/ValueError when malformed."""
    kind = record["kind"]
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    return {"message_id": _id(record["message_id"]), "session_id": record["session_id"],
            "message": str(record["message"]), "kind": kind,
            "passage_ids": [str(id_) for id_ in record["passage_ids"]],
            "scores": [float(score) for score in record["scores"]],
            "index_version": record["index_version"], "created_at": parse_time(record["created_at"]),
            "confidence": None if record.get("confidence") is None else checked_confidence(record["confidence"])}


def feedback_row(record: dict) -> dict:
    """Column values of the feedback table for a feedback record; KeyError/ValueError when malformed."""
    if not isinstance(record["helpful"], bool):
        raise ValueError("helpful must be a boolean")
    return {"message_id": _id(record["message_id"]), "helpful": record["helpful"],
            "comment": record["comment"], "created_at": parse_time(record["created_at"])}


def parse_record(line: bytes) -> dict | None:
    """The record on one spool line, or None when it is not a well-formed record."""
    try:
        record = json.loads(line)
        if record["type"] == EXCHANGE:
            exchange_row(record)
        elif record["type"] == FEEDBACK:
            feedback_row(record)
        else:
            return None
    except (ValueError, KeyError, TypeError):
        return None
    return record


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("time without a zone")
    return moment.astimezone(timezone.utc)


def _id(value) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise ValueError("not a message id")
    return value
