"""documents: kind, pages, agenda book document

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 13:01:43.543442
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "documentpage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("width", sa.Float(), nullable=False),
        sa.Column("height", sa.Float(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("folded", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id", "page"),
    )
    with op.batch_alter_table("documentpage", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_documentpage_document_id"), ["document_id"], unique=False
        )

    with op.batch_alter_table("agendabook", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document_id", sa.Integer(), nullable=False))
        batch_op.create_foreign_key(
            "fk_agendabook_document_id", "document", ["document_id"], ["id"], ondelete="CASCADE"
        )

    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                server_default="paper",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_column("kind")

    with op.batch_alter_table("agendabook", schema=None) as batch_op:
        batch_op.drop_constraint("fk_agendabook_document_id", type_="foreignkey")
        batch_op.drop_column("document_id")

    with op.batch_alter_table("documentpage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documentpage_document_id"))

    op.drop_table("documentpage")
