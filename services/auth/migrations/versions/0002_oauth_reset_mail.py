"""auth: OAuth identities, password reset tokens, outgoing mail.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _created_at() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def upgrade() -> None:
    op.create_table(
        "oauth_identities",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column(
            "user_id",
            UUID(as_uuid=False),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=True),
        _created_at(),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("provider", "subject", name="oauth_identities_provider_subject"),
    )
    op.create_table(
        "password_reset_tokens",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column("token_hash", sa.LargeBinary, nullable=False, unique=True),
        sa.Column(
            "user_id",
            UUID(as_uuid=False),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        _created_at(),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "outgoing_mail",
        sa.Column("id", UUID(as_uuid=False), primary_key=True),
        sa.Column("message_encrypted", sa.LargeBinary, nullable=False),
        _created_at(),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("discard_after", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("outgoing_mail_due", "outgoing_mail", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_index("outgoing_mail_due", table_name="outgoing_mail")
    op.drop_table("outgoing_mail")
    op.drop_table("password_reset_tokens")
    op.drop_table("oauth_identities")
