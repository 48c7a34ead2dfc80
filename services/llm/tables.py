"""llm's tables (its own database)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = sa.MetaData()

# Every inbound message the reply pipeline has seen, for burst coalescing and supersession.
# `status`: pending (waiting for its burst to be answered), answered, skipped, escalated,
# suppressed. The newest pending message of a contact answers the whole burst.
inbound = sa.Table(
    "inbound_messages",
    metadata,
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

# Usage per owner, month (`YYYY-MM`) and agent ('' when no agent was involved).
usage = sa.Table(
    "usage_counters",
    metadata,
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

# What `save_user_info` learned about a contact (from the agent's user_info.saved events).
contact_facts = sa.Table(
    "contact_facts",
    metadata,
    sa.Column("owner_id", UUID(as_uuid=False), primary_key=True),
    sa.Column("contact_id", UUID(as_uuid=False), primary_key=True),
    sa.Column("facts", JSONB, nullable=False),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)
