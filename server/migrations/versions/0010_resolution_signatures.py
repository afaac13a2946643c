"""resolution signatures: a signature is on a frozen record version or on a document (an
adopted resolution, Document.kind "resolution"), exactly one of the two

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 23:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_TARGET = "(record_version_id IS NULL) <> (document_id IS NULL)"


def upgrade() -> None:
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.alter_column("record_version_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("document_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_signature_document_id_document",
            "document",
            ["document_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(batch_op.f("ix_signature_document_id"), ["document_id"])
        batch_op.create_unique_constraint("uq_signature_document_id_role", ["document_id", "role"])
        batch_op.create_check_constraint("signature_one_target", ONE_TARGET)


def downgrade() -> None:
    op.execute("DELETE FROM signature WHERE document_id IS NOT NULL")
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.drop_constraint("signature_one_target", type_="check")
        batch_op.drop_constraint("uq_signature_document_id_role", type_="unique")
        batch_op.drop_index(batch_op.f("ix_signature_document_id"))
        batch_op.drop_constraint("fk_signature_document_id_document", type_="foreignkey")
        batch_op.drop_column("document_id")
        batch_op.alter_column("record_version_id", existing_type=sa.Integer(), nullable=False)
