"""What staff write for the bot, in one store: FAQ entries, uploaded pages and check questions.

Each kind has its own module (faq_entries.py, pages.py, check_questions.py);
KnowledgeStore offers all their methods on one object, and adds what an index
build needs of all of them: `as_documents()` and `fingerprint()`.
"""
from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from ..corpus import Document, FaqEntry, LoadError, parse_document
from .check_questions import CheckQuestionStore
from .faq_entries import FaqStore
from .model import transaction
from .pages import DOC_ID_PREFIX, FAQ_DOC_ID, PageStore
from .tables import CheckQuestionRow, DocumentRow, FaqRow

FAQ_TITLE = "Clinic FAQ"


class KnowledgeStore(FaqStore, PageStore, CheckQuestionStore):
    """FAQ entries, uploaded pages and check questions in `storage`'s database.

    Each method is one short transaction; ValueError for content that breaks
    the rules, StorageError when the database fails.
    """

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
