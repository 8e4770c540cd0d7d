"""Tables of the chat log. A change here needs a new script in migrations/versions/."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, ForeignKey, LargeBinary, MetaData, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Named constraints, so a later migration can drop or alter them by name
# (SQLite's batch mode needs names to find them).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 64
KIND_LENGTH = 16


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC; read back as UTC on every database.

    PostgreSQL keeps the zone (timestamptz); SQLite has no zones, so the value
    is written as naive UTC and the zone is put back on reading.
    """
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a timezone (UTC)")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ExchangeRow(Base):
    """One visitor message and what the bot did with it (never the visitor's IP address)."""
    __tablename__ = "exchanges"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(ID_LENGTH), unique=True)
    session_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), index=True)
    message: Mapped[str] = mapped_column(Text)  # already redacted
    kind: Mapped[str] = mapped_column(String(KIND_LENGTH))
    passage_ids: Mapped[list[str]] = mapped_column(JSON)
    scores: Mapped[list[float]] = mapped_column(JSON)
    index_version: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class FeedbackRow(Base):
    """A visitor's thumbs up or down on one exchange; a visitor may send several."""
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    # CASCADE as a safety net: purge deletes feedback itself first.
    message_id: Mapped[str] = mapped_column(
        ForeignKey("exchanges.message_id", ondelete="CASCADE"), index=True)
    helpful: Mapped[bool]
    comment: Mapped[str | None] = mapped_column(Text)  # already redacted
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


# -- staff workspace (migration 0002) ------------------------------------------------

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


class IndexFileRow(Base):
    """One data file of an index version, so every server can fetch the version."""
    __tablename__ = "index_files"

    version: Mapped[str] = mapped_column(
        ForeignKey("index_versions.version", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class PublicationRow(Base):
    """Each publication of a version; the newest row is the version every server serves."""
    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(ForeignKey("index_versions.version"))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    published_by: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    reason: Mapped[str | None] = mapped_column(Text)
