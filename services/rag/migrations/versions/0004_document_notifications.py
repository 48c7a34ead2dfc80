"""rag: every change to a document row is announced on the `rag_document_changed` channel.

WatchDocument listens instead of polling. NOTIFY is sent at commit and only if the
transaction commits, so a watcher never sees a state that is rolled back; several changes to
one document in one transaction arrive as one notification.

Revision ID: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE FUNCTION rag_document_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('rag_document_changed', COALESCE(NEW.id, OLD.id)::text);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER documents_changed AFTER INSERT OR UPDATE OR DELETE ON documents
        FOR EACH ROW EXECUTE FUNCTION rag_document_changed()
    """,
]

DOWNGRADE = [
    "DROP TRIGGER documents_changed ON documents",
    "DROP FUNCTION rag_document_changed()",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
