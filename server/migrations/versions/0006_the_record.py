"""the record: body kind and membership, meeting secretary, hand counts, minutes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("body", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", text(length=8), server_default="other", nullable=False)
        )
        batch_op.add_column(sa.Column("members", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("term", text(length=64), server_default="", nullable=False))
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secretary_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_meeting_secretary_id_user", "user", ["secretary_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("method", text(length=16), server_default="electronic", nullable=False)
        )
        batch_op.add_column(sa.Column("counted_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_vote_counted_by_user", "user", ["counted_by"], ["id"], ondelete="SET NULL"
        )
    op.create_table(
        "minutesdraft",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("number", text(length=64), nullable=False),
        sa.Column("opening", text(), nullable=False),
        sa.Column("other", text(), nullable=False),
        sa.Column("recipients", text(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["updated_by"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("meeting_id"),
    )
    op.create_table(
        "minutesnote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("summary", text(), nullable=False),
        sa.Column("conclusion", text(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["agendaitem.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["updated_by"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "item_id"),
    )
    with op.batch_alter_table("minutesnote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_minutesnote_meeting_id"), ["meeting_id"], unique=False)
    op.create_table(
        "recordversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("kind", text(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("sha256", text(length=64), nullable=False),
        sa.Column("pdf_sha256", text(length=64), nullable=False),
        sa.Column("journal_seq", sa.Integer(), nullable=False),
        sa.Column("frozen_by", sa.Integer(), nullable=True),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["frozen_by"], ["user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "kind", "version"),
    )
    with op.batch_alter_table("recordversion", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recordversion_meeting_id"), ["meeting_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("recordversion")
    op.drop_table("minutesnote")
    op.drop_table("minutesdraft")
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.drop_constraint("fk_vote_counted_by_user", type_="foreignkey")
        batch_op.drop_column("counted_by")
        batch_op.drop_column("method")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_constraint("fk_meeting_secretary_id_user", type_="foreignkey")
        batch_op.drop_column("secretary_id")
    with op.batch_alter_table("body", schema=None) as batch_op:
        batch_op.drop_column("term")
        batch_op.drop_column("members")
        batch_op.drop_column("kind")
