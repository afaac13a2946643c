"""signatures: digital signatures on frozen record versions (server/signing)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 23:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "signature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_version_id", sa.Integer(), nullable=False),
        sa.Column("role", text(length=16), nullable=False),
        sa.Column("signer_id", sa.Integer(), nullable=True),
        sa.Column("subject", text(length=500), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pdf_sha256", text(length=64), nullable=False),
        sa.Column("code", text(length=64), nullable=False),
        sa.Column("timestamped", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["record_version_id"], ["recordversion.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["signer_id"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_version_id", "role"),
    )
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signature_code"), ["code"], unique=True)
        batch_op.create_index(
            batch_op.f("ix_signature_record_version_id"), ["record_version_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signature_record_version_id"))
        batch_op.drop_index(batch_op.f("ix_signature_code"))
    op.drop_table("signature")
