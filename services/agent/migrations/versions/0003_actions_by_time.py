"""agent: an index on the action log's time, for pruning by age.

Revision ID: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0002 builds from the live metadata, which already has the index on a fresh database.
    op.execute("CREATE INDEX IF NOT EXISTS actions_by_time ON actions (created_at)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS actions_by_time")
