"""Values produced by the corpus stage: documents made of typed blocks."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

DOCUMENT_KINDS = ("article", "qa_thread", "faq")


@dataclass(frozen=True)
class Heading:
    """A section title; `level` is 1-6 for Markdown headings, 0 when inferred."""
    text: str
    level: int = 0


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class ListBlock:
    """A bulleted or numbered list; each item is one line of text."""
    items: tuple[str, ...]
    ordered: bool = False
    start: int = 1


@dataclass(frozen=True)
class Table:
    """A table as lines: the header line and one line per row."""
    header: str
    rows: tuple[str, ...]


@dataclass(frozen=True)
class FaqEntry:
    """One question-and-answer pair from an FAQ file, with its own source."""
    question: str
    answer: str
    alternates: tuple[str, ...] = ()
    source_title: str | None = None
    source_url: str | None = None
    line: int = 0


Block = Union[Heading, Paragraph, ListBlock, Table, FaqEntry]


@dataclass(frozen=True)
class Document:
    """One knowledge file: metadata plus its content as blocks, in reading order."""
    doc_id: str
    title: str
    blocks: tuple[Block, ...]
    publisher: str | None = None
    url: str | None = None
    kind: str = "article"
    path: str = ""


@dataclass(frozen=True)
class LoadError:
    """A problem with one file; `line` is 0 when it concerns the whole file."""
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class CorpusError(Exception):
    """Raised in strict mode, or when the corpus folder itself is unusable."""

    def __init__(self, errors: list[LoadError] | str):
        self.errors = [] if isinstance(errors, str) else list(errors)
        text = errors if isinstance(errors, str) else "; ".join(map(str, errors))
        super().__init__(text)


@dataclass
class CorpusLoad:
    """What loading a folder gave: the documents that loaded and the errors."""
    documents: list[Document] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
