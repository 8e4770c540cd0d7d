"""The inbox of questions to review: each exchange's answer probability, the wordings staff
taught passages, the state of review groups (issue 11).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

EMAIL = sa.String(length=254)


def upgrade() -> None:
    # Nullable: exchanges recorded before, and replies that are not retrieval, have none.
    with op.batch_alter_table("exchanges") as batch:
        batch.add_column(sa.Column("confidence", sa.Float(), nullable=True))
    op.create_table(
        "inbox_decisions",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=True),
        sa.Column("actor", EMAIL, nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        # CASCADE: purging an exchange takes staff's decision on it along.
        sa.ForeignKeyConstraint(["message_id"], ["exchanges.message_id"],
                                name="fk_inbox_decisions_message_id_exchanges", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("message_id", name="pk_inbox_decisions"),
    )
    op.create_table(
        "taught_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("passage_id", sa.String(length=64), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("author", EMAIL, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_taught_questions"),
    )
    op.create_index("ix_taught_questions_passage_id", "taught_questions", ["passage_id"])


def downgrade() -> None:
    op.drop_index("ix_taught_questions_passage_id", table_name="taught_questions")
    op.drop_table("taught_questions")
    op.drop_table("inbox_decisions")
    with op.batch_alter_table("exchanges") as batch:
        batch.drop_column("confidence")
