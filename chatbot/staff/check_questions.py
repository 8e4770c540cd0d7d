"""Check questions written by staff: what every candidate index is checked on (checks.py)."""
from __future__ import annotations

from sqlalchemy import delete, select

from ..corpus.faq import MAX_FIELD_CHARS
from ..storage import KINDS, Storage
from ..text import squash_spaces
from .model import BULK, CheckQuestion, checked_id, checked_name, checked_texts, transaction, utc_now
from .tables import CheckQuestionRow


class CheckQuestionStore:
    """Check questions in `storage`'s database.

    Each method is one short transaction; ValueError for a question that
    breaks the rules, StorageError when the database fails.
    """

    def __init__(self, storage: Storage):
        self.storage = storage

    def add_check(self, question: str, expect: str, phrases, author: str) -> CheckQuestion:
        """A new check question; `phrases` (at least one) are required when `expect` is "answer"."""
        if not isinstance(question, str) or not question.strip():
            raise ValueError("the question is missing or empty")
        question = squash_spaces(question.replace("\x00", ""))
        if len(question) > MAX_FIELD_CHARS:
            raise ValueError(f"the question is longer than {MAX_FIELD_CHARS} characters")
        if expect not in KINDS:
            raise ValueError(f"expect must be one of {', '.join(KINDS)}, not {expect!r}")
        phrases = checked_texts(phrases, "phrases", MAX_FIELD_CHARS)
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


def _check(row: CheckQuestionRow) -> CheckQuestion:
    return CheckQuestion(row.id, row.question, row.expect, tuple(row.phrases), row.author, row.created_at)
