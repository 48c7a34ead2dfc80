"""auth's SQL: keyword-only functions over a connection, returning rows or None."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from services.auth.tables import refresh_tokens, signing_keys, subscriptions, users


async def insert_user(
    conn: AsyncConnection, *, email: str, password_hash: str | None, display_name: str, plan: str
) -> Row[Any] | None:
    """Create a user with its subscription; None when the email is taken."""
    user_id = str(uuid.uuid4())
    row = (
        await conn.execute(
            insert(users)
            .values(id=user_id, email=email, password_hash=password_hash, display_name=display_name)
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


async def user_by_id(conn: AsyncConnection, *, user_id: str) -> Row[Any] | None:
    return (await conn.execute(sa.select(users).where(users.c.id == user_id))).first()


async def update_password_hash(conn: AsyncConnection, *, user_id: str, password_hash: str) -> None:
    await conn.execute(
        sa.update(users).where(users.c.id == user_id).values(password_hash=password_hash)
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
