"""Pages uploaded by staff (text, Markdown or HTML): added, replaced, deleted, searched.

A page is kept as uploaded and parsed like a corpus file of the same
extension when an index is built (knowledge.py), as doc_id
"staff/<filename without extension>".
"""
from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import timedelta

from sqlalchemy import delete, select

from ..storage import Storage, StorageError
from ..text import squash_spaces
from .model import (
    BULK,
    DocumentRecord,
    checked_id,
    checked_name,
    is_conflict,
    matches_search,
    search_words,
    transaction,
    utc_now,
)
from .tables import DocumentRow, PendingUploadRow

DOCUMENT_SUFFIXES = (".md", ".txt", ".html")
MAX_DOCUMENT_BYTES = 2_000_000
MAX_FILENAME_LENGTH = 255  # DocumentRow.filename
MAX_SOURCE_CHARS = 2000  # a page's publisher or link
PENDING_UPLOAD_TTL = timedelta(hours=1)  # how long a previewed upload waits for its confirmation
# Staff content gets doc_ids of its own, apart from the corpus folder's; the
# FAQ entries together are one document, which no page may shadow.
DOC_ID_PREFIX = "staff/"
FAQ_DOC_ID = DOC_ID_PREFIX + "faq"


class PageStore:
    """Uploaded pages in `storage`'s database.

    Each method is one short transaction; ValueError for content that breaks
    the rules, StorageError when the database fails.
    """

    def __init__(self, storage: Storage):
        self.storage = storage

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

    def set_source(self, doc_id: int, publisher: str | None, url: str | None, editor: str) -> DocumentRecord | None:
        """The page with the publisher and link visitors see as its source (None: the page's own
        header, if any); None for an unknown id. ValueError for a link that is not http(s) or
        values over MAX_SOURCE_CHARS."""
        doc_id = checked_id(doc_id, "a page id")
        publisher, url = checked_source(publisher, url)
        editor = checked_name(editor, "editor")
        with transaction(self.storage, "setting a page's source", write=True) as session:
            row = session.get(DocumentRow, doc_id)
            if row is None:
                return None
            if (publisher, url) != (row.publisher, row.url):
                row.publisher, row.url, row.updated_at, row.updated_by = publisher, url, utc_now(), editor
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
        words = search_words(search)
        with transaction(self.storage, "listing pages") as session:
            records = [_document(row) for row in session.scalars(select(DocumentRow))]
        # Sorted here, not by the database: the same order whatever its collation.
        records.sort(key=lambda r: r.filename)
        return [r for r in records if matches_search(words, r.filename, r.text)]

    # -- uploads waiting for confirmation ------------------------------------------------
    def hold_upload(self, filename: str, suffix: str, text: str, author: str) -> str:
        """Keep an uploaded page until `author` confirms it; its token (random, for that author only).

        Uploads held longer than PENDING_UPLOAD_TTL are dropped first; ValueError as for add_document.
        """
        suffix = checked_suffix(suffix)
        text = checked_page_text(text)
        author = checked_name(author, "author")
        token, now = secrets.token_urlsafe(24), utc_now()
        with transaction(self.storage, "keeping an upload", write=True) as session:
            session.execute(delete(PendingUploadRow).where(PendingUploadRow.created_at < now - PENDING_UPLOAD_TTL),
                            execution_options=BULK)
            session.add(PendingUploadRow(token=token, author=author, filename=safe_filename(filename, suffix),
                                         suffix=suffix, text=text, created_at=now))
        return token

    def held_upload(self, token: str, author: str) -> tuple[str, str, str] | None:
        """(filename, suffix, text) of the upload `author` holds under `token`; None when unknown,
        someone else's or older than PENDING_UPLOAD_TTL."""
        if not isinstance(token, str) or not token or len(token) > 64:
            return None
        with transaction(self.storage, "reading an upload") as session:
            row = session.get(PendingUploadRow, token)
            if row is None or row.author != author or row.created_at < utc_now() - PENDING_UPLOAD_TTL:
                return None
            return row.filename, row.suffix, row.text

    def drop_upload(self, token: str) -> None:
        """Forget a held upload (confirmed or abandoned)."""
        with transaction(self.storage, "dropping an upload", write=True) as session:
            session.execute(delete(PendingUploadRow).where(PendingUploadRow.token == token), execution_options=BULK)


def checked_source(publisher, url) -> tuple[str | None, str | None]:
    """(publisher, url) trimmed, blanks as None; ValueError for non-text, too long, or a link
    that is not http(s)."""
    values = []
    for name, value in (("publisher", publisher), ("link", url)):
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{name} must be text, not {type(value).__name__}")
        value = " ".join((value or "").replace("\x00", "").split()) or None
        if value and len(value) > MAX_SOURCE_CHARS:
            raise ValueError(f"{name} is longer than {MAX_SOURCE_CHARS} characters")
        values.append(value)
    publisher, url = values
    if url and not re.match(r"^https?://[^\s/]+", url, re.IGNORECASE):
        raise ValueError("the link must start with http:// or https://")
    return publisher, url


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


def _doc_name(filename: str) -> str:
    """What parse_document makes the doc_id of, without extension, for comparing names."""
    return filename.rsplit("/", 1)[-1].rsplit(".", 1)[0].casefold()


def _document(row: DocumentRow) -> DocumentRecord:
    return DocumentRecord(row.id, row.filename, row.suffix, row.text, row.author, row.created_at,
                          row.updated_at, row.updated_by, row.publisher, row.url)
