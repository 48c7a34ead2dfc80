"""Workspace connections for the built-in tools: stored without secrets (sealed apart), checked
against the provider on create, and resolved for a tool call (the agent's choice, or the owner's
most recent connection of that use)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from google.protobuf import field_mask_pb2
from inbetwin.agent.v1 import tool_pb2
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from services.agent import errors, repository
from services.agent.destinations import DestinationPolicy, ForbiddenDestinationError
from services.agent.secrets_box import SecretBox
from services.agent.tables import tool_connections
from services.agent.workspaces.asana import Asana
from services.agent.workspaces.caldav import CalDav
from services.agent.workspaces.common import Check
from services.agent.workspaces.google_calendar import GoogleCalendar, service_account_email
from services.agent.workspaces.notion import Notion

SECRET_FIELDS = {
    "notion": "api_token",
    "asana": "access_token",
    "caldav": "password",
    "google_calendar": "service_account_key_json",
}
PROVIDERS = {
    "notion": tool_pb2.CONNECTION_PROVIDER_NOTION,
    "asana": tool_pb2.CONNECTION_PROVIDER_ASANA,
    "caldav": tool_pb2.CONNECTION_PROVIDER_CALDAV,
    "google_calendar": tool_pb2.CONNECTION_PROVIDER_GOOGLE_CALENDAR,
}
CREATE_SCOPE = "CreateToolConnection"
# Fields of each provider an update may name (`<provider>.<field>`); the rest are output-only.
UPDATABLE_FIELDS = {
    "notion": ("api_token", "database_id"),
    "asana": ("access_token", "workspace_gid", "project_gid"),
    "caldav": ("calendar_url", "username", "password"),
    "google_calendar": ("service_account_key_json", "calendar_id"),
}


@dataclass(frozen=True, slots=True)
class Workspaces:
    notion: Notion
    asana: Asana
    caldav: CalDav
    google: GoogleCalendar


@dataclass(frozen=True, slots=True)
class Connection:
    """A connection with its secret, for a tool call."""

    spec: tool_pb2.ToolConnection
    secret: str


def to_proto(row: Row[Any]) -> tool_pb2.ToolConnection:
    connection = tool_pb2.ToolConnection.FromString(row.spec)
    connection.id = row.id
    connection.create_time.FromDatetime(row.created_at)
    connection.update_time.FromDatetime(row.updated_at)
    return connection


class Connections:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        box: SecretBox,
        policy: DestinationPolicy,
        workspaces: Workspaces,
    ) -> None:
        self._engine = engine
        self._box = box
        self._policy = policy
        self._workspaces = workspaces

    async def create(
        self, owner_id: str, connection: tool_pb2.ToolConnection, request_id: str
    ) -> tool_pb2.ToolConnection:
        async with self._engine.connect() as conn:
            earlier = await repository.remembered(
                conn, owner_id=owner_id, scope=CREATE_SCOPE, request_id=request_id
            )
        if earlier is not None:
            return tool_pb2.ToolConnection.FromString(earlier)
        kind = connection.WhichOneof("config") or ""
        settings = getattr(connection, kind)
        secret = getattr(settings, SECRET_FIELDS[kind])
        if not secret and kind != "caldav":
            raise errors.invalid(
                "CONNECTION_CREDENTIALS_MISSING", f"{kind}.{SECRET_FIELDS[kind]} is required"
            )
        stored = tool_pb2.ToolConnection()
        stored.CopyFrom(connection)
        stored.provider = PROVIDERS[kind]  # type: ignore[assignment,unused-ignore]
        self._check_destination(stored)
        if kind == "google_calendar":
            stored.google_calendar.service_account_email = self._service_account(secret)
        check = await self.check(stored, secret)
        stored.status = check.status  # type: ignore[assignment]
        stored.status_message = check.message
        stored.check_time.FromDatetime(datetime.now(UTC))
        setattr(getattr(stored, kind), SECRET_FIELDS[kind], "")
        connection_id = str(uuid.uuid4())
        sealed = self._box.seal({"secret": secret}, bound_to=connection_id) if secret else None
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    sa.insert(tool_connections)
                    .values(
                        id=connection_id,
                        owner_id=owner_id,
                        provider=int(stored.provider),
                        spec=stored.SerializeToString(),
                        sealed_secret=sealed,
                    )
                    .returning(*tool_connections.c)
                )
            ).one()
            created = to_proto(row)
            await repository.remember(
                conn,
                owner_id=owner_id,
                scope=CREATE_SCOPE,
                request_id=request_id,
                response=created.SerializeToString(),
            )
        return created

    async def update(
        self, owner_id: str, patch: tool_pb2.ToolConnection, mask: field_mask_pb2.FieldMask
    ) -> tool_pb2.ToolConnection:
        row = await self._row(owner_id, patch.id) if _is_uuid(patch.id) else None
        if row is None:
            raise errors.connection_not_found()
        stored = to_proto(row)
        kind = stored.WhichOneof("config") or ""
        paths = list(mask.paths)
        allowed = {"display_name"} | {f"{kind}.{field}" for field in UPDATABLE_FIELDS[kind]}
        wrong = [path for path in paths if path not in allowed]
        if wrong or not paths:
            raise errors.field_not_updatable(wrong or ["(empty update_mask)"])
        secret = str(self._box.open(row.sealed_secret, bound_to=row.id).get("secret", ""))
        settings, changes = getattr(stored, kind), getattr(patch, kind)
        for path in paths:
            if path == "display_name":
                stored.display_name = patch.display_name
                continue
            field = path.split(".", 1)[1]
            if field == SECRET_FIELDS[kind]:
                secret = getattr(changes, field)
            else:
                setattr(settings, field, getattr(changes, field))
        if not secret and kind != "caldav":
            raise errors.invalid(
                "CONNECTION_CREDENTIALS_MISSING", f"{kind}.{SECRET_FIELDS[kind]} is required"
            )
        self._check_destination(stored)
        if kind == "google_calendar":
            stored.google_calendar.service_account_email = self._service_account(secret)
        if paths != ["display_name"]:
            check = await self.check(stored, secret)
            stored.status = check.status  # type: ignore[assignment]
            stored.status_message = check.message
            stored.check_time.FromDatetime(datetime.now(UTC))
        for field in ("id", "create_time", "update_time"):
            stored.ClearField(field)
        sealed = self._box.seal({"secret": secret}, bound_to=row.id) if secret else None
        async with self._engine.begin() as conn:
            updated = (
                await conn.execute(
                    sa.update(tool_connections)
                    .where(
                        tool_connections.c.owner_id == owner_id,
                        tool_connections.c.id == row.id,
                    )
                    .values(
                        spec=stored.SerializeToString(),
                        sealed_secret=sealed,
                        updated_at=sa.func.now(),
                    )
                    .returning(*tool_connections.c)
                )
            ).first()
        if updated is None:
            raise errors.connection_not_found()
        return to_proto(updated)

    def _check_destination(self, connection: tool_pb2.ToolConnection) -> None:
        if connection.WhichOneof("config") != "caldav":
            return
        try:
            self._policy.check_literal(connection.caldav.calendar_url)
        except ForbiddenDestinationError:
            raise errors.invalid(
                "TOOL_DESTINATION_FORBIDDEN", "the calendar URL points to a forbidden network"
            ) from None

    @staticmethod
    def _service_account(key_json: str) -> str:
        email = service_account_email(key_json)
        if email is None:
            raise errors.invalid(
                "CONNECTION_CREDENTIALS_MISSING",
                "service_account_key_json is not a service-account key",
            )
        return email

    async def check(self, connection: tool_pb2.ToolConnection, secret: str) -> Check:
        kind = connection.WhichOneof("config")
        w = self._workspaces
        if kind == "notion":
            return await w.notion.check(secret, connection.notion.database_id)
        if kind == "asana":
            return await w.asana.check(
                secret, connection.asana.workspace_gid, connection.asana.project_gid
            )
        if kind == "caldav":
            return await w.caldav.check(
                connection.caldav.calendar_url, connection.caldav.username, secret
            )
        return await w.google.check(secret, connection.google_calendar.calendar_id)

    async def get(self, owner_id: str, connection_id: str) -> tool_pb2.ToolConnection:
        row = await self._row(owner_id, connection_id)
        if row is None:
            raise errors.connection_not_found()
        return to_proto(row)

    async def page(
        self, owner_id: str, *, limit: int, after: tuple[datetime, str] | None, provider: int
    ) -> list[Row[Any]]:
        query = sa.select(tool_connections).where(tool_connections.c.owner_id == owner_id)
        if provider:
            query = query.where(tool_connections.c.provider == provider)
        if after is not None:
            query = query.where(
                sa.tuple_(tool_connections.c.created_at, tool_connections.c.id)
                > sa.tuple_(sa.literal(after[0]), sa.cast(after[1], tool_connections.c.id.type))
            )
        query = query.order_by(tool_connections.c.created_at, tool_connections.c.id).limit(limit)
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).all())

    async def delete(self, owner_id: str, connection_id: str) -> None:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                sa.delete(tool_connections).where(
                    tool_connections.c.owner_id == owner_id, tool_connections.c.id == connection_id
                )
            )
        if result.rowcount == 0:
            raise errors.connection_not_found()

    async def for_use(
        self, owner_id: str, chosen_id: str, providers: frozenset[int]
    ) -> Connection | None:
        """The chosen connection if it still exists, else the owner's most recent one of a
        provider in `providers`; None when there is none."""
        row = await self._row(owner_id, chosen_id) if chosen_id else None
        if row is None or row.provider not in providers:
            async with self._engine.connect() as conn:
                row = (
                    await conn.execute(
                        sa.select(tool_connections)
                        .where(
                            tool_connections.c.owner_id == owner_id,
                            tool_connections.c.provider.in_(providers),
                        )
                        .order_by(tool_connections.c.created_at.desc())
                        .limit(1)
                    )
                ).first()
        if row is None:
            return None
        secret = self._box.open(row.sealed_secret, bound_to=row.id).get("secret", "")
        return Connection(to_proto(row), str(secret))

    async def _row(self, owner_id: str, connection_id: str) -> Row[Any] | None:
        async with self._engine.connect() as conn:
            row: Row[Any] | None = (
                await conn.execute(
                    sa.select(tool_connections).where(
                        tool_connections.c.owner_id == owner_id,
                        tool_connections.c.id == connection_id,
                    )
                )
            ).first()
        return row


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
