"""social: the agent's handoffs, mirrored into the contacts' `agent_paused`.

Revision ID: 0003
Revises: 0002

As in 0002, a fresh database gets the table from 0001 (built from `tables.py`), so every
statement is a no-op when its object exists.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_UPGRADE = """
CREATE TABLE IF NOT EXISTS handoffs (
    id uuid PRIMARY KEY,
    owner_id uuid NOT NULL,
    contact_id uuid NOT NULL,
    resolved boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS handoffs_open_by_contact ON handoffs (owner_id, contact_id, resolved)
"""


def upgrade() -> None:
    for statement in _UPGRADE.split(";"):
        op.execute(statement.strip())


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS handoffs")
