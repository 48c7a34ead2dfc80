"""agent: agents, tools, MCP servers, workspace connections, action log, tool calls, handoffs,
contact facts, idempotency keys.

Revision ID: 0002
"""

from __future__ import annotations

from alembic import op

from services.agent.tables import metadata

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
