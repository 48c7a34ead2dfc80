"""SQL for social, on a caller-provided connection so callers decide the transaction.

Every query filters by `owner_id` (tenant isolation). The exceptions say so in their docstring:
the webhook path, which resolves the owner from the integration id in the URL, and the check that
a platform account is not connected twice, which must look across owners.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.social.models import Contact, Integration, Message
from services.social.platforms.types import InboundMessage, Profile
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
    reachable: bool,
    message_at: datetime | None,
) -> Contact:
    """Create or refresh the contact from what the platform just reported about them."""
    statement = insert(contacts).values(
        id=str(uuid.uuid4()),
        owner_id=owner_id,
        integration_id=integration_id,
        platform_user_id=profile.platform_user_id,
        platform_display_name=profile.display_name,
        username=profile.username,
        reachable=reachable,
        last_message_at=message_at,
    )
    excluded = statement.excluded
    upsert = statement.on_conflict_do_update(
        index_elements=["integration_id", "platform_user_id"],
        set_={
            "platform_display_name": sa.func.coalesce(
                sa.func.nullif(excluded.platform_display_name, ""), contacts.c.platform_display_name
            ),
            "username": excluded.username,
            "reachable": excluded.reachable,
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


async def store_inbound_message(
    connection: AsyncConnection,
    *,
    owner_id: str,
    integration_id: str,
    contact_id: str,
    inbound: InboundMessage,
) -> Message | None:
    """Insert a new message, or apply an edit in place; None when there is nothing new.

    Messages are keyed by `chat_id:message_id` (edits keep the original id). A repeated message
    is None; an edit older than the stored version is None too.
    """
    statement = insert(messages).values(
        id=str(uuid.uuid4()),
        owner_id=owner_id,
        integration_id=integration_id,
        contact_id=contact_id,
        direction="inbound",
        author_kind="contact",
        text=inbound.text,
        attachments=[asdict(a) for a in inbound.attachments],
        platform_message_id=inbound.platform_message_id,
        dedup_key=f"{inbound.chat_id}:{inbound.platform_message_id}",
        status="received",
        edited=inbound.edited,
        edited_at=inbound.edited_at,
        platform_at=inbound.sent_at,
    )
    if inbound.edited:
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=["integration_id", "dedup_key"],
            set_={
                "text": excluded.text,
                "attachments": excluded.attachments,
                "edited": True,
                "edited_at": excluded.edited_at,
            },
            where=sa.and_(
                messages.c.owner_id == owner_id,
                sa.or_(
                    messages.c.edited_at.is_(None),
                    excluded.edited_at.is_(None),
                    messages.c.edited_at <= excluded.edited_at,
                ),
            ),
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=["integration_id", "dedup_key"])
    row = (await connection.execute(statement.returning(messages))).first()
    return Message.from_row(row) if row else None


async def get_reply_part(
    connection: AsyncConnection, *, owner_id: str, reply_id: str, reply_part: int
) -> Message | None:
    row = (
        await connection.execute(
            sa.select(messages).where(
                messages.c.reply_id == reply_id,
                messages.c.reply_part == reply_part,
                messages.c.owner_id == owner_id,
            )
        )
    ).first()
    return Message.from_row(row) if row else None


async def claim_reply_part(
    connection: AsyncConnection,
    *,
    owner_id: str,
    integration_id: str,
    contact_id: str,
    reply_id: str,
    reply_part: int,
    text: str,
    agent_id: str,
    in_reply_to_message_id: str | None,
    attempt_id: str,
    lease: timedelta,
) -> Message | None:
    """Take the right to send one part of a reply: store it PENDING under a lease.

    Returns the message when this attempt holds the lease, None when the part is already sent,
    failed, or being sent by another attempt whose lease has not run out.
    """
    statement = insert(messages).values(
        id=str(uuid.uuid4()),
        owner_id=owner_id,
        integration_id=integration_id,
        contact_id=contact_id,
        direction="outbound",
        author_kind="agent",
        agent_id=agent_id,
        text=text,
        reply_id=reply_id,
        reply_part=reply_part,
        in_reply_to_message_id=in_reply_to_message_id,
        status="pending",
        send_attempt_id=attempt_id,
        send_lease_until=sa.func.now() + lease,
    )
    excluded = statement.excluded
    upsert = statement.on_conflict_do_update(
        index_elements=["reply_id", "reply_part"],
        set_={
            "send_attempt_id": excluded.send_attempt_id,
            "send_lease_until": excluded.send_lease_until,
        },
        where=sa.and_(
            messages.c.owner_id == owner_id,
            messages.c.status == "pending",
            sa.or_(
                messages.c.send_lease_until.is_(None),
                messages.c.send_lease_until < sa.func.now(),
            ),
        ),
    )
    row = (await connection.execute(upsert.returning(messages))).first()
    return Message.from_row(row) if row else None


async def release_send(
    connection: AsyncConnection, *, owner_id: str, message_id: str, attempt_id: str
) -> None:
    """Give the lease back so a redelivery may send at once (the platform never accepted it)."""
    await connection.execute(
        sa.update(messages)
        .where(
            messages.c.id == message_id,
            messages.c.owner_id == owner_id,
            messages.c.send_attempt_id == attempt_id,
            messages.c.status == "pending",
        )
        .values(send_lease_until=None)
    )


async def mark_sent(
    connection: AsyncConnection,
    *,
    owner_id: str,
    message_id: str,
    platform_message_id: str,
    platform_at: datetime,
) -> Message | None:
    row = (
        await connection.execute(
            sa.update(messages)
            .where(messages.c.id == message_id, messages.c.owner_id == owner_id)
            .values(
                status="sent",
                platform_message_id=platform_message_id,
                platform_at=platform_at,
                send_attempt_id=None,
                send_lease_until=None,
            )
            .returning(messages)
        )
    ).first()
    return Message.from_row(row) if row else None


async def mark_failed(
    connection: AsyncConnection, *, owner_id: str, message_id: str, error: str
) -> Message | None:
    row = (
        await connection.execute(
            sa.update(messages)
            .where(messages.c.id == message_id, messages.c.owner_id == owner_id)
            .values(
                status="failed", error_message=error, send_attempt_id=None, send_lease_until=None
            )
            .returning(messages)
        )
    ).first()
    return Message.from_row(row) if row else None
