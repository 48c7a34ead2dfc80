"""agent's tables (its own database). Resources are stored as their proto bytes (`spec`, with
secrets, ids and times cleared) next to the columns that queries filter and sort on."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = sa.MetaData()


def _times() -> list[sa.Column]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    ]


agents = sa.Table(
    "agents",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column("owner_id", UUID(as_uuid=False), nullable=False),
    sa.Column("spec", sa.LargeBinary, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("integration_ids", ARRAY(sa.Text), nullable=False),
    sa.Column("tool_ids", ARRAY(sa.Text), nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False, server_default="1"),
    *_times(),
    sa.Index("agents_by_owner", "owner_id", "created_at", "id"),
)

# Results of creates retried with a `request_id` (kept 24 hours).
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("owner_id", UUID(as_uuid=False), primary_key=True),
    sa.Column("scope", sa.Text, primary_key=True),
    sa.Column("request_id", sa.Text, primary_key=True),
    sa.Column("response", sa.LargeBinary, nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

actions = sa.Table(
    "actions",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column("owner_id", UUID(as_uuid=False), nullable=False),
    sa.Column("agent_id", sa.Text, nullable=False, server_default=""),
    sa.Column("contact_id", sa.Text, nullable=False, server_default=""),
    sa.Column("message_id", sa.Text, nullable=False, server_default=""),
    sa.Column("kind", sa.Integer, nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("spec", sa.LargeBinary, nullable=False),
    *_times(),
    sa.Index("actions_by_owner", "owner_id", sa.text("created_at DESC"), sa.text("id DESC")),
    sa.Index("actions_by_time", "created_at"),
)

# One row per ExecuteTool call_id: the recorded outcome replayed on a retry (kept 24 hours).
tool_calls = sa.Table(
    "tool_calls",
    metadata,
    sa.Column("owner_id", UUID(as_uuid=False), primary_key=True),
    sa.Column("call_id", sa.Text, primary_key=True),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("action_id", UUID(as_uuid=False), nullable=False),
    sa.Column("response", sa.LargeBinary, nullable=True),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

handoffs = sa.Table(
    "handoffs",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column("owner_id", UUID(as_uuid=False), nullable=False),
    sa.Column("agent_id", sa.Text, nullable=False, server_default=""),
    sa.Column("integration_id", UUID(as_uuid=False), nullable=False),
    sa.Column("contact_id", UUID(as_uuid=False), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("state", sa.Integer, nullable=False),
    sa.Column("requested_by", sa.Integer, nullable=False),
    sa.Column("request_action_id", sa.Text, nullable=False, server_default=""),
    sa.Column("resolution_note", sa.Text, nullable=False, server_default=""),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("handoffs_by_owner", "owner_id", sa.text("created_at DESC"), sa.text("id DESC")),
    # At most one open handoff per conversation: every path converges on it.
    sa.Index(
        "handoffs_one_open",
        "owner_id",
        "contact_id",
        unique=True,
        postgresql_where=sa.text("state = 1"),
    ),
)

contact_facts = sa.Table(
    "contact_facts",
    metadata,
    sa.Column("owner_id", UUID(as_uuid=False), primary_key=True),
    sa.Column("contact_id", UUID(as_uuid=False), primary_key=True),
    sa.Column("facts", JSONB, nullable=False),
    *_times(),
)

tools = sa.Table(
    "tools",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column("owner_id", UUID(as_uuid=False), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Integer, nullable=False),
    sa.Column("mcp_server_id", UUID(as_uuid=False), nullable=True),
    sa.Column("spec", sa.LargeBinary, nullable=False),
    sa.Column("sealed_secrets", sa.LargeBinary, nullable=True),
    *_times(),
    sa.UniqueConstraint("owner_id", "name", name="tools_name_unique"),
)

mcp_servers = sa.Table(
    "mcp_servers",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column("owner_id", UUID(as_uuid=False), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("spec", sa.LargeBinary, nullable=False),
    sa.Column("sealed_auth", sa.LargeBinary, nullable=True),
    *_times(),
    sa.UniqueConstraint("owner_id", "name", name="mcp_servers_name_unique"),
)

tool_connections = sa.Table(
    "tool_connections",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column("owner_id", UUID(as_uuid=False), nullable=False),
    sa.Column("provider", sa.Integer, nullable=False),
    sa.Column("spec", sa.LargeBinary, nullable=False),
    sa.Column("sealed_secret", sa.LargeBinary, nullable=True),
    *_times(),
    sa.Index("tool_connections_by_owner", "owner_id", "created_at", "id"),
)
