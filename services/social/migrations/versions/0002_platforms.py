"""social: VK, X and MAX; the send queue, owner messages, OAuth states, contact syncs.

Revision ID: 0002
Revises: 0001

Revision 0001 creates the tables from the live `tables.py` metadata, so a fresh database
already has everything below once 0001 has run; a database created by an older 0001 gets it
here. Every statement is therefore written to be a no-op when its object exists.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_UPGRADE = """
ALTER TABLE integrations ADD COLUMN IF NOT EXISTS credentials_expire_at timestamptz;
ALTER TABLE integrations ADD COLUMN IF NOT EXISTS webhook_ref text NOT NULL DEFAULT '';

ALTER TABLE contacts ADD COLUMN IF NOT EXISTS avatar_url text NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS contacts_owner_created ON contacts (owner_id, created_at, id);

ALTER TABLE messages ADD COLUMN IF NOT EXISTS next_attempt_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE messages ADD COLUMN IF NOT EXISTS attempts integer NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN IF NOT EXISTS deleted boolean NOT NULL DEFAULT false;
ALTER TABLE messages ADD COLUMN IF NOT EXISTS request_id uuid;
CREATE UNIQUE INDEX IF NOT EXISTS messages_request_unique ON messages (owner_id, request_id);
CREATE INDEX IF NOT EXISTS messages_outbound_queue
    ON messages (contact_id, created_at, reply_part, id)
    WHERE status = 'pending' AND direction = 'outbound';

CREATE TABLE IF NOT EXISTS oauth_states (
    state_hash text PRIMARY KEY,
    owner_id uuid NOT NULL,
    platform text NOT NULL CONSTRAINT platform_valid CHECK (platform IN ('x', 'vk')),
    code_verifier_encrypted bytea NOT NULL,
    redirect_uri text NOT NULL,
    display_name text NOT NULL DEFAULT '',
    default_contact_policy text NOT NULL DEFAULT 'allow_all',
    integration_id uuid,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS contact_syncs (
    id uuid PRIMARY KEY,
    owner_id uuid NOT NULL,
    integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    state text NOT NULL
        CONSTRAINT state_valid CHECK (state IN ('running', 'succeeded', 'failed')),
    started_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz,
    lease_until timestamptz NOT NULL,
    contacts_seen integer NOT NULL DEFAULT 0,
    contacts_created integer NOT NULL DEFAULT 0,
    contacts_updated integer NOT NULL DEFAULT 0,
    error_message text NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS contact_syncs_latest ON contact_syncs (integration_id, started_at);
CREATE UNIQUE INDEX IF NOT EXISTS contact_syncs_running ON contact_syncs (integration_id)
    WHERE state = 'running';
"""

_DOWNGRADE = """
DROP TABLE IF EXISTS contact_syncs;
DROP TABLE IF EXISTS oauth_states;
DROP INDEX IF EXISTS messages_outbound_queue;
DROP INDEX IF EXISTS messages_request_unique;
ALTER TABLE messages DROP COLUMN IF EXISTS request_id;
ALTER TABLE messages DROP COLUMN IF EXISTS deleted;
ALTER TABLE messages DROP COLUMN IF EXISTS attempts;
ALTER TABLE messages DROP COLUMN IF EXISTS next_attempt_at;
DROP INDEX IF EXISTS contacts_owner_created;
ALTER TABLE contacts DROP COLUMN IF EXISTS avatar_url;
ALTER TABLE integrations DROP COLUMN IF EXISTS webhook_ref;
ALTER TABLE integrations DROP COLUMN IF EXISTS credentials_expire_at;
"""


def upgrade() -> None:
    for statement in _statements(_UPGRADE):
        op.execute(statement)


def downgrade() -> None:
    for statement in _statements(_DOWNGRADE):
        op.execute(statement)


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]
