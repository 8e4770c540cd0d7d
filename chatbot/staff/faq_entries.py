"""FAQ entries written by staff: added, edited, reviewed, deleted, searched.

An entry follows the rules of a line of the corpus's FAQ files
(corpus/faq.py); faq_entry() cleans one by those rules.
"""
from __future__ import annotations

from sqlalchemy import delete, select

from ..corpus import FaqEntry, LoadError
from ..corpus.faq import MAX_FIELD_CHARS, _make_entry
from ..storage import Storage
from .model import (
    BULK,
    FaqRecord,
    checked_id,
    checked_name,
    checked_texts,
    matches_search,
    search_words,
    transaction,
    utc_now,
)
from .tables import FaqRow


class EditConflict(Exception):
    """The entry changed since the editor opened it; `current` is the entry as it is now."""

    def __init__(self, current: FaqRecord):
        super().__init__(f"changed by {current.updated_by} at {current.updated_at:%Y-%m-%d %H:%M} UTC "
                         "since you opened it")
        self.current = current


def revision(entry: FaqRecord) -> str:
    """A stamp that changes with every saved change of the entry: what an edit form carries, so
    that saving it can tell whether someone else saved in between."""
    return entry.updated_at.isoformat()


def same_question_key(question: str) -> str:
    """`question` as duplicates are found: case, spacing and the final punctuation aside."""
    return " ".join(question.casefold().split()).rstrip(" ?!.")


class FaqStore:
    """FAQ entries in `storage`'s database.

    Each method is one short transaction; ValueError for content that breaks
    the rules, StorageError when the database fails.
    """

    def __init__(self, storage: Storage):
        self.storage = storage

    def add_faq(self, question: str, answer: str, alternates=(), source_title: str | None = None,
                source_url: str | None = None, author: str = "") -> FaqRecord:
        """A new, unreviewed entry, cleaned like a line of an FAQ file."""
        entry = faq_entry(question, answer, alternates, source_title, source_url)
        row = _new_faq_row(entry, checked_name(author, "author"))
        with transaction(self.storage, "adding an FAQ entry", write=True) as session:
            session.add(row)
            session.flush()
            return _faq(row)

    def add_faqs(self, entries: list[FaqEntry], author: str) -> int:
        """Add entries already cleaned by faq_entry() in one transaction: all of them, or
        (StorageError) none. The number added."""
        author = checked_name(author, "author")
        rows = [_new_faq_row(entry, author) for entry in entries]
        with transaction(self.storage, "importing FAQ entries", write=True) as session:
            session.add_all(rows)
        return len(rows)

    def update_faq(self, faq_id: int, *, question: str, answer: str, alternates, source_title: str | None,
                   source_url: str | None, editor: str, opened: str | None = None) -> FaqRecord | None:
        """The entry with new content, or None for an unknown id (deleted meanwhile).

        A change of wording clears the review: the new wording has not been
        reviewed. Saving the same content changes nothing. `opened`: the
        entry's revision() when the editor opened it; EditConflict (nothing
        saved) when someone saved another change since.
        """
        faq_id = checked_id(faq_id, "an FAQ entry id")
        entry = faq_entry(question, answer, alternates, source_title, source_url)
        editor = checked_name(editor, "editor")
        content = (entry.question, entry.answer, list(entry.alternates), entry.source_title, entry.source_url)
        with transaction(self.storage, "updating an FAQ entry", write=True) as session:
            row = session.get(FaqRow, faq_id)
            if row is None:
                return None
            if opened is not None and revision(_faq(row)) != opened:
                raise EditConflict(_faq(row))
            if content != (row.question, row.answer, list(row.alternates), row.source_title, row.source_url):
                (row.question, row.answer, row.alternates, row.source_title, row.source_url) = content
                row.updated_at, row.updated_by = utc_now(), editor
                row.reviewed_at = row.reviewed_by = None
            return _faq(row)

    def mark_reviewed(self, faq_id: int, reviewer: str) -> FaqRecord | None:
        """The entry marked as reviewed by `reviewer` now, or None for an unknown id."""
        faq_id = checked_id(faq_id, "an FAQ entry id")
        reviewer = checked_name(reviewer, "reviewer")
        with transaction(self.storage, "reviewing an FAQ entry", write=True) as session:
            row = session.get(FaqRow, faq_id)
            if row is None:
                return None
            row.reviewed_by, row.reviewed_at = reviewer, utc_now()
            return _faq(row)

    def delete_faq(self, faq_id: int) -> bool:
        """Delete the entry; False for an unknown id."""
        faq_id = checked_id(faq_id, "an FAQ entry id")
        with transaction(self.storage, "deleting an FAQ entry", write=True) as session:
            return session.execute(delete(FaqRow).where(FaqRow.id == faq_id), execution_options=BULK).rowcount == 1

    def get_faq(self, faq_id: int) -> FaqRecord | None:
        faq_id = checked_id(faq_id, "an FAQ entry id")
        with transaction(self.storage, "reading an FAQ entry") as session:
            row = session.get(FaqRow, faq_id)
            return None if row is None else _faq(row)

    def same_question(self, question: str, except_id: int | None = None) -> list[FaqRecord]:
        """Entries (other than `except_id`) whose question is `question`, by same_question_key()."""
        key = same_question_key(question)
        with transaction(self.storage, "finding FAQ entries with a question") as session:
            rows = session.scalars(select(FaqRow).where(FaqRow.id != (except_id or 0)).order_by(FaqRow.id))
            return [_faq(row) for row in rows if same_question_key(row.question) == key]

    def list_faq(self, search: str = "") -> list[FaqRecord]:
        """Entries, oldest first, whose question, answer or alternates hold every word of `search`.

        Case-insensitive; an empty search lists every entry.
        """
        words = search_words(search)
        with transaction(self.storage, "listing FAQ entries") as session:
            records = [_faq(row) for row in session.scalars(select(FaqRow).order_by(FaqRow.id))]
        return [r for r in records if matches_search(words, r.question, r.answer, *r.alternates)]


def faq_entry(question, answer, alternates=(), source_title=None, source_url=None) -> FaqEntry:
    """The cleaned FaqEntry, by the rules of the corpus's FAQ files; ValueError naming the first problem."""
    alternates = checked_texts(alternates, "alternates", MAX_FIELD_CHARS)
    question, answer, source_title, source_url = (
        value.replace("\x00", "") if isinstance(value, str) else value
        for value in (question, answer, source_title, source_url))
    errors: list[LoadError] = []
    entry = _make_entry(question, answer, alternates, source_title, source_url, "FAQ entry", 0, errors)
    if entry is None:
        raise ValueError(errors[0].message)
    for name, value in (("source title", entry.source_title), ("source url", entry.source_url)):
        if value and len(value) > MAX_FIELD_CHARS:
            raise ValueError(f"{name} is longer than {MAX_FIELD_CHARS} characters")
    return entry


def _new_faq_row(entry: FaqEntry, author: str) -> FaqRow:
    now = utc_now()
    return FaqRow(question=entry.question, answer=entry.answer, alternates=list(entry.alternates),
                  source_title=entry.source_title, source_url=entry.source_url, author=author,
                  created_at=now, updated_at=now, updated_by=author, reviewed_by=None, reviewed_at=None)


def _faq(row: FaqRow) -> FaqRecord:
    return FaqRecord(row.id, row.question, row.answer, tuple(row.alternates), row.source_title, row.source_url,
                     row.author, row.created_at, row.updated_at, row.updated_by, row.reviewed_by, row.reviewed_at)
