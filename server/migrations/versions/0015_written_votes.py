"""written votes between sessions: a question sent to a council's delegates with its papers
and a deadline, and their answers, one each (server/written_votes.py)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "writtenvote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("title", text(length=500), nullable=False),
        sa.Column("question", text(length=5000), nullable=False),
        sa.Column("majority_base", text(length=16), nullable=False),
        sa.Column("threshold", text(length=24), nullable=False),
        sa.Column("status", text(length=16), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("papers", sa.JSON(), nullable=False),
        sa.Column("voters", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("record", sa.JSON(), nullable=True),
        sa.Column("record_sha256", text(length=64), nullable=False),
        sa.Column("record_pdf_sha256", text(length=64), nullable=False),
        sa.ForeignKeyConstraint(["body_id"], ["body.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["opened_by"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("writtenvote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_writtenvote_body_id"), ["body_id"], unique=False)
    op.create_table(
        "writtenballot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("voter_id", sa.Integer(), nullable=False),
        sa.Column("choice", text(length=16), nullable=False),
        sa.Column("cast_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["vote_id"], ["writtenvote.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["voter_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("vote_id", "voter_id"),
    )
    with op.batch_alter_table("writtenballot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_writtenballot_vote_id"), ["vote_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("writtenballot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_writtenballot_vote_id"))
    op.drop_table("writtenballot")
    with op.batch_alter_table("writtenvote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_writtenvote_body_id"))
    op.drop_table("writtenvote")
