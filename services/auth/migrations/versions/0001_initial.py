"""auth: users, subscriptions, refresh tokens, signing keys, outbox/inbox.

Revision ID: 0001
"""

from __future__ import annotations

from alembic import op

from services.auth.tables import metadata
from services.kit.tables import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind())
    create_messaging_tables()


def downgrade() -> None:
    drop_messaging_tables()
    metadata.drop_all(op.get_bind())
