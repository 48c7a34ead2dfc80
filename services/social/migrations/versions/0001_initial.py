"""social: integrations, contacts, messages, webhook updates, outbox/inbox.

Revision ID: 0001
"""

from __future__ import annotations

from alembic import op

from services.kit.tables import create_messaging_tables, drop_messaging_tables
from services.social.tables import metadata

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
