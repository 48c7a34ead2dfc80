"""SQL for integrations, webhook updates and inbound messages, on a caller-provided connection
so callers decide the transaction.

Every query filters by `owner_id` (tenant isolation). The exceptions say so in their docstring:
the webhook path, which resolves the owner from the integration id in the URL (or, for X, from
the account the body names), the check that a platform account is not connected twice, which
must look across owners, and background work that serves every owner.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.social.models import Contact, Integration, Message
from services.social.platforms.types import OwnerMessage, Profile
from services.social.tables import contacts, integrations, messages, webhook_updates


async def insert_integration(
    connection: AsyncConnection,
    *,
    integration_id: str,
    owner_id: str,
    platform: str,
    display_name: str,
    status: str,
    delivery_mode: str,
    platform_account_id: str,
    platform_username: str,
    credentials_encrypted: bytes,
    credentials_key_id: str,
    webhook_secret_encrypted: bytes | None,
    webhook_secret_key_id: str | None,
    default_contact_policy: str,
    request_id: str | None,
    credentials_expire_at: datetime | None = None,
    webhook_ref: str = "",
) -> Integration:
    """Raises IntegrityError when the account or the request id is already taken."""
    row = (
        await connection.execute(
            sa.insert(integrations)
            .values(
                id=integration_id,
                owner_id=owner_id,
                platform=platform,
                display_name=display_name,
                status=status,
                delivery_mode=delivery_mode,
                platform_account_id=platform_account_id,
                platform_username=platform_username,
                credentials_encrypted=credentials_encrypted,
                credentials_key_id=credentials_key_id,
                webhook_secret_encrypted=webhook_secret_encrypted,
                webhook_secret_key_id=webhook_secret_key_id,
                default_contact_policy=default_contact_policy,
                request_id=request_id,
                credentials_expire_at=credentials_expire_at,
                webhook_ref=webhook_ref,
            )
            .returning(integrations)
        )
    ).one()
    return Integration.from_row(row)


async def get_integration(
    connection: AsyncConnection, *, owner_id: str, integration_id: str
) -> Integration | None:
    row = (
        await connection.execute(
            sa.select(integrations).where(
                integrations.c.id == integration_id, integrations.c.owner_id == owner_id
            )
        )
    ).first()
    return Integration.from_row(row) if row else None


async def get_integration_for_webhook(
    connection: AsyncConnection, *, integration_id: str
) -> Integration | None:
    """Not owner-scoped: a webhook call names only the integration, which names its owner."""
    row = (
        await connection.execute(sa.select(integrations).where(integrations.c.id == integration_id))
    ).first()
    return Integration.from_row(row) if row else None


async def get_integration_for_account(
    connection: AsyncConnection, *, platform: str, platform_account_id: str
) -> Integration | None:
    """Not owner-scoped: an app-wide webhook (X) names the account, which names its owner."""
    row = (
        await connection.execute(
            sa.select(integrations).where(
                integrations.c.platform == platform,
                integrations.c.platform_account_id == platform_account_id,
            )
        )
    ).first()
    return Integration.from_row(row) if row else None


async def lock_integration(
    connection: AsyncConnection, *, owner_id: str, integration_id: str
) -> Integration | None:
    """The integration, locked until the transaction ends (for read-modify-write of secrets)."""
    row = (
        await connection.execute(
            sa.select(integrations)
            .where(integrations.c.id == integration_id, integrations.c.owner_id == owner_id)
            .with_for_update()
        )
    ).first()
    return Integration.from_row(row) if row else None


async def lock_owner(connection: AsyncConnection, *, owner_id: str) -> None:
    """Serialise an owner's connects until the transaction ends, so the plan limit holds."""
    await connection.execute(
        sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"owner:{owner_id}")))
    )


async def lock_account(connection: AsyncConnection, *, platform: str, account_id: str) -> None:
    """Serialise connects of one platform account until the transaction ends."""
    await connection.execute(
        sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"{platform}:{account_id}")))
    )


async def count_integrations(connection: AsyncConnection, *, owner_id: str) -> int:
    return int(
        (
            await connection.execute(
                sa.select(sa.func.count())
                .select_from(integrations)
                .where(integrations.c.owner_id == owner_id)
            )
        ).scalar_one()
    )


async def update_integration(
    connection: AsyncConnection, *, owner_id: str, integration_id: str, values: dict[str, object]
) -> Integration | None:
    row = (
        await connection.execute(
            sa.update(integrations)
            .where(integrations.c.id == integration_id, integrations.c.owner_id == owner_id)
            .values(**values, updated_at=sa.func.now())
            .returning(integrations)
        )
    ).first()
    return Integration.from_row(row) if row else None


async def delete_integration(
    connection: AsyncConnection, *, owner_id: str, integration_id: str
) -> bool:
    """Delete an integration with its contacts, messages and webhook updates (cascade)."""
    result = await connection.execute(
        sa.delete(integrations).where(
            integrations.c.id == integration_id, integrations.c.owner_id == owner_id
        )
    )
    return bool(result.rowcount)


async def expiring_oauth_integrations(
    connection: AsyncConnection, *, platform: str, before: datetime, limit: int
) -> list[Integration]:
    """Not owner-scoped: the background refresher serves every owner."""
    rows = (
        await connection.execute(
            sa.select(integrations)
            .where(
                integrations.c.platform == platform,
                integrations.c.status == "active",
                integrations.c.credentials_expire_at.is_not(None),
                integrations.c.credentials_expire_at < before,
            )
            .order_by(integrations.c.credentials_expire_at)
            .limit(limit)
        )
    ).all()
    return [Integration.from_row(row) for row in rows]


async def polling_integrations(
    connection: AsyncConnection, *, platform: str, limit: int = 1000
) -> list[Integration]:
    """Not owner-scoped: the poller serves every owner. Active integrations in polling mode."""
    rows = (
        await connection.execute(
            sa.select(integrations)
            .where(
                integrations.c.platform == platform,
                integrations.c.delivery_mode == "polling",
                integrations.c.status == "active",
            )
            .order_by(integrations.c.created_at)
            .limit(limit)
        )
    ).all()
    return [Integration.from_row(row) for row in rows]


async def find_integration_by_request(
    connection: AsyncConnection, *, owner_id: str, request_id: str
) -> Integration | None:
    row = (
        await connection.execute(
            sa.select(integrations).where(
                integrations.c.owner_id == owner_id, integrations.c.request_id == request_id
            )
        )
    ).first()
    return Integration.from_row(row) if row else None


async def platform_account_connected(
    connection: AsyncConnection, *, platform: str, platform_account_id: str
) -> bool:
    """Across owners on purpose: a bot has one webhook, so it can serve one integration.

    Answers only yes or no, so nothing of another owner's integration leaks.
    """
    row = (
        await connection.execute(
            sa.select(integrations.c.id).where(
                integrations.c.platform == platform,
                integrations.c.platform_account_id == platform_account_id,
            )
        )
    ).first()
    return row is not None


async def list_integrations(
    connection: AsyncConnection,
    *,
    owner_id: str,
    platform: str | None,
    status: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Integration]:
    """Oldest first, keyset-paginated on (created_at, id)."""
    query = sa.select(integrations).where(integrations.c.owner_id == owner_id)
    if platform is not None:
        query = query.where(integrations.c.platform == platform)
    if status is not None:
        query = query.where(integrations.c.status == status)
    if after is not None:
        created_at, row_id = after
        query = query.where(
            sa.tuple_(integrations.c.created_at, integrations.c.id)
            > sa.tuple_(
                sa.literal(created_at, integrations.c.created_at.type),
                sa.literal(row_id, integrations.c.id.type),
            )
        )
    query = query.order_by(integrations.c.created_at, integrations.c.id).limit(limit)
    return [Integration.from_row(row) for row in (await connection.execute(query)).all()]


async def note_integration_update(connection: AsyncConnection, *, integration_id: str) -> None:
    """Refresh `last_update_at`, at most every few seconds so busy bots don't queue on its row."""
    await connection.execute(
        sa.update(integrations)
        .where(
            integrations.c.id == integration_id,
            sa.or_(
                integrations.c.last_update_at.is_(None),
                integrations.c.last_update_at < sa.func.now() - timedelta(seconds=5),
            ),
        )
        .values(last_update_at=sa.func.now())
    )


async def set_integration_error(
    connection: AsyncConnection, *, owner_id: str, integration_id: str, status: str, error: str
) -> None:
    await connection.execute(
        sa.update(integrations)
        .where(integrations.c.id == integration_id, integrations.c.owner_id == owner_id)
        .values(
            status=status, last_error=error, last_error_at=sa.func.now(), updated_at=sa.func.now()
        )
    )


async def record_webhook_update(
    connection: AsyncConnection,
    *,
    owner_id: str,
    integration_id: str,
    dedup_key: str,
    body: bytes,
    content_type: str,
    outcome: str,
) -> bool:
    """Store a raw update; False when this key was stored before (a redelivery)."""
    result = await connection.execute(
        insert(webhook_updates)
        .values(
            owner_id=owner_id,
            integration_id=integration_id,
            dedup_key=dedup_key,
            body=body,
            content_type=content_type,
            outcome=outcome,
        )
        .on_conflict_do_nothing(index_elements=["integration_id", "dedup_key"])
        .returning(webhook_updates.c.id)
    )
    return result.first() is not None


async def upsert_contact(
    connection: AsyncConnection,
    *,
    owner_id: str,
    integration_id: str,
    profile: Profile,
    reachable: bool | None,
    message_at: datetime | None,
) -> Contact:
    """Create or refresh the contact from what the platform just reported about them;
    `reachable` None leaves it as it is (a new contact is reachable)."""
    statement = insert(contacts).values(
        id=str(uuid.uuid4()),
        owner_id=owner_id,
        integration_id=integration_id,
        platform_user_id=profile.platform_user_id,
        platform_display_name=profile.display_name,
        username=profile.username,
        avatar_url=profile.avatar_url,
        reachable=True if reachable is None else reachable,
        last_message_at=message_at,
    )
    excluded = statement.excluded
    upsert = statement.on_conflict_do_update(
        index_elements=["integration_id", "platform_user_id"],
        set_={
            "platform_display_name": sa.func.coalesce(
                sa.func.nullif(excluded.platform_display_name, ""), contacts.c.platform_display_name
            ),
            "username": sa.func.coalesce(
                sa.func.nullif(excluded.username, ""), contacts.c.username
            ),
            "avatar_url": sa.func.coalesce(
                sa.func.nullif(excluded.avatar_url, ""), contacts.c.avatar_url
            ),
            "reachable": contacts.c.reachable if reachable is None else excluded.reachable,
            "last_message_at": sa.func.greatest(
                contacts.c.last_message_at, excluded.last_message_at
            ),
            "updated_at": sa.func.now(),
        },
        where=contacts.c.owner_id == owner_id,
    )
    row = (await connection.execute(upsert.returning(contacts))).one()
    return Contact.from_row(row)


async def get_contact(
    connection: AsyncConnection, *, owner_id: str, contact_id: str
) -> Contact | None:
    row = (
        await connection.execute(
            sa.select(contacts).where(contacts.c.id == contact_id, contacts.c.owner_id == owner_id)
        )
    ).first()
    return Contact.from_row(row) if row else None


async def mark_message_deleted(
    connection: AsyncConnection, *, owner_id: str, integration_id: str, dedup_key: str
) -> bool:
    result = await connection.execute(
        sa.update(messages)
        .where(
            messages.c.integration_id == integration_id,
            messages.c.dedup_key == dedup_key,
            messages.c.owner_id == owner_id,
        )
        .values(deleted=True)
    )
    return bool(result.rowcount)


async def mark_contact_unreachable(
    connection: AsyncConnection, *, owner_id: str, contact_id: str
) -> Contact | None:
    row = (
        await connection.execute(
            sa.update(contacts)
            .where(contacts.c.id == contact_id, contacts.c.owner_id == owner_id)
            .values(reachable=False, updated_at=sa.func.now())
            .returning(contacts)
        )
    ).first()
    return Contact.from_row(row) if row else None


async def note_contact_message(
    connection: AsyncConnection, *, owner_id: str, contact_id: str, at: datetime
) -> None:
    await connection.execute(
        sa.update(contacts)
        .where(contacts.c.id == contact_id, contacts.c.owner_id == owner_id)
        .values(
            last_message_at=sa.func.greatest(contacts.c.last_message_at, at),
            updated_at=sa.func.now(),
        )
    )


async def store_owner_message(
    connection: AsyncConnection,
    *,
    owner_id: str,
    integration_id: str,
    contact_id: str,
    message: OwnerMessage,
) -> Message | None:
    """A message the owner wrote in the platform's own app, stored as sent; None when it was stored before."""
    row = (
        await connection.execute(
            insert(messages)
            .values(
                id=str(uuid.uuid4()),
                owner_id=owner_id,
                integration_id=integration_id,
                contact_id=contact_id,
                direction="outbound",
                author_kind="owner",
                text=message.text,
                attachments=[asdict(a) for a in message.attachments],
                platform_message_id=message.platform_message_id,
                dedup_key=f"{message.chat_id}:{message.platform_message_id}",
                status="sent",
                platform_at=message.sent_at,
            )
            .on_conflict_do_nothing(index_elements=["integration_id", "dedup_key"])
            .returning(messages)
        )
    ).first()
    return Message.from_row(row) if row else None
