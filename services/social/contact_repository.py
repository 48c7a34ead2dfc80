"""SQL for contacts as the owner sees and steers them: search, filters, pages, allow/deny,
pausing the agent, and synchronised profiles. Every query filters by `owner_id`.

Contacts are returned with their integration's platform and default policy, which decide how
they are shown (`agent_allowed`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.social.models import Contact
from services.social.page_tokens import SortValue
from services.social.platforms.types import Profile
from services.social.tables import contacts, integrations

# Stand-ins for "no message yet" so that such contacts sort last in either direction.
_NEVER_EARLY = datetime(1970, 1, 1, tzinfo=UTC)
_NEVER_LATE = datetime(9999, 12, 31, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ContactView:
    contact: Contact
    platform: str
    default_contact_policy: str


@dataclass(frozen=True, slots=True)
class ContactFilter:
    integration_id: str | None = None
    query: str = ""
    agent_access: str | None = None
    agent_allowed: bool | None = None
    agent_paused: bool | None = None
    reachable: bool | None = None


@dataclass(frozen=True, slots=True)
class _Order:
    expression: Any
    descending: bool


def _effective_name() -> Any:
    return sa.func.lower(
        sa.func.coalesce(
            sa.func.nullif(contacts.c.display_name, ""), contacts.c.platform_display_name
        )
    )


ORDERS: dict[str, _Order] = {
    "last_message_time desc": _Order(
        sa.func.coalesce(contacts.c.last_message_at, sa.literal(_NEVER_EARLY)), True
    ),
    "last_message_time asc": _Order(
        sa.func.coalesce(contacts.c.last_message_at, sa.literal(_NEVER_LATE)), False
    ),
    "display_name asc": _Order(_effective_name(), False),
    "display_name desc": _Order(_effective_name(), True),
    "create_time desc": _Order(contacts.c.created_at, True),
    "create_time asc": _Order(contacts.c.created_at, False),
}
DEFAULT_ORDER = "last_message_time desc"


def _select() -> Any:
    return sa.select(contacts, integrations.c.platform, integrations.c.default_contact_policy).join(
        integrations, integrations.c.id == contacts.c.integration_id
    )


def _view(row: Any) -> ContactView:
    return ContactView(
        contact=Contact.from_row(row),
        platform=row._mapping["platform"],
        default_contact_policy=row._mapping["default_contact_policy"],
    )


def _allowed_expression() -> Any:
    return sa.or_(
        contacts.c.agent_access == "allowed",
        sa.and_(
            contacts.c.agent_access == "inherit",
            integrations.c.default_contact_policy != "deny_all",
        ),
    )


async def list_contacts(
    connection: AsyncConnection,
    *,
    owner_id: str,
    where: ContactFilter,
    order_by: str,
    after: tuple[SortValue, str] | None,
    limit: int,
) -> list[tuple[ContactView, SortValue]]:
    """One page in the requested order, each contact with its sort value (for the next token)."""
    order = ORDERS[order_by or DEFAULT_ORDER]
    query = _select().add_columns(order.expression.label("sort_value"))
    query = query.where(contacts.c.owner_id == owner_id)
    if where.integration_id is not None:
        query = query.where(contacts.c.integration_id == where.integration_id)
    if where.query:
        pattern = "%" + _escape_like(where.query.removeprefix("@").lower()) + "%"
        query = query.where(
            sa.or_(
                sa.func.lower(sa.func.coalesce(contacts.c.display_name, "")).like(
                    pattern, escape="\\"
                ),
                sa.func.lower(contacts.c.platform_display_name).like(pattern, escape="\\"),
                sa.func.lower(contacts.c.username).like(pattern, escape="\\"),
            )
        )
    if where.agent_access is not None:
        query = query.where(contacts.c.agent_access == where.agent_access)
    if where.agent_allowed is not None:
        allowed = _allowed_expression()
        query = query.where(allowed if where.agent_allowed else sa.not_(allowed))
    if where.agent_paused is not None:
        query = query.where(contacts.c.agent_paused.is_(where.agent_paused))
    if where.reachable is not None:
        query = query.where(contacts.c.reachable.is_(where.reachable))
    if after is not None:
        value, row_id = after
        key = sa.tuple_(order.expression, contacts.c.id)
        bound = sa.tuple_(
            sa.literal(value, order.expression.type), sa.literal(row_id, contacts.c.id.type)
        )
        query = query.where(key < bound if order.descending else key > bound)
    if order.descending:
        query = query.order_by(order.expression.desc(), contacts.c.id.desc())
    else:
        query = query.order_by(order.expression.asc(), contacts.c.id.asc())
    rows = (await connection.execute(query.limit(limit))).all()
    return [(_view(row), row._mapping["sort_value"]) for row in rows]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def get_contact_view(
    connection: AsyncConnection, *, owner_id: str, contact_id: str
) -> ContactView | None:
    row = (
        await connection.execute(
            _select().where(contacts.c.id == contact_id, contacts.c.owner_id == owner_id)
        )
    ).first()
    return _view(row) if row else None


async def get_contact_views(
    connection: AsyncConnection, *, owner_id: str, contact_ids: Sequence[str]
) -> list[ContactView]:
    rows = (
        await connection.execute(
            _select().where(contacts.c.id.in_(list(contact_ids)), contacts.c.owner_id == owner_id)
        )
    ).all()
    return [_view(row) for row in rows]


async def update_contact(
    connection: AsyncConnection, *, owner_id: str, contact_id: str, values: dict[str, object]
) -> Contact | None:
    row = (
        await connection.execute(
            sa.update(contacts)
            .where(contacts.c.id == contact_id, contacts.c.owner_id == owner_id)
            .values(**values, updated_at=sa.func.now())
            .returning(contacts)
        )
    ).first()
    return Contact.from_row(row) if row else None


async def set_agent_paused(
    connection: AsyncConnection, *, owner_id: str, contact_id: str, paused: bool
) -> Contact | None:
    """Pause or resume; None when the contact is unknown or already in that state."""
    row = (
        await connection.execute(
            sa.update(contacts)
            .where(
                contacts.c.id == contact_id,
                contacts.c.owner_id == owner_id,
                contacts.c.agent_paused.is_not(paused),
            )
            .values(
                agent_paused=paused,
                agent_paused_at=sa.func.now() if paused else None,
                updated_at=sa.func.now(),
            )
            .returning(contacts)
        )
    ).first()
    return Contact.from_row(row) if row else None


async def known_user_ids(
    connection: AsyncConnection, *, owner_id: str, integration_id: str, limit: int
) -> list[str]:
    rows = (
        await connection.execute(
            sa.select(contacts.c.platform_user_id)
            .where(contacts.c.owner_id == owner_id, contacts.c.integration_id == integration_id)
            .order_by(contacts.c.last_message_at.desc().nulls_last())
            .limit(limit)
        )
    ).all()
    return [row.platform_user_id for row in rows]


async def upsert_synced_contact(
    connection: AsyncConnection, *, owner_id: str, integration_id: str, profile: Profile
) -> str:
    """Record a contact the platform listed: `created`, `updated` (its profile changed) or
    `unchanged`. The owner's own display name is never touched."""
    statement = insert(contacts).values(
        id=str(uuid.uuid4()),
        owner_id=owner_id,
        integration_id=integration_id,
        platform_user_id=profile.platform_user_id,
        platform_display_name=profile.display_name,
        username=profile.username,
        avatar_url=profile.avatar_url,
    )
    excluded = statement.excluded
    name = sa.func.coalesce(
        sa.func.nullif(excluded.platform_display_name, ""), contacts.c.platform_display_name
    )
    username = sa.func.coalesce(sa.func.nullif(excluded.username, ""), contacts.c.username)
    avatar = sa.func.coalesce(sa.func.nullif(excluded.avatar_url, ""), contacts.c.avatar_url)
    upsert = statement.on_conflict_do_update(
        index_elements=["integration_id", "platform_user_id"],
        set_={
            "platform_display_name": name,
            "username": username,
            "avatar_url": avatar,
            "updated_at": sa.func.now(),
        },
        where=sa.and_(
            contacts.c.owner_id == owner_id,
            sa.or_(
                contacts.c.platform_display_name.is_distinct_from(name),
                contacts.c.username.is_distinct_from(username),
                contacts.c.avatar_url.is_distinct_from(avatar),
            ),
        ),
    )
    # xmax is 0 for a freshly inserted row version and non-zero for an updated one.
    row: Any = (
        await connection.execute(upsert.returning(sa.literal_column("xmax = 0").label("created")))
    ).first()
    if row is None:
        return "unchanged"
    return "created" if row.created else "updated"
