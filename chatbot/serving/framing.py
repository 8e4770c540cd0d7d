"""Has a whole HTTP/1.x request arrived yet? Read from the bytes buffered so far.

    verdict = request_framing(buffered, body_limit=lambda target: 16_384, max_head=64 << 10)
    verdict.state      # COMPLETE, INCOMPLETE, TOO_LARGE or MALFORMED
    verdict.body_size  # the declared (Content-Length) or counted (chunked) body size so far

The front (chatbot.serving.worker) hands a request to a thread only once it
is COMPLETE, so no thread ever waits on a client's bytes. The scan only
finds where the request ends; it is deliberately lenient about everything
else: MALFORMED means "let gunicorn's parser look at it", which answers
with its own precise 4xx (turned into the JSON error shape by the worker).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

COMPLETE = "complete"
INCOMPLETE = "incomplete"
TOO_LARGE = "too_large"
MALFORMED = "malformed"
BAD_CHUNKS = "bad_chunks"

HEAD_END = b"\r\n\r\n"
_CHUNK_SIZE_LINE_LIMIT = 1024  # a chunk-size line with extensions; longer is an attack or garbage
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")


@dataclass(frozen=True)
class Framing:
    state: str
    body_size: int = 0
    expects_continue: bool = False


def request_framing(buffered: bytes, body_limit: Callable[[bytes], int], max_head: int) -> Framing:
    """Where the first request in `buffered` stands.

    COMPLETE: its head and whole body are in `buffered` (more bytes may follow:
    pipelined requests). INCOMPLETE: more bytes are needed. TOO_LARGE: its body
    is, or is declared to be, longer than `body_limit(request target)`. MALFORMED: its head's
    framing cannot be read, or its head is longer than `max_head` (or its
    request line already too long to be real): gunicorn's parser gives the
    precise error. BAD_CHUNKS: its chunked body cannot be read (answered 400
    at once: gunicorn would find out only after the app had answered).
    """
    head_end = buffered.find(HEAD_END)
    if head_end < 0:
        first_line_end = buffered.find(b"\n")
        if len(buffered) > max_head or (first_line_end < 0 and len(buffered) > 8192):
            return Framing(MALFORMED)
        return Framing(INCOMPLETE)
    lines = buffered[:head_end].split(b"\r\n")
    content_length, chunked, expects_continue, bad = None, False, False, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip()
        if name == b"content-length":
            if content_length is not None or not value.isdigit() or len(value) > 18:
                bad = True  # repeated, signed, blank or absurd: gunicorn answers 400
            else:
                content_length = int(value)
        elif name == b"transfer-encoding":
            chunked = value.lower().rsplit(b",", 1)[-1].strip() == b"chunked"
            bad = bad or not chunked
        elif name == b"expect":
            expects_continue = value.lower() == b"100-continue"
    if bad:
        return Framing(MALFORMED)
    body_start = head_end + len(HEAD_END)
    request_line = lines[0].split()
    max_body = body_limit(request_line[1] if len(request_line) > 1 else b"")
    if chunked:
        return _chunked_framing(buffered, body_start, max_body, expects_continue)
    length = content_length or 0
    if length > max_body:
        return Framing(TOO_LARGE, length)
    state = COMPLETE if len(buffered) - body_start >= length else INCOMPLETE
    return Framing(state, length, expects_continue)


def _chunked_framing(buffered: bytes, position: int, max_body: int, expects_continue: bool) -> Framing:
    """Walk the chunks from `position`: complete once the last chunk and the trailers are in."""
    total = 0
    while True:
        line_end = buffered.find(b"\r\n", position)
        if line_end < 0:
            too_long = len(buffered) - position > _CHUNK_SIZE_LINE_LIMIT
            return Framing(BAD_CHUNKS if too_long else INCOMPLETE, total, expects_continue)
        size_text = buffered[position:line_end].split(b";", 1)[0].strip()
        if not _HEX.fullmatch(size_text):
            return Framing(BAD_CHUNKS, total, expects_continue)
        size = int(size_text, 16)
        if size == 0:
            trailers_start = line_end + 2
            if buffered[trailers_start:trailers_start + 2] == b"\r\n":
                return Framing(COMPLETE, total, expects_continue)
            if buffered.find(HEAD_END, trailers_start - 2) >= 0:
                return Framing(COMPLETE, total, expects_continue)
            return Framing(INCOMPLETE, total, expects_continue)
        total += size
        if total > max_body:
            return Framing(TOO_LARGE, total, expects_continue)
        data_end = line_end + 2 + size
        if data_end + 2 > len(buffered):
            return Framing(INCOMPLETE, total, expects_continue)
        if buffered[data_end:data_end + 2] != b"\r\n":
            return Framing(BAD_CHUNKS, total, expects_continue)
        position = data_end + 2
