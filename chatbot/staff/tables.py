"""Tables of the staff workspace (migration 0002): accounts, audit log, FAQ entries, pages,
check questions, index versions, their files and publications.

Declared on the chat log's `Base` (chatbot/storage/tables.py), so one MetaData
holds every table of the database, as the migrations in
chatbot/storage/migrations/ build it. A change here needs a new script there.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.tables import ID_LENGTH, KIND_LENGTH, Base, UtcDateTime

EMAIL_LENGTH = 254


class StaffUserRow(Base):
    """A staff account. `session_version` changes to end every session of the account."""
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(String(400))
    active: Mapped[bool] = mapped_column(default=True)
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    role: Mapped[str] = mapped_column(String(16))  # staff/roles.py; migration 0005


class AuditRow(Base):
    """Who did what, when: one row per staff action."""
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON)


class FaqRow(Base):
    """An FAQ entry written by staff."""
    __tablename__ = "faq_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    alternates: Mapped[list[str]] = mapped_column(JSON)
    source_title: Mapped[str | None] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    reviewed_by: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PendingUploadRow(Base):
    """A page uploaded and shown as a preview, kept until staff confirm it (migration 0007): the
    preview is a page of its own (a GET after the upload's POST), on whichever server answers it."""
    __tablename__ = "staff_pending_uploads"

    token: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    author: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    filename: Mapped[str] = mapped_column(String(255))
    suffix: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class DocumentRow(Base):
    """A page uploaded by staff (text, Markdown or HTML), kept as uploaded."""
    __tablename__ = "staff_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255), unique=True)
    suffix: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    # The source visitors see, set in the workspace; wins over the page's own header (migration 0005).
    publisher: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)


class HiddenCorpusFileRow(Base):
    """A file of the corpus folder staff hid from the next builds (migration 0005); `path` is
    relative to the corpus folder, as in a Document's path."""
    __tablename__ = "hidden_corpus_files"

    path: Mapped[str] = mapped_column(String(500), primary_key=True)
    hidden_at: Mapped[datetime] = mapped_column(UtcDateTime)
    hidden_by: Mapped[str] = mapped_column(String(EMAIL_LENGTH))


class CheckQuestionRow(Base):
    """A question staff want every candidate index checked on."""
    __tablename__ = "check_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    expect: Mapped[str] = mapped_column(String(KIND_LENGTH))
    phrases: Mapped[list[str]] = mapped_column(JSON)
    author: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IndexVersionRow(Base):
    """An index build: its progress while building, then its report and evaluation."""
    __tablename__ = "index_versions"

    version: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    progress: Mapped[int] = mapped_column(default=0)
    stage: Mapped[str] = mapped_column(String(200), default="")
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    report: Mapped[dict] = mapped_column(JSON)
    evaluation: Mapped[dict] = mapped_column(JSON)
    changes: Mapped[list] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)  # why it was built, in staff's words (migration 0005)


class IndexFileRow(Base):
    """One data file of an index version, so every server can fetch the version."""
    __tablename__ = "index_files"

    version: Mapped[str] = mapped_column(
        ForeignKey("index_versions.version", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ClinicSettingRow(Base):
    """A clinic setting (greeting, contact text, ...) edited in the workspace (migration 0005);
    it wins over config.toml for its name. `value` is a text, or a list of texts."""
    __tablename__ = "clinic_settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(EMAIL_LENGTH))


class PublicationRow(Base):
    """Each publication of a version; the newest row is the version every server serves."""
    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(ForeignKey("index_versions.version"))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    published_by: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    reason: Mapped[str | None] = mapped_column(Text)


class InboxDecisionRow(Base):
    """What staff decided about one visitor question of the inbox (migration 0003): answered
    by an entry or passage, not something the clinic answers, or dismissed. No visitor text:
    the row goes with its exchange when the chat log is purged."""
    __tablename__ = "inbox_decisions"

    message_id: Mapped[str] = mapped_column(
        ForeignKey("exchanges.message_id", ondelete="CASCADE"), primary_key=True)
    decision: Mapped[str] = mapped_column(String(KIND_LENGTH))
    target: Mapped[str | None] = mapped_column(String(ID_LENGTH))  # "faq:<id>" or a passage id
    actor: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TaughtQuestionRow(Base):
    """A wording staff taught a document passage from the inbox: "questions this passage
    answers", the passage's question field in the next build (migration 0003)."""
    __tablename__ = "taught_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    passage_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    question: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class UsageDayRow(Base):
    """The usage figures of one past UTC day, kept so a long range is summed, not counted again
    (chatbot/staff/usage_days.py; migration 0006). A cache: it can always be rebuilt from the log."""
    __tablename__ = "usage_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    questions: Mapped[int]
    conversations: Mapped[int]
    continued: Mapped[int]             # conversations of the day seen the day before too
    kinds: Mapped[dict] = mapped_column(JSON)     # reply kind -> questions
    rated: Mapped[int]
    helpful: Mapped[int]
    passages: Mapped[dict] = mapped_column(JSON)  # first passage of answers -> answers (the day's top)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime)


# Every table of the database, the chat log's and the ones above: what the
# migrations build, and what alembic's autogenerate compares a database with.
DATABASE_METADATA = Base.metadata
