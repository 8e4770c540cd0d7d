"""Indexes the usage page's queries need at a million exchanges (issue 11).

exchanges (created_at, kind, session_id): the per-day, per-kind and
conversation counts of a date range are read from the index alone.
feedback (message_id, created_at): each exchange's newest verdict in order.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""
from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_exchanges_created_at_kind_session_id", "exchanges", ["created_at", "kind", "session_id"])
    op.create_index("ix_feedback_message_id_created_at", "feedback", ["message_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_feedback_message_id_created_at", table_name="feedback")
    op.drop_index("ix_exchanges_created_at_kind_session_id", table_name="exchanges")
