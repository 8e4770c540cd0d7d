"""What staff write for the bot: FAQ entries, uploaded pages and check questions.

FAQ entries follow the rules of the corpus's FAQ files (corpus/faq.py); pages
are parsed like corpus files of the same extension. `as_documents()` hands all
of it to an index build as corpus documents.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata

from sqlalchemy import delete, select

from ..corpus import Document, FaqEntry, LoadError, parse_document
from ..corpus.faq import MAX_FIELD_CHARS, _make_entry
from ..storage import KINDS, Storage, StorageError
from ..storage.tables import CheckQuestionRow, DocumentRow, FaqRow
from ..text import squash_spaces
from .model import (BULK, CheckQuestion, DocumentRecord, FaqRecord, checked_id, checked_name,
                    is_conflict, transaction, utc_now)

DOCUMENT_SUFFIXES = (".md", ".txt", ".html")
MAX_DOCUMENT_BYTES = 2_000_000
MAX_FILENAME_LENGTH = 255  # DocumentRow.filename
# Staff content gets doc_ids of its own, apart from the corpus folder's.
DOC_ID_PREFIX = "staff/"
FAQ_DOC_ID = DOC_ID_PREFIX + "faq"
FAQ_TITLE = "Clinic FAQ"


class KnowledgeStore:
    """FAQ entries, uploaded pages and check questions in `storage`'s database.

    Each method is one short transaction; ValueError for content that breaks
    the rules, StorageError when the database fails.
    """

    def __init__(self, storage: Storage):
        self.storage = storage

    # -- FAQ entries ---------------------------------------------------------------

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
                   source_url: str | None, editor: str) -> FaqRecord | None:
        """The entry with new content, or None for an unknown id.

        A change of wording clears the review: the new wording has not been
        reviewed. Saving the same content changes nothing.
        """
        faq_id = checked_id(faq_id, "an FAQ entry id")
        entry = faq_entry(question, answer, alternates, source_title, source_url)
        editor = checked_name(editor, "editor")
        content = (entry.question, entry.answer, list(entry.alternates), entry.source_title, entry.source_url)
        with transaction(self.storage, "updating an FAQ entry", write=True) as session:
            row = session.get(FaqRow, faq_id)
            if row is None:
                return None
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

    def list_faq(self, search: str = "") -> list[FaqRecord]:
        """Entries, oldest first, whose question, answer or alternates hold every word of `search`.

        Case-insensitive; an empty search lists every entry.
        """
        words = _search_words(search)
        with transaction(self.storage, "listing FAQ entries") as session:
            records = [_faq(row) for row in session.scalars(select(FaqRow).order_by(FaqRow.id))]
        return [r for r in records if _matches(words, r.question, r.answer, *r.alternates)]

    # -- uploaded pages ------------------------------------------------------------

    def add_document(self, filename: str, suffix: str, text: str, author: str) -> DocumentRecord:
        """A new page. The stored filename is `safe_filename(filename, suffix)`.

        ValueError for another suffix than .md, .txt or .html, an empty page,
        one over 2 MB, or a name another page has (ignoring case and extension).
        """
        suffix = checked_suffix(suffix)
        filename = safe_filename(filename, suffix)
        text = checked_page_text(text)
        author = checked_name(author, "author")
        if _doc_name(filename) == _doc_name(FAQ_DOC_ID):
            raise ValueError(f"{filename!r}: the name 'faq' is kept for the FAQ entries; choose another")
        now = utc_now()
        row = DocumentRow(filename=filename, suffix=suffix, text=text, author=author,
                          created_at=now, updated_at=now, updated_by=author)
        try:
            with transaction(self.storage, "adding a page", write=True) as session:
                # Pages become doc_ids without their extension ("staff/back-pain"),
                # which must not meet: compare names as doc_ids, case aside.
                for existing in session.scalars(select(DocumentRow.filename)):
                    if _doc_name(existing) == _doc_name(filename):
                        raise ValueError(f"a page named {existing!r} exists already; "
                                         "edit it, or give this one another name")
                session.add(row)
                session.flush()
                return _document(row)
        except StorageError as error:
            if is_conflict(error):  # added by someone else between the check and the insert
                raise ValueError(f"a page named {filename!r} exists already") from None
            raise

    def update_document(self, doc_id: int, text: str, editor: str) -> DocumentRecord | None:
        """The page with new text, or None for an unknown id; ValueError for empty or over 2 MB."""
        doc_id = checked_id(doc_id, "a page id")
        text = checked_page_text(text)
        editor = checked_name(editor, "editor")
        with transaction(self.storage, "updating a page", write=True) as session:
            row = session.get(DocumentRow, doc_id)
            if row is None:
                return None
            if text != row.text:
                row.text, row.updated_at, row.updated_by = text, utc_now(), editor
            return _document(row)

    def delete_document(self, doc_id: int) -> bool:
        """Delete the page; False for an unknown id."""
        doc_id = checked_id(doc_id, "a page id")
        with transaction(self.storage, "deleting a page", write=True) as session:
            query = delete(DocumentRow).where(DocumentRow.id == doc_id)
            return session.execute(query, execution_options=BULK).rowcount == 1

    def get_document(self, doc_id: int) -> DocumentRecord | None:
        doc_id = checked_id(doc_id, "a page id")
        with transaction(self.storage, "reading a page") as session:
            row = session.get(DocumentRow, doc_id)
            return None if row is None else _document(row)

    def list_documents(self, search: str = "") -> list[DocumentRecord]:
        """Pages by filename whose filename or text holds every word of `search` (case-insensitive)."""
        words = _search_words(search)
        with transaction(self.storage, "listing pages") as session:
            records = [_document(row) for row in session.scalars(select(DocumentRow))]
        # Sorted here, not by the database: the same order whatever its collation.
        records.sort(key=lambda r: r.filename)
        return [r for r in records if _matches(words, r.filename, r.text)]

    # -- check questions -----------------------------------------------------------

    def add_check(self, question: str, expect: str, phrases, author: str) -> CheckQuestion:
        """A new check question; `phrases` (at least one) are required when `expect` is "answer"."""
        if not isinstance(question, str) or not question.strip():
            raise ValueError("the question is missing or empty")
        question = squash_spaces(question.replace("\x00", ""))
        if len(question) > MAX_FIELD_CHARS:
            raise ValueError(f"the question is longer than {MAX_FIELD_CHARS} characters")
        if expect not in KINDS:
            raise ValueError(f"expect must be one of {', '.join(KINDS)}, not {expect!r}")
        phrases = _texts(phrases, "phrases")
        if expect == "answer" and not phrases:
            raise ValueError("a question expecting an answer needs at least one phrase a good answer holds")
        author = checked_name(author, "author")
        row = CheckQuestionRow(question=question, expect=expect, phrases=list(phrases), author=author,
                               created_at=utc_now())
        with transaction(self.storage, "adding a check question", write=True) as session:
            session.add(row)
            session.flush()
            return _check(row)

    def delete_check(self, check_id: int) -> bool:
        """Delete the check question; False for an unknown id."""
        check_id = checked_id(check_id, "a check question id")
        with transaction(self.storage, "deleting a check question", write=True) as session:
            query = delete(CheckQuestionRow).where(CheckQuestionRow.id == check_id)
            return session.execute(query, execution_options=BULK).rowcount == 1

    def list_checks(self) -> list[CheckQuestion]:
        """Every check question, oldest first."""
        with transaction(self.storage, "listing check questions") as session:
            return [_check(row) for row in session.scalars(select(CheckQuestionRow).order_by(CheckQuestionRow.id))]

    # -- for an index build --------------------------------------------------------

    def as_documents(self) -> tuple[list[Document], list[LoadError]]:
        """Staff content as corpus documents, and the problems of pages that did not parse.

        The FAQ entries, oldest first, make one document "staff/faq" (none
        without entries); each page is parsed as corpus file
        "staff/<filename>", in filename order, and left out when it has no
        readable text.
        """
        with transaction(self.storage, "reading staff content") as session:
            entries = tuple(FaqEntry(row.question, row.answer, tuple(row.alternates), row.source_title,
                                     row.source_url) for row in session.scalars(select(FaqRow).order_by(FaqRow.id)))
            pages = sorted((row.filename, row.suffix, row.text) for row in session.scalars(select(DocumentRow)))
        documents: list[Document] = []
        errors: list[LoadError] = []
        if entries:
            documents.append(Document(FAQ_DOC_ID, FAQ_TITLE, entries, kind="faq", path=FAQ_DOC_ID))
        for filename, suffix, text in pages:
            document, problems = parse_document(text, DOC_ID_PREFIX + filename, suffix)
            errors.extend(problems)
            if document is not None:
                documents.append(document)
        return documents, errors

    def fingerprint(self) -> str:
        """SHA-256 over the content of every FAQ entry, page and check question.

        Content only (no ids, authors or times), in as_documents' order, so it
        changes exactly when a build from this content could differ.
        """
        with transaction(self.storage, "reading staff content") as session:
            items = [("faq", row.question, row.answer, list(row.alternates), row.source_title, row.source_url)
                     for row in session.scalars(select(FaqRow).order_by(FaqRow.id))]
            items += sorted(("page", row.filename, row.suffix, row.text)
                            for row in session.scalars(select(DocumentRow)))
            items += [("check", row.question, row.expect, list(row.phrases))
                      for row in session.scalars(select(CheckQuestionRow).order_by(CheckQuestionRow.id))]
        digest = hashlib.sha256()
        for item in items:
            # One JSON array per line: field boundaries cannot be forged by content.
            digest.update(json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
        return digest.hexdigest()


def _new_faq_row(entry: FaqEntry, author: str) -> FaqRow:
    now = utc_now()
    return FaqRow(question=entry.question, answer=entry.answer, alternates=list(entry.alternates),
                  source_title=entry.source_title, source_url=entry.source_url, author=author,
                  created_at=now, updated_at=now, updated_by=author, reviewed_by=None, reviewed_at=None)


def faq_entry(question, answer, alternates=(), source_title=None, source_url=None) -> FaqEntry:
    """The cleaned FaqEntry, by the rules of the corpus's FAQ files; ValueError naming the first problem."""
    alternates = _texts(alternates, "alternates")
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


def checked_suffix(suffix: str) -> str:
    """`suffix` in lower case with its dot (".md", ".txt", ".html"); ValueError for others."""
    if not isinstance(suffix, str):
        raise ValueError(f"suffix must be text, not {type(suffix).__name__}")
    normal = suffix.strip().lower()
    normal = normal if normal.startswith(".") else "." + normal
    if normal not in DOCUMENT_SUFFIXES:
        raise ValueError(f"pages must be {', '.join(DOCUMENT_SUFFIXES)}, not {suffix!r}")
    return normal


def safe_filename(filename: str, suffix: str) -> str:
    """`filename` fit to store and show: its last path part, without control characters or
    leading dots, ending in `suffix` (see checked_suffix); ValueError when nothing is left or it
    is over 255 characters."""
    suffix = checked_suffix(suffix)
    if not isinstance(filename, str):
        raise ValueError(f"filename must be text, not {type(filename).__name__}")
    name = re.split(r"[\\/]", filename)[-1]
    name = "".join(c for c in name if not unicodedata.category(c).startswith("C"))
    if name.lower().endswith(suffix):
        name = name[:-len(suffix)]
    name = squash_spaces(name).lstrip(". ")
    if not name:
        raise ValueError(f"filename {filename[:80]!r} has no name before its extension")
    name += suffix
    if len(name) > MAX_FILENAME_LENGTH:
        raise ValueError(f"filename is longer than {MAX_FILENAME_LENGTH} characters")
    return name


def checked_page_text(text: str) -> str:
    """`text` as stored (without NUL characters or a byte order mark); ValueError if empty or over 2 MB."""
    if not isinstance(text, str):
        raise ValueError(f"the page must be text, not {type(text).__name__}")
    text = text.replace("\x00", "").removeprefix("\ufeff")  # PostgreSQL text cannot hold NUL
    if not text.strip():
        raise ValueError("the page is empty")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError("the page holds characters that are not valid Unicode; save it as UTF-8") from None
    if size > MAX_DOCUMENT_BYTES:
        raise ValueError(f"the page is larger than {MAX_DOCUMENT_BYTES // 1_000_000} MB")
    return text


def _texts(values, what: str) -> tuple[str, ...]:
    """A list of texts, trimmed, empty ones dropped; ValueError for anything but texts."""
    if values is None:
        return ()
    try:
        values = list(values) if not isinstance(values, str) else None
    except TypeError:
        values = None
    if values is None or not all(isinstance(v, str) for v in values):
        raise ValueError(f"{what} must be a list of texts")
    texts = tuple(squash_spaces(v.replace("\x00", "")) for v in values)
    if any(len(t) > MAX_FIELD_CHARS for t in texts):
        raise ValueError(f"one of the {what} is longer than {MAX_FIELD_CHARS} characters")
    return tuple(t for t in texts if t)


def _search_words(search: str) -> list[str]:
    if not isinstance(search, str):
        raise ValueError(f"search must be text, not {type(search).__name__}")
    return search.casefold().split()


def _matches(words: list[str], *fields: str) -> bool:
    """True when every one of `words` (case-folded) occurs in one of `fields`, case aside."""
    haystack = "\n".join(fields).casefold()
    return all(word in haystack for word in words)


def _doc_name(filename: str) -> str:
    """What parse_document makes the doc_id of, without extension, for comparing names."""
    return filename.rsplit("/", 1)[-1].rsplit(".", 1)[0].casefold()


def _faq(row: FaqRow) -> FaqRecord:
    return FaqRecord(row.id, row.question, row.answer, tuple(row.alternates), row.source_title, row.source_url,
                     row.author, row.created_at, row.updated_at, row.updated_by, row.reviewed_by, row.reviewed_at)


def _document(row: DocumentRow) -> DocumentRecord:
    return DocumentRecord(row.id, row.filename, row.suffix, row.text, row.author, row.created_at,
                          row.updated_at, row.updated_by)


def _check(row: CheckQuestionRow) -> CheckQuestion:
    return CheckQuestion(row.id, row.question, row.expect, tuple(row.phrases), row.author, row.created_at)
