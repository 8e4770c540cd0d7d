"""Staff workspace: accounts, audit log, FAQ entries, uploaded pages, check questions,
index versions with their files, and publications.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

EMAIL = sa.String(length=254)


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", EMAIL, nullable=False),
        sa.Column("password_hash", sa.String(length=400), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        _when("created_at"), _when("last_login_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_staff_users"),
        sa.UniqueConstraint("email", name="uq_staff_users_email"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        _when("at"),
        sa.Column("actor", EMAIL, nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "faq_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("alternates", sa.JSON(), nullable=False),
        sa.Column("source_title", sa.Text(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("author", EMAIL, nullable=False),
        _when("created_at"), _when("updated_at"),
        sa.Column("updated_by", EMAIL, nullable=False),
        sa.Column("reviewed_by", EMAIL, nullable=True),
        _when("reviewed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_faq_entries"),
    )
    op.create_table(
        "staff_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("suffix", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", EMAIL, nullable=False),
        _when("created_at"), _when("updated_at"),
        sa.Column("updated_by", EMAIL, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_staff_documents"),
        sa.UniqueConstraint("filename", name="uq_staff_documents_filename"),
    )
    op.create_table(
        "check_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("expect", sa.String(length=16), nullable=False),
        sa.Column("phrases", sa.JSON(), nullable=False),
        sa.Column("author", EMAIL, nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_check_questions"),
    )
    op.create_table(
        "index_versions",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _when("created_at"),
        sa.Column("created_by", EMAIL, nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=200), nullable=False),
        _when("heartbeat_at", nullable=True),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("evaluation", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("version", name="pk_index_versions"),
    )
    op.create_table(
        "index_files",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("version", "name", name="pk_index_files"),
        sa.ForeignKeyConstraint(["version"], ["index_versions.version"],
                                name="fk_index_files_version_index_versions", ondelete="CASCADE"),
    )
    op.create_table(
        "publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        _when("published_at"),
        sa.Column("published_by", EMAIL, nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_publications"),
        sa.ForeignKeyConstraint(["version"], ["index_versions.version"],
                                name="fk_publications_version_index_versions"),
    )
    op.create_index("ix_publications_published_at", "publications", ["published_at"])


def downgrade() -> None:
    for table in ("publications", "index_files", "index_versions", "check_questions",
                  "staff_documents", "faq_entries", "audit_log", "staff_users"):
        op.drop_table(table)
