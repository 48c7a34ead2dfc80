"""auth's SQL: keyword-only functions over a connection, returning rows or None."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from services.auth.tables import (
    oauth_identities,
    outgoing_mail,
    password_reset_tokens,
    refresh_tokens,
    signing_keys,
    subscriptions,
    users,
)


async def insert_user(
    conn: AsyncConnection,
    *,
    email: str,
    password_hash: str | None,
    display_name: str,
    plan: str,
    email_verified: bool = False,
) -> Row[Any] | None:
    """Create a user with its subscription; None when the email is taken."""
    user_id = str(uuid.uuid4())
    row = (
        await conn.execute(
            insert(users)
            .values(
                id=user_id,
                email=email,
                email_verified=email_verified,
                password_hash=password_hash,
                display_name=display_name,
            )
            .on_conflict_do_nothing(index_elements=["email"])
            .returning(*users.c)
        )
    ).first()
    if row is None:
        return None
    await conn.execute(sa.insert(subscriptions).values(user_id=user_id, plan=plan))
    return row


async def user_by_email(conn: AsyncConnection, *, email: str) -> Row[Any] | None:
    return (await conn.execute(sa.select(users).where(users.c.email == email))).first()


async def lock_user_by_email(conn: AsyncConnection, *, email: str) -> Row[Any] | None:
    return (
        await conn.execute(sa.select(users).where(users.c.email == email).with_for_update())
    ).first()


async def user_by_id(conn: AsyncConnection, *, user_id: str) -> Row[Any] | None:
    return (await conn.execute(sa.select(users).where(users.c.id == user_id))).first()


async def update_password_hash(conn: AsyncConnection, *, user_id: str, password_hash: str) -> None:
    await conn.execute(
        sa.update(users).where(users.c.id == user_id).values(password_hash=password_hash)
    )


async def update_credentials(
    conn: AsyncConnection, *, user_id: str, password_hash: str | None, email_verified: bool
) -> None:
    await conn.execute(
        sa.update(users)
        .where(users.c.id == user_id)
        .values(
            password_hash=password_hash, email_verified=email_verified, updated_at=sa.func.now()
        )
    )


async def update_profile(
    conn: AsyncConnection, *, user_id: str, values: dict[str, str]
) -> Row[Any] | None:
    return (
        await conn.execute(
            sa.update(users)
            .where(users.c.id == user_id)
            .values(**values, updated_at=sa.func.now())
            .returning(*users.c)
        )
    ).first()


async def subscription_of(conn: AsyncConnection, *, user_id: str) -> Row[Any] | None:
    return (
        await conn.execute(sa.select(subscriptions).where(subscriptions.c.user_id == user_id))
    ).first()


async def lock_subscription(conn: AsyncConnection, *, user_id: str) -> Row[Any] | None:
    return (
        await conn.execute(
            sa.select(subscriptions).where(subscriptions.c.user_id == user_id).with_for_update()
        )
    ).first()


async def change_subscription(
    conn: AsyncConnection, *, user_id: str, plan: str, renews_at: datetime | None
) -> Row[Any]:
    """Switch the plan from now on and bump the version events carry."""
    return (
        await conn.execute(
            sa.update(subscriptions)
            .where(subscriptions.c.user_id == user_id)
            .values(
                plan=plan,
                version=subscriptions.c.version + 1,
                started_at=sa.func.now(),
                renews_at=renews_at,
            )
            .returning(*subscriptions.c)
        )
    ).one()


async def lock_sign_in(conn: AsyncConnection, *, keys: list[str]) -> None:
    """Serialise concurrent sign-ins touching the same identity or email (until commit)."""
    for key in keys:
        await conn.execute(
            sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(key, 0)))
        )


async def user_by_identity(
    conn: AsyncConnection, *, provider: str, subject: str
) -> Row[Any] | None:
    return (
        await conn.execute(
            sa.select(users)
            .join(oauth_identities, oauth_identities.c.user_id == users.c.id)
            .where(oauth_identities.c.provider == provider, oauth_identities.c.subject == subject)
        )
    ).first()


async def link_identity(
    conn: AsyncConnection, *, user_id: str, provider: str, subject: str, email: str | None
) -> None:
    """Record a sign-in through an identity, linking it on first use."""
    statement = insert(oauth_identities).values(
        id=str(uuid.uuid4()),
        user_id=user_id,
        provider=provider,
        subject=subject,
        email=email,
        last_sign_in_at=sa.func.now(),
    )
    await conn.execute(
        statement.on_conflict_do_update(
            constraint="oauth_identities_provider_subject",
            set_={"email": statement.excluded.email, "last_sign_in_at": sa.func.now()},
        )
    )


async def unlink_identities(conn: AsyncConnection, *, user_id: str) -> None:
    await conn.execute(sa.delete(oauth_identities).where(oauth_identities.c.user_id == user_id))


async def identity_providers(conn: AsyncConnection, *, user_id: str) -> list[str]:
    result = await conn.execute(
        sa.select(oauth_identities.c.provider)
        .where(oauth_identities.c.user_id == user_id)
        .distinct()
        .order_by(oauth_identities.c.provider)
    )
    return [row.provider for row in result]


async def insert_reset_token(
    conn: AsyncConnection, *, user_id: str, token_hash: bytes, expires_at: datetime
) -> None:
    await conn.execute(
        sa.insert(password_reset_tokens).values(
            id=str(uuid.uuid4()), user_id=user_id, token_hash=token_hash, expires_at=expires_at
        )
    )


async def lock_reset_token(conn: AsyncConnection, *, token_hash: bytes) -> Row[Any] | None:
    """The token's row, locked so two resets with one token serialise."""
    return (
        await conn.execute(
            sa.select(password_reset_tokens)
            .where(password_reset_tokens.c.token_hash == token_hash)
            .with_for_update()
        )
    ).first()


async def spend_reset_tokens(conn: AsyncConnection, *, user_id: str) -> None:
    """Mark every outstanding reset token of the user used."""
    await conn.execute(
        sa.update(password_reset_tokens)
        .where(
            password_reset_tokens.c.user_id == user_id, password_reset_tokens.c.used_at.is_(None)
        )
        .values(used_at=sa.func.now())
    )


async def insert_mail(
    conn: AsyncConnection, *, mail_id: str, message_encrypted: bytes, discard_after: datetime
) -> None:
    await conn.execute(
        sa.insert(outgoing_mail).values(
            id=mail_id, message_encrypted=message_encrypted, discard_after=discard_after
        )
    )


async def claim_due_mail(conn: AsyncConnection, *, limit: int) -> list[Row[Any]]:
    """Mail due now, oldest first, locked against other senders (skipped if already locked)."""
    result = await conn.execute(
        sa.select(outgoing_mail)
        .where(outgoing_mail.c.next_attempt_at <= sa.func.now())
        .order_by(outgoing_mail.c.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(result)


async def delete_mail(conn: AsyncConnection, *, mail_id: str) -> None:
    await conn.execute(sa.delete(outgoing_mail).where(outgoing_mail.c.id == mail_id))


async def postpone_mail(conn: AsyncConnection, *, mail_id: str, delay_seconds: float) -> None:
    await conn.execute(
        sa.update(outgoing_mail)
        .where(outgoing_mail.c.id == mail_id)
        .values(
            attempts=outgoing_mail.c.attempts + 1,
            next_attempt_at=sa.func.now() + sa.func.make_interval(0, 0, 0, 0, 0, 0, delay_seconds),
        )
    )


async def insert_refresh_token(
    conn: AsyncConnection, *, token_hash: bytes, family_id: str, user_id: str, expires_at: datetime
) -> None:
    await conn.execute(
        sa.insert(refresh_tokens).values(
            id=str(uuid.uuid4()),
            token_hash=token_hash,
            family_id=family_id,
            user_id=user_id,
            expires_at=expires_at,
        )
    )


async def lock_refresh_token(conn: AsyncConnection, *, token_hash: bytes) -> Row[Any] | None:
    """The token's row, locked so concurrent refreshes with one token serialise."""
    return (
        await conn.execute(
            sa.select(refresh_tokens)
            .where(refresh_tokens.c.token_hash == token_hash)
            .with_for_update()
        )
    ).first()


async def mark_refresh_token_used(conn: AsyncConnection, *, token_id: str) -> None:
    await conn.execute(
        sa.update(refresh_tokens)
        .where(refresh_tokens.c.id == token_id)
        .values(used_at=sa.func.now())
    )


async def revoke_family(conn: AsyncConnection, *, family_id: str) -> int:
    result = await conn.execute(
        sa.update(refresh_tokens)
        .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=sa.func.now())
    )
    return result.rowcount


async def revoke_user_sessions(conn: AsyncConnection, *, user_id: str) -> int:
    result = await conn.execute(
        sa.update(refresh_tokens)
        .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=sa.func.now())
        .returning(refresh_tokens.c.family_id)
    )
    return len({row.family_id for row in result})


async def insert_signing_key(
    conn: AsyncConnection,
    *,
    kid: str,
    encrypted: bytes,
    public_jwk: dict[str, Any],
    activate_at: datetime,
) -> None:
    await conn.execute(
        sa.update(signing_keys)
        .where(signing_keys.c.retired_at.is_(None))
        .values(retired_at=activate_at)
    )
    await conn.execute(
        sa.insert(signing_keys).values(
            kid=kid, private_key_encrypted=encrypted, public_jwk=public_jwk, activate_at=activate_at
        )
    )


async def published_keys(conn: AsyncConnection, *, retired_after: datetime) -> list[Row[Any]]:
    """Keys still in the JWKS: not retired, or retired recently enough to verify live tokens."""
    result = await conn.execute(
        sa.select(signing_keys)
        .where(
            sa.or_(signing_keys.c.retired_at.is_(None), signing_keys.c.retired_at > retired_after)
        )
        .order_by(signing_keys.c.activate_at)
    )
    return list(result)
