"""Tables of the chat log, and the MetaData every table of the database is declared on.

The staff workspace's tables are declared on the same `Base` in
chatbot/staff/tables.py (staff sits above storage, so storage does not import
them); migrations/env.py imports both. A change to either needs a new script
in migrations/versions/.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, MetaData, String, Text
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
    # The usage page counts per day, kind and session from this index alone (migration 0004).
    __table_args__ = (Index("ix_exchanges_created_at_kind_session_id", "created_at", "kind", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(ID_LENGTH), unique=True)
    session_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), index=True)
    message: Mapped[str] = mapped_column(Text)  # already redacted
    kind: Mapped[str] = mapped_column(String(KIND_LENGTH))
    passage_ids: Mapped[list[str]] = mapped_column(JSON)
    scores: Mapped[list[float]] = mapped_column(JSON)
    index_version: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    confidence: Mapped[float | None] = mapped_column(Float)  # answer probability of a retrieval reply (0003)


class FeedbackRow(Base):
    """A visitor's thumbs up or down on one exchange; a visitor may send several."""
    __tablename__ = "feedback"
    # Each exchange's newest verdict, read in order from the index (usage page, migration 0004).
    __table_args__ = (Index("ix_feedback_message_id_created_at", "message_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # CASCADE as a safety net: purge deletes feedback itself first.
    message_id: Mapped[str] = mapped_column(
        ForeignKey("exchanges.message_id", ondelete="CASCADE"), index=True)
    helpful: Mapped[bool]
    comment: Mapped[str | None] = mapped_column(Text)  # already redacted
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
