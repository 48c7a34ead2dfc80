"""llm: inbound messages (coalescing), usage counters, contact facts.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_messages",
        sa.Column("message_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
        sa.Column("owner_id", UUID(as_uuid=False), nullable=False),
        sa.Column("integration_id", UUID(as_uuid=False), nullable=False),
        sa.Column("contact_id", UUID(as_uuid=False), nullable=False),
        sa.Column("event_id", UUID(as_uuid=False), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("message_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("reply_id", UUID(as_uuid=False), nullable=True),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("sentiment", sa.Float, nullable=False, server_default="0"),
        sa.Column("intents", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index(
        "inbound_messages_conversation",
        "inbound_messages",
        ["owner_id", "contact_id", "message_time", "seq"],
    )
    op.create_table(
        "usage_counters",
        sa.Column("owner_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("period", sa.Text, primary_key=True),
        sa.Column("agent_id", sa.Text, primary_key=True),
        sa.Column("input_tokens", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("output_tokens", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("messages_answered", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("playground_input_tokens", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("playground_output_tokens", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("playground_replies", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "contact_facts",
        sa.Column("owner_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("contact_id", UUID(as_uuid=False), primary_key=True),
        sa.Column("facts", JSONB, nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    op.drop_table("contact_facts")
    op.drop_table("usage_counters")
    op.drop_index("inbound_messages_conversation", table_name="inbound_messages")
    op.drop_table("inbound_messages")
