"""calendar links: secret-token iCalendar feeds of a person's or a council's meetings, and a
meeting's sequence number, bumped when it moves (server/calendar_links.py)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 00:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "calendarlink",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", text(length=64), nullable=False),
        sa.Column("kind", text(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("body_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["body_id"], ["body.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("calendarlink", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendarlink_token"), ["token"], unique=True)
        batch_op.create_index(batch_op.f("ix_calendarlink_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_calendarlink_body_id"), ["body_id"], unique=False)
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sequence", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_column("sequence")
    with op.batch_alter_table("calendarlink", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendarlink_body_id"))
        batch_op.drop_index(batch_op.f("ix_calendarlink_user_id"))
        batch_op.drop_index(batch_op.f("ix_calendarlink_token"))
    op.drop_table("calendarlink")
