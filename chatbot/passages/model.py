"""The unit a visitor reads in a chat bubble, and where it came from."""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

from ..text import words


@dataclass(frozen=True)
class Source:
    """Where a passage comes from, as shown to the visitor."""
    doc_id: str
    title: str
    publisher: str | None = None
    url: str | None = None
    section: str | None = None


@dataclass(frozen=True)
class Passage:
    """A short, self-contained piece of a document.

    `text` is what the visitor reads; `section` (the heading above it) and
    `question`/`alternates` (for FAQ entries) are matched as fields of their own.
    """
    id: str
    text: str
    source: Source
    form: str = "text"  # "text", "list", "table" or "faq"
    question: str | None = None
    alternates: tuple[str, ...] = ()
    position: int = 0

    @property
    def section(self) -> str | None:
        return self.source.section

    def to_dict(self) -> dict:
        data = asdict(self)
        data["alternates"] = list(self.alternates)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Passage":
        return cls(
            id=data["id"], text=data["text"], source=Source(**data["source"]),
            form=data.get("form", "text"), question=data.get("question"),
            alternates=tuple(data.get("alternates") or ()), position=data.get("position", 0),
        )


def passage_id(doc_id: str, text: str) -> str:
    """Stable id: the same words from the same document always get the same id."""
    canonical = " ".join(words(text))
    return hashlib.sha1(f"{doc_id}\n{canonical}".encode("utf-8")).hexdigest()[:16]


@dataclass
class SegmentStats:
    """Counts kept while turning documents into passages."""
    documents: int = 0
    passages: int = 0
    exact_duplicates: int = 0
    near_duplicates: int = 0
    by_form: dict = field(default_factory=dict)
