"""journal chain: each journal event carries the hash of the one before it (per meeting),
a frozen record version the head's hash, a secret vote's box its count of ballots

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from server import chain

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

text = sqlmodel.sql.sqltypes.AutoString
BATCH = 1000

events = sa.table(
    "journalevent",
    sa.column("id", sa.Integer()),
    sa.column("meeting_id", sa.Integer()),
    sa.column("seq", sa.Integer()),
    sa.column("type", sa.String()),
    sa.column("payload", sa.JSON()),
    sa.column("actor_id", sa.Integer()),
    sa.column("private_to", sa.Integer()),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("hash", sa.String()),
)
versions = sa.table(
    "recordversion",
    sa.column("id", sa.Integer()),
    sa.column("meeting_id", sa.Integer()),
    sa.column("journal_seq", sa.Integer()),
    sa.column("journal_hash", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("journalevent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hash", text(length=64), nullable=False, server_default=""))
    with op.batch_alter_table("recordversion", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("journal_hash", text(length=64), nullable=False, server_default="")
        )
    op.create_table(
        "ballotcount",
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("ballots", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["vote_id"], ["vote.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("vote_id"),
    )
    _chain_old_events()


def _chain_old_events() -> None:
    """Hashes the events already kept, meeting by meeting in seq order, with the same
    function the journal uses; then each frozen version gets the hash at its seq."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            events.c.id,
            events.c.meeting_id,
            events.c.seq,
            events.c.type,
            events.c.payload,
            events.c.actor_id,
            events.c.private_to,
            events.c.at,
        ).order_by(events.c.meeting_id, events.c.seq)
    )
    previous: dict[int, str] = {}
    at_seq: dict[tuple[int, int], str] = {}
    pending: list[dict[str, object]] = []
    for row in rows.all():
        digest = chain.event_hash(
            previous.get(row.meeting_id, chain.GENESIS),
            row.meeting_id,
            row.seq,
            row.type,
            row.payload,
            row.actor_id,
            row.private_to,
            row.at,
        )
        previous[row.meeting_id] = digest
        at_seq[(row.meeting_id, row.seq)] = digest
        pending.append({"row_id": row.id, "digest": digest})
    update = (
        events.update()
        .where(events.c.id == sa.bindparam("row_id"))
        .values(hash=sa.bindparam("digest"))
    )
    for start in range(0, len(pending), BATCH):
        bind.execute(update, pending[start : start + BATCH])
    frozen = bind.execute(
        sa.select(versions.c.id, versions.c.meeting_id, versions.c.journal_seq)
    ).all()
    for version in frozen:
        digest = at_seq.get((version.meeting_id, version.journal_seq), "")
        bind.execute(
            versions.update().where(versions.c.id == version.id).values(journal_hash=digest)
        )


def downgrade() -> None:
    op.drop_table("ballotcount")
    with op.batch_alter_table("recordversion", schema=None) as batch_op:
        batch_op.drop_column("journal_hash")
    with op.batch_alter_table("journalevent", schema=None) as batch_op:
        batch_op.drop_column("hash")
