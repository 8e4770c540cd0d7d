"""The small metadata header of text and Markdown documents.

A header is optional. It sits between two lines of three dashes at the very
top of the file, one `key: value` per line:

    ---
    title: Acupuncture for Chronic Back Pain
    publisher: Spine Institute Northwest
    url: https://example.org/acupuncture
    kind: article
    ---
"""
from __future__ import annotations

from .model import DOCUMENT_KINDS

KNOWN_KEYS = ("title", "publisher", "url", "kind")
_NULLS = {"", "null", "none", "~", "unknown"}


class HeaderError(ValueError):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


def split_header(text: str) -> tuple[dict[str, str | None], str, int]:
    """Return (metadata, body, body_first_line_number) of a document's text.

    Raises HeaderError (with the 1-based line number) for a malformed header.
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text, 1
    if not any(line.strip() == "---" for line in lines[1:]):
        raise HeaderError(1, "header opened with '---' on line 1 is never closed by another '---' line")
    meta: dict[str, str | None] = {}
    for number, line in enumerate(lines[1:], start=2):
        stripped = line.strip()
        if stripped == "---":
            return meta, "\n".join(lines[number:]), number + 1
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition(":")
        key = key.strip().lower()
        if not sep or not key:
            raise HeaderError(number, f"header line is not 'key: value': {stripped[:60]!r}")
        if key not in KNOWN_KEYS:
            raise HeaderError(number, f"unknown header key {key!r} (known: {', '.join(KNOWN_KEYS)})")
        value = value.strip().strip('"').strip("'").strip()
        value = None if value.lower() in _NULLS else value
        if key == "kind" and value is not None and value not in DOCUMENT_KINDS:
            raise HeaderError(number, f"unknown kind {value!r} (known: {', '.join(DOCUMENT_KINDS)})")
        if key == "url" and value is not None and not value.startswith(("http://", "https://")):
            raise HeaderError(number, f"url must start with http:// or https://, got {value[:60]!r}")
        meta[key] = value
    raise HeaderError(1, "header opened with '---' is never closed by another '---' line")
