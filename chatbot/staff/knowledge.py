"""What staff write for the bot, in one store: FAQ entries, uploaded pages and check questions.

Each kind has its own module (faq_entries.py, pages.py, check_questions.py);
KnowledgeStore offers all their methods on one object, and adds what an index
build needs of all of them: `as_documents()` and `fingerprint()`.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import replace

from sqlalchemy import delete, select

from ..corpus import Document, FaqEntry, LoadError, parse_document
from ..corpus.faq import MAX_FIELD_CHARS
from .check_questions import CheckQuestionStore
from .faq_entries import FaqStore
from .model import BULK, checked_name, checked_texts, transaction, utc_now
from .pages import DOC_ID_PREFIX, FAQ_DOC_ID, PageStore
from .tables import CheckQuestionRow, DocumentRow, FaqRow, HiddenCorpusFileRow, TaughtQuestionRow

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
            pages = sorted((row.filename, row.suffix, row.text, row.publisher or "", row.url or "")
                           for row in session.scalars(select(DocumentRow)))
        documents: list[Document] = []
        errors: list[LoadError] = []
        if entries:
            documents.append(Document(FAQ_DOC_ID, FAQ_TITLE, entries, kind="faq", path=FAQ_DOC_ID))
        for filename, suffix, text, publisher, url in pages:
            document, problems = parse_document(text, DOC_ID_PREFIX + filename, suffix)
            errors.extend(problems)
            if document is not None:  # the source staff gave in the workspace wins over the page's header
                documents.append(replace(document, publisher=publisher or document.publisher,
                                         url=url or document.url))
        return documents, errors

    def add_taught_questions(self, passage_id: str, questions, author: str) -> int:
        """Add wordings staff taught passage `passage_id` ("questions this passage answers");
        how many. The next build gives them to that passage as its question field."""
        if not isinstance(passage_id, str) or not passage_id.strip() or len(passage_id) > 64:
            raise ValueError("a passage id is 1 to 64 characters")
        questions = checked_texts(questions, "questions", MAX_FIELD_CHARS)
        author = checked_name(author, "author")
        now = utc_now()
        with transaction(self.storage, "teaching a passage its questions", write=True) as session:
            session.add_all(TaughtQuestionRow(passage_id=passage_id.strip(), question=question, author=author,
                                              created_at=now) for question in questions)
        return len(questions)

    def forget_taught_questions(self, passage_id: str) -> int:
        """Delete every wording taught passage `passage_id`; how many (0 for an unknown id)."""
        if not isinstance(passage_id, str):
            raise ValueError("a passage id is text")
        query = delete(TaughtQuestionRow).where(TaughtQuestionRow.passage_id == passage_id.strip())
        with transaction(self.storage, "forgetting taught questions", write=True) as session:
            return session.execute(query, execution_options=BULK).rowcount

    def taught_questions(self) -> dict[str, tuple[str, ...]]:
        """Every passage id staff taught questions, with its wordings, oldest first."""
        taught: dict[str, list[str]] = {}
        query = select(TaughtQuestionRow).order_by(TaughtQuestionRow.id)
        with transaction(self.storage, "reading taught questions") as session:
            for row in session.scalars(query):
                taught.setdefault(row.passage_id, []).append(row.question)
        return {passage_id: tuple(questions) for passage_id, questions in taught.items()}

    def fingerprint(self) -> str:
        """SHA-256 over the content of every FAQ entry, page (with its source), check question, taught
        question and hidden corpus file.

        Content only (no ids, authors or times), in as_documents' order, so it
        changes exactly when a build from this content could differ.
        """
        with transaction(self.storage, "reading staff content") as session:
            items = [("faq", row.question, row.answer, list(row.alternates), row.source_title, row.source_url)
                     for row in session.scalars(select(FaqRow).order_by(FaqRow.id))]
            items += sorted(("page", row.filename, row.suffix, row.text, row.publisher, row.url)
                            for row in session.scalars(select(DocumentRow)))
            items += [("hidden", path) for path in
                      session.scalars(select(HiddenCorpusFileRow.path).order_by(HiddenCorpusFileRow.path))]
            items += [("check", row.question, row.expect, list(row.phrases))
                      for row in session.scalars(select(CheckQuestionRow).order_by(CheckQuestionRow.id))]
            items += [("taught", row.passage_id, row.question)
                      for row in session.scalars(select(TaughtQuestionRow).order_by(TaughtQuestionRow.id))]
        digest = hashlib.sha256()
        for item in items:
            # One JSON array per line: field boundaries cannot be forged by content.
            digest.update(json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
        return digest.hexdigest()
