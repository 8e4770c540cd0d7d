"""Checking request bodies: what a client may send, and the error when it may not."""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

from flask import Request

from .errors import ApiError

MAX_MESSAGE_CHARS = 1000
MAX_COMMENT_CHARS = 1000
MAX_NUMBER_DIGITS = 100  # no field needs more; Python itself refuses past 4,300
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Control characters (NUL and friends, but not tab or newline) and the
# bidirectional overrides that can disguise text; lone surrogates are handled apart.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class ChatRequest:
    message: str
    session_id: str | None
    top_k: int


@dataclass(frozen=True)
class FeedbackRequest:
    message_id: str
    helpful: bool
    comment: str | None


def clean_text(text: str) -> str:
    """`text` made safe to store and show: no lone surrogates, control characters or
    direction overrides; NFC-normalised; surrounding white space trimmed."""
    text = text.encode("utf-8", "replace").decode("utf-8") if _has_surrogates(text) else text
    return unicodedata.normalize("NFC", _UNSAFE.sub("", text)).strip()


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def json_body(request: Request) -> dict:
    """The request's JSON object; ApiError 415 or 400 when it is not one."""
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the request body as JSON "
                       "with the header Content-Type: application/json.")
    raw = _whole_body(request)
    try:
        body = _DECODER.decode(raw.decode("utf-8"))
    except _NumberTooLong:
        raise ApiError(400, "number_too_long",
                       f"A number in the request body has more than {MAX_NUMBER_DIGITS} digits.") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    return body


def _whole_body(request: Request) -> bytes:
    """The request body; ApiError 413 when it is longer than the limit.

    Werkzeug stops reading a body sent without Content-Length (chunked) at
    the limit and returns what it has, which would be parsed as if it were
    whole; one more byte from the server's stream tells the two apart.
    """
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    if limit is not None and len(raw) >= limit and request.content_length != len(raw):
        if request.environ["wsgi.input"].read(1):
            raise ApiError(413, "payload_too_large", "The request body is too large.")
    return raw


class _NumberTooLong(ValueError):
    pass


def _bounded_int(text: str) -> int:
    """A JSON integer; Python refuses to convert more than 4,300 digits (and a
    long one costs quadratic time before that), so anything long is refused."""
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise _NumberTooLong(text[:20])
    return int(text)


# Made once: json.loads with parse_int builds a decoder and its scanner on every call.
# A byte-order mark is refused by both, as invalid JSON.
_DECODER = json.JSONDecoder(parse_int=_bounded_int)


def parse_chat(request: Request) -> ChatRequest:
    """A valid chat request, or ApiError naming what is wrong. Unknown fields are ignored."""
    body = json_body(request)
    if "message" not in body or body["message"] is None:
        raise ApiError(400, "missing_message", "The field 'message' is required.")
    if not isinstance(body["message"], str):
        raise ApiError(400, "invalid_message", "The field 'message' must be a string.")
    message = clean_text(body["message"])
    if not message:
        raise ApiError(400, "blank_message", "The message is empty; please type a question.")
    if len(message) > MAX_MESSAGE_CHARS:
        raise ApiError(400, "message_too_long",
                       f"The message is longer than {MAX_MESSAGE_CHARS} characters; please shorten it.")
    session_id = body.get("session_id")
    if session_id is not None and (not isinstance(session_id, str) or not SESSION_ID.match(session_id)):
        raise ApiError(400, "invalid_session_id",
                       "The field 'session_id' must be 1-64 letters, digits, '_' or '-'.")
    top_k = body.get("top_k", 3)
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= 10:
        raise ApiError(400, "invalid_top_k", "The field 'top_k' must be a whole number from 1 to 10.")
    return ChatRequest(message, session_id, top_k)


def parse_feedback(request: Request) -> FeedbackRequest:
    """A valid feedback request, or ApiError naming what is wrong."""
    body = json_body(request)
    message_id = body.get("message_id")
    if not isinstance(message_id, str) or not MESSAGE_ID.match(message_id):
        raise ApiError(400, "invalid_message_id", "The field 'message_id' must be the id of a reply.")
    helpful = body.get("helpful")
    if not isinstance(helpful, bool):
        raise ApiError(400, "invalid_helpful", "The field 'helpful' must be true or false.")
    comment = body.get("comment")
    if comment is not None:
        if not isinstance(comment, str):
            raise ApiError(400, "invalid_comment", "The field 'comment' must be a string.")
        comment = clean_text(comment) or None
        if comment and len(comment) > MAX_COMMENT_CHARS:
            raise ApiError(400, "comment_too_long",
                           f"The comment is longer than {MAX_COMMENT_CHARS} characters; please shorten it.")
    return FeedbackRequest(message_id, helpful, comment)
