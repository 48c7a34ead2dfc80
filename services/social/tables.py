"""social's tables (its own database). Every row carries `owner_id`: queries filter on it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = sa.MetaData()


def _one_of(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=f"{column}_valid")


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    ]


integrations = sa.Table(
    "integrations",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column("owner_id", UUID(as_uuid=False), nullable=False),
    sa.Column("platform", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("delivery_mode", sa.Text, nullable=False, server_default="webhook"),
    sa.Column("platform_account_id", sa.Text, nullable=False),
    sa.Column("platform_username", sa.Text, nullable=False, server_default=""),
    sa.Column("credentials_encrypted", sa.LargeBinary, nullable=False),
    sa.Column("credentials_key_id", sa.Text, nullable=False),
    sa.Column("webhook_secret_encrypted", sa.LargeBinary, nullable=True),
    sa.Column("webhook_secret_key_id", sa.Text, nullable=True),
    sa.Column("default_contact_policy", sa.Text, nullable=False, server_default="allow_all"),
    # ConnectIntegration's idempotency key, unique per owner.
    sa.Column("request_id", UUID(as_uuid=False), nullable=True),
    sa.Column("last_error", sa.Text, nullable=False, server_default=""),
    sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_update_at", sa.DateTime(timezone=True), nullable=True),
    # When the stored OAuth access token expires (X); NULL for tokens that do not expire.
    sa.Column("credentials_expire_at", sa.DateTime(timezone=True), nullable=True),
    # The platform's id of what was registered for the webhook (VK callback server id).
    sa.Column("webhook_ref", sa.Text, nullable=False, server_default=""),
    *_timestamps(),
    sa.Index("integrations_owner", "owner_id", "created_at", "id"),
    # A bot has one webhook, so one platform account can serve one integration only.
    sa.UniqueConstraint("platform", "platform_account_id", name="integrations_account_unique"),
    sa.UniqueConstraint("owner_id", "request_id", name="integrations_request_unique"),
    _one_of("platform", ("telegram", "vk", "x", "max")),
    _one_of("status", ("connecting", "active", "error", "disconnected")),
    _one_of("delivery_mode", ("webhook", "polling")),
    _one_of("default_contact_policy", ("allow_all", "deny_all")),
)

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column("owner_id", UUID(as_uuid=False), nullable=False),
    sa.Column(
        "integration_id",
        UUID(as_uuid=False),
        sa.ForeignKey("integrations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("platform_user_id", sa.Text, nullable=False),
    # Set by the owner; NULL means "use the platform's name".
    sa.Column("display_name", sa.Text, nullable=True),
    sa.Column("platform_display_name", sa.Text, nullable=False, server_default=""),
    sa.Column("username", sa.Text, nullable=False, server_default=""),
    sa.Column("avatar_url", sa.Text, nullable=False, server_default=""),
    sa.Column("agent_access", sa.Text, nullable=False, server_default="inherit"),
    sa.Column("agent_paused", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("agent_paused_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("reachable", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
    *_timestamps(),
    sa.UniqueConstraint("integration_id", "platform_user_id", name="contacts_platform_user_unique"),
    sa.Index("contacts_owner", "owner_id", "last_message_at"),
    sa.Index("contacts_owner_created", "owner_id", "created_at", "id"),
    _one_of("agent_access", ("inherit", "allowed", "denied")),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column("owner_id", UUID(as_uuid=False), nullable=False),
    sa.Column(
        "integration_id",
        UUID(as_uuid=False),
        sa.ForeignKey("integrations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "contact_id",
        UUID(as_uuid=False),
        sa.ForeignKey("contacts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("direction", sa.Text, nullable=False),
    sa.Column("author_kind", sa.Text, nullable=False),
    sa.Column("agent_id", sa.Text, nullable=False, server_default=""),
    sa.Column("text", sa.Text, nullable=False, server_default=""),
    sa.Column("attachments", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("platform_message_id", sa.Text, nullable=False, server_default=""),
    # Inbound: the platform's message key (Telegram `chat_id:message_id`); edits share it.
    sa.Column("dedup_key", sa.Text, nullable=True),
    # Outbound agent replies: the reply command and which part of a split text this row is.
    sa.Column("reply_id", UUID(as_uuid=False), nullable=True),
    sa.Column("reply_part", sa.Integer, nullable=False, server_default="0"),
    sa.Column("in_reply_to_message_id", UUID(as_uuid=False), nullable=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("error_message", sa.Text, nullable=False, server_default=""),
    sa.Column("edited", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("platform_at", sa.DateTime(timezone=True), nullable=True),
    # An outbound send in progress: who holds it and until when (see services/social/outbound.py).
    sa.Column("send_attempt_id", UUID(as_uuid=False), nullable=True),
    sa.Column("send_lease_until", sa.DateTime(timezone=True), nullable=True),
    # Outbound: not to be tried before this (rate limits, `retry_after`, backoff), and how many
    # attempts failed transiently so far.
    sa.Column(
        "next_attempt_at",
        sa.DateTime(timezone=True),
        nullable=False,
        server_default=sa.func.now(),
    ),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    # Removed on the platform (MAX `message_removed`); the content is kept for the owner.
    sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    # SendMessage's idempotency key, unique per owner.
    sa.Column("request_id", UUID(as_uuid=False), nullable=True),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.UniqueConstraint("integration_id", "dedup_key", name="messages_dedup_unique"),
    sa.UniqueConstraint("reply_id", "reply_part", name="messages_reply_unique"),
    sa.Index("messages_conversation", "contact_id", "created_at", "id"),
    sa.Index("messages_request_unique", "owner_id", "request_id", unique=True),
    # The send queue: outbound messages not sent yet, per conversation in order.
    sa.Index(
        "messages_outbound_queue",
        "contact_id",
        "created_at",
        "reply_part",
        "id",
        postgresql_where=sa.text("status = 'pending' AND direction = 'outbound'"),
    ),
    _one_of("direction", ("inbound", "outbound")),
    _one_of("author_kind", ("contact", "agent", "owner")),
    _one_of("status", ("received", "pending", "sent", "failed")),
)

# Every verified webhook body, verbatim, once per platform de-duplication key.
webhook_updates = sa.Table(
    "webhook_updates",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("owner_id", UUID(as_uuid=False), nullable=False),
    sa.Column(
        "integration_id",
        UUID(as_uuid=False),
        sa.ForeignKey("integrations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("dedup_key", sa.Text, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False, server_default=""),
    sa.Column("body", sa.LargeBinary, nullable=False),
    # What the update became: `message`, `edit`, `contact`, or `ignored: <reason>`.
    sa.Column("outcome", sa.Text, nullable=False, server_default=""),
    sa.Column(
        "received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.UniqueConstraint("integration_id", "dedup_key", name="webhook_updates_dedup_unique"),
)

# OAuth connections started and not completed yet; a row is consumed by its one completion.
oauth_states = sa.Table(
    "oauth_states",
    metadata,
    # SHA-256 of the `state` handed to the browser (hex); the state itself is not stored.
    sa.Column("state_hash", sa.Text, primary_key=True),
    sa.Column("owner_id", UUID(as_uuid=False), nullable=False),
    sa.Column("platform", sa.Text, nullable=False),
    sa.Column("code_verifier_encrypted", sa.LargeBinary, nullable=False),
    sa.Column("redirect_uri", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text, nullable=False, server_default=""),
    sa.Column("default_contact_policy", sa.Text, nullable=False, server_default="allow_all"),
    # Set when re-authorising an existing integration.
    sa.Column("integration_id", UUID(as_uuid=False), nullable=True),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    _one_of("platform", ("x", "vk")),
)

# Runs of contact synchronisation; at most one running per integration.
contact_syncs = sa.Table(
    "contact_syncs",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column("owner_id", UUID(as_uuid=False), nullable=False),
    sa.Column(
        "integration_id",
        UUID(as_uuid=False),
        sa.ForeignKey("integrations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column(
        "started_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    # A running sync whose worker died is taken over once this has passed.
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
    sa.Column("contacts_seen", sa.Integer, nullable=False, server_default="0"),
    sa.Column("contacts_created", sa.Integer, nullable=False, server_default="0"),
    sa.Column("contacts_updated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error_message", sa.Text, nullable=False, server_default=""),
    sa.Index("contact_syncs_latest", "integration_id", "started_at"),
    sa.Index(
        "contact_syncs_running",
        "integration_id",
        unique=True,
        postgresql_where=sa.text("state = 'running'"),
    ),
    _one_of("state", ("running", "succeeded", "failed")),
)

# The agent's handoffs as social last heard of them (HandoffRequested / HandoffResolved), so a
# contact's `agent_paused` mirrors them: one row per handoff, whatever order the events come in.
handoffs = sa.Table(
    "handoffs",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column("owner_id", UUID(as_uuid=False), nullable=False),
    sa.Column("contact_id", UUID(as_uuid=False), nullable=False),
    sa.Column("resolved", sa.Boolean, nullable=False),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Index("handoffs_open_by_contact", "owner_id", "contact_id", "resolved"),
)
