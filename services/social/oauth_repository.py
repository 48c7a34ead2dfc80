"""SQL for OAuth connections in progress (`oauth_states`): stored at start, consumed once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.social.tables import oauth_states


@dataclass(frozen=True, slots=True)
class PendingOAuth:
    state_hash: str
    owner_id: str
    platform: str
    code_verifier_encrypted: bytes
    redirect_uri: str
    display_name: str
    default_contact_policy: str
    integration_id: str | None

    def __repr__(self) -> str:
        return f"PendingOAuth(owner_id={self.owner_id!r}, platform={self.platform!r})"


async def insert_state(
    connection: AsyncConnection, *, pending: PendingOAuth, expires_at: datetime
) -> None:
    await connection.execute(
        sa.insert(oauth_states).values(
            state_hash=pending.state_hash,
            owner_id=pending.owner_id,
            platform=pending.platform,
            code_verifier_encrypted=pending.code_verifier_encrypted,
            redirect_uri=pending.redirect_uri,
            display_name=pending.display_name,
            default_contact_policy=pending.default_contact_policy,
            integration_id=pending.integration_id,
            expires_at=expires_at,
        )
    )


async def consume_state(
    connection: AsyncConnection, *, state_hash: str, platform: str
) -> PendingOAuth | None:
    """Take the state out (it works once); None when unknown, expired or of another platform.

    Not owner-scoped: the browser's redirect carries no identity; the state names the owner."""
    row = (
        await connection.execute(
            sa.delete(oauth_states)
            .where(
                oauth_states.c.state_hash == state_hash,
                oauth_states.c.platform == platform,
                oauth_states.c.expires_at > sa.func.now(),
            )
            .returning(oauth_states)
        )
    ).first()
    if row is None:
        return None
    m = row._mapping
    return PendingOAuth(
        state_hash=m["state_hash"],
        owner_id=str(m["owner_id"]),
        platform=m["platform"],
        code_verifier_encrypted=bytes(m["code_verifier_encrypted"]),
        redirect_uri=m["redirect_uri"],
        display_name=m["display_name"],
        default_contact_policy=m["default_contact_policy"],
        integration_id=str(m["integration_id"]) if m["integration_id"] else None,
    )


async def prune_expired(connection: AsyncConnection) -> int:
    """Not owner-scoped: housekeeping for every owner."""
    result = await connection.execute(
        sa.delete(oauth_states).where(oauth_states.c.expires_at <= sa.func.now())
    )
    return int(result.rowcount)
