"""Staff roles and the clinic settings staff edit in the workspace (issue 11).

Every account gets a role; the accounts made before roles existed could do
everything, so they become administrators. Clinic settings (greeting,
contact text, ...) edited in the workspace are one row per setting name.
An index version gets the note staff give when they start its build. Staff
may hide a shipped corpus file from the next builds (one row per file), and
give an uploaded page a publisher and a link.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

EMAIL = sa.String(length=254)


def upgrade() -> None:
    op.add_column("staff_users", sa.Column("role", sa.String(length=16), nullable=True))
    op.execute("UPDATE staff_users SET role = 'admin'")
    with op.batch_alter_table("staff_users") as batch:  # SQLite cannot alter a column in place
        batch.alter_column("role", existing_type=sa.String(length=16), nullable=False)
    op.create_table(
        "clinic_settings",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", EMAIL, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_clinic_settings"),
    )
    op.add_column("index_versions", sa.Column("note", sa.Text(), nullable=True))
    op.create_table(
        "hidden_corpus_files",
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hidden_by", EMAIL, nullable=False),
        sa.PrimaryKeyConstraint("path", name="pk_hidden_corpus_files"),
    )
    op.add_column("staff_documents", sa.Column("publisher", sa.Text(), nullable=True))
    op.add_column("staff_documents", sa.Column("url", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_documents") as batch:
        batch.drop_column("url")
        batch.drop_column("publisher")
    op.drop_table("hidden_corpus_files")
    with op.batch_alter_table("index_versions") as batch:
        batch.drop_column("note")
    op.drop_table("clinic_settings")
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("role")
