"""auth's tables (its own database); tests/auth/test_migrations.py checks the migrations build
exactly these."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column("email", sa.Text, nullable=False, unique=True),
    sa.Column("email_verified", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("password_hash", sa.Text, nullable=True),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("locale", sa.Text, nullable=False, server_default=""),
    sa.Column("time_zone", sa.Text, nullable=False, server_default=""),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column(
        "user_id",
        UUID(as_uuid=False),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("plan", sa.Text, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False, server_default="1"),
    sa.Column(
        "started_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("renews_at", sa.DateTime(timezone=True), nullable=True),
)

# One row per issued refresh token. `family_id` is the session: rotation issues a new row in the
# same family and marks the old one used; presenting a used token revokes the whole family.
refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column("token_hash", sa.LargeBinary, nullable=False, unique=True),
    sa.Column("family_id", UUID(as_uuid=False), nullable=False, index=True),
    sa.Column(
        "user_id",
        UUID(as_uuid=False),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", sa.Text, primary_key=True),
    sa.Column("private_key_encrypted", sa.LargeBinary, nullable=False),
    sa.Column("public_jwk", sa.JSON, nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("activate_at", sa.DateTime(timezone=True), nullable=False),
    # Set when a newer key takes over; the key stays published until every token it signed expired.
    sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
)

# A Google or Yandex account linked to a user: (provider, subject) is the provider's stable id.
oauth_identities = sa.Table(
    "oauth_identities",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column(
        "user_id",
        UUID(as_uuid=False),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("provider", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=True),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True),
    sa.UniqueConstraint("provider", "subject", name="oauth_identities_provider_subject"),
)

# Only the SHA-256 of a reset token is kept; the token itself exists in the mail alone.
password_reset_tokens = sa.Table(
    "password_reset_tokens",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column("token_hash", sa.LargeBinary, nullable=False, unique=True),
    sa.Column(
        "user_id",
        UUID(as_uuid=False),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
)

# Mail waiting for the SMTP sender. The body holds a live reset link, so it is stored encrypted
# and the row is deleted once sent or once the link inside has expired (`discard_after`).
outgoing_mail = sa.Table(
    "outgoing_mail",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column("message_encrypted", sa.LargeBinary, nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column(
        "next_attempt_at",
        sa.DateTime(timezone=True),
        nullable=False,
        server_default=sa.func.now(),
    ),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("discard_after", sa.DateTime(timezone=True), nullable=False),
    sa.Index("outgoing_mail_due", "next_attempt_at"),
)
