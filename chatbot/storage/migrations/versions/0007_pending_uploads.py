"""Uploaded pages waiting on their preview for staff to confirm them (issue 11: the upload
redirects to its preview instead of answering the POST with it).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_pending_uploads",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=254), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("suffix", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token", name="pk_staff_pending_uploads"),
    )
    op.create_index("ix_staff_pending_uploads_created_at", "staff_pending_uploads", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_staff_pending_uploads_created_at", table_name="staff_pending_uploads")
    op.drop_table("staff_pending_uploads")
