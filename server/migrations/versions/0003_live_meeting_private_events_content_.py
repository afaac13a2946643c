"""live meeting: private events, content keys, attendance details

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 13:29:11.536540
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("annotation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "content_key",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column("set_aside", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "reason",
                sqlmodel.sql.sqltypes.AutoString(length=300),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("documentpage", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "content_key",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=False,
                server_default="",
            )
        )
        batch_op.create_index(
            batch_op.f("ix_documentpage_content_key"), ["content_key"], unique=False
        )

    with op.batch_alter_table("journalevent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("private_to", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("journalevent", schema=None) as batch_op:
        batch_op.drop_column("private_to")

    with op.batch_alter_table("documentpage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documentpage_content_key"))
        batch_op.drop_column("content_key")

    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.drop_column("checked_in_at")
        batch_op.drop_column("reason")

    with op.batch_alter_table("annotation", schema=None) as batch_op:
        batch_op.drop_column("set_aside")
        batch_op.drop_column("content_key")
