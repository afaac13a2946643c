"""administration: council rosters, forced password change, one-time reset links, the audit
list (append-only), document versions

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 20:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

text = sqlmodel.sql.sqltypes.AutoString

APPEND_ONLY = {
    "postgresql": [
        """CREATE FUNCTION adminchange_append_only() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION 'adminchange is append-only'; END; $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER adminchange_append_only BEFORE UPDATE OR DELETE ON adminchange
        FOR EACH ROW EXECUTE FUNCTION adminchange_append_only()""",
    ],
    "sqlite": [
        """CREATE TRIGGER adminchange_no_update BEFORE UPDATE ON adminchange
        BEGIN SELECT RAISE(ABORT, 'adminchange is append-only'); END""",
        """CREATE TRIGGER adminchange_no_delete BEFORE DELETE ON adminchange
        BEGIN SELECT RAISE(ABORT, 'adminchange is append-only'); END""",
    ],
}


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            "fk_document_previous_id_document",
            "document",
            ["previous_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("title", text(length=200), nullable=False),
        sa.Column("seat", text(length=32), nullable=False),
        sa.Column("group", text(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["body_id"], ["body.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("body_id", "user_id"),
    )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_body_id"), ["body_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_member_user_id"), ["user_id"], unique=False)
    op.create_table(
        "passwordreset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", text(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256"),
    )
    with op.batch_alter_table("passwordreset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_passwordreset_user_id"), ["user_id"], unique=False)
    op.create_table(
        "adminchange",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", text(length=64), nullable=False),
        sa.Column("action", text(length=64), nullable=False),
        sa.Column("target", text(length=200), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("adminchange", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_adminchange_at"), ["at"], unique=False)
    for statement in APPEND_ONLY.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS adminchange_append_only ON adminchange")
        op.execute("DROP FUNCTION IF EXISTS adminchange_append_only()")
    op.drop_table("adminchange")
    op.drop_table("passwordreset")
    op.drop_table("member")
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_constraint("fk_document_previous_id_document", type_="foreignkey")
        batch_op.drop_column("replaced_at")
        batch_op.drop_column("previous_id")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")
