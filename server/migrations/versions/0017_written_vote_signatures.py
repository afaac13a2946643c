"""written vote signatures: a signature may also be on the frozen minutes of a written vote's
count (WrittenVote.record_pdf_sha256); still exactly one target per signature

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 02:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TWO_TARGETS = "(record_version_id IS NULL) <> (document_id IS NULL)"
THREE_TARGETS = (
    "(CASE WHEN record_version_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN document_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN written_vote_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def upgrade() -> None:
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.drop_constraint("signature_one_target", type_="check")
        batch_op.add_column(sa.Column("written_vote_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_signature_written_vote_id_writtenvote",
            "writtenvote",
            ["written_vote_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(batch_op.f("ix_signature_written_vote_id"), ["written_vote_id"])
        batch_op.create_unique_constraint(
            "uq_signature_written_vote_id_role", ["written_vote_id", "role"]
        )
        batch_op.create_check_constraint("signature_one_target", THREE_TARGETS)


def downgrade() -> None:
    op.execute("DELETE FROM signature WHERE written_vote_id IS NOT NULL")
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.drop_constraint("signature_one_target", type_="check")
        batch_op.drop_constraint("uq_signature_written_vote_id_role", type_="unique")
        batch_op.drop_index(batch_op.f("ix_signature_written_vote_id"))
        batch_op.drop_constraint("fk_signature_written_vote_id_writtenvote", type_="foreignkey")
        batch_op.drop_column("written_vote_id")
        batch_op.create_check_constraint("signature_one_target", TWO_TARGETS)
