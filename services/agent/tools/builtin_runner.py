"""Runs the built-in tools against their real backends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from inbetwin.agent.v1 import agent_pb2, handoff_pb2, tool_pb2
from sqlalchemy.ext.asyncio import AsyncEngine

from services.agent.agents import CALENDAR_PROVIDERS, TASK_PROVIDERS
from services.agent.connections import Connection, Connections, Workspaces
from services.agent.handoffs import HandoffRequest, Handoffs
from services.agent.tools import user_info
from services.agent.tools.outcome import ToolFailure, ToolResult
from services.agent.working_hours import schedule_of
from services.agent.workspaces.common import Slot
from services.kit.outbox import OutboxRelay


@dataclass(frozen=True, slots=True)
class Call:
    owner_id: str
    agent: agent_pb2.Agent
    integration_id: str
    contact_id: str
    message_id: str
    arguments: dict[str, Any]
    call_id: str = ""


class BuiltinRunner:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        relay: OutboxRelay,
        handoffs: Handoffs,
        connections: Connections,
        workspaces: Workspaces,
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._handoffs = handoffs
        self._connections = connections
        self._workspaces = workspaces

    async def run(self, builtin: int, call: Call, *, dry_run: bool) -> ToolResult:
        if builtin in (tool_pb2.BUILTIN_TOOL_SAVE_USER_INFO, tool_pb2.BUILTIN_TOOL_CALL_OPERATOR):
            needs_integration = builtin == tool_pb2.BUILTIN_TOOL_CALL_OPERATOR
            if not dry_run and (
                not call.contact_id or (needs_integration and not call.integration_id)
            ):
                raise ToolFailure(
                    "INVALID_TOOL_ARGUMENTS",
                    "this tool needs a conversation with a contact",
                    rejected=True,
                )
        if builtin == tool_pb2.BUILTIN_TOOL_SCHEDULE_EVENT:
            slot = self._slot(call)  # checked in a dry run too
        if dry_run:
            return ToolResult({"simulated": True, "arguments": call.arguments})
        if builtin == tool_pb2.BUILTIN_TOOL_SAVE_USER_INFO:
            return await self._save_user_info(call)
        if builtin == tool_pb2.BUILTIN_TOOL_CALL_OPERATOR:
            return await self._call_operator(call)
        if builtin == tool_pb2.BUILTIN_TOOL_CREATE_TASK:
            return await self._create_task(call)
        return await self._schedule_event(call, slot)

    async def _save_user_info(self, call: Call) -> ToolResult:
        async with self._engine.begin() as conn:
            facts = await user_info.save(
                conn,
                owner_id=call.owner_id,
                contact_id=call.contact_id,
                message_id=call.message_id,
                learned=call.arguments,
            )
        self._relay.notify()
        return ToolResult({"saved": sorted(call.arguments), "facts": facts})

    async def _call_operator(self, call: Call) -> ToolResult:
        handoff, created = await self._handoffs.open(
            HandoffRequest(
                owner_id=call.owner_id,
                integration_id=call.integration_id,
                contact_id=call.contact_id,
                requested_by=handoff_pb2.HANDOFF_REQUESTER_AGENT_TOOL,
                agent_id=call.agent.id,
                message_id=call.message_id,
                reason=str(call.arguments.get("reason", "")),
            )
        )
        return ToolResult(
            {
                "handoff_id": handoff.id,
                "already_open": not created,
                "instruction": "A human will answer from now on; do not answer any more.",
            },
            handoff=handoff,
        )

    async def _connection(self, call: Call, chosen: str, providers: frozenset[int]) -> Connection:
        connection = await self._connections.for_use(call.owner_id, chosen, providers)
        if connection is None:
            raise ToolFailure("CONNECTION_MISSING", "the owner has connected no workspace for this")
        return connection

    async def _create_task(self, call: Call) -> ToolResult:
        connection = await self._connection(
            call, call.agent.builtin_settings.task_connection_id, TASK_PROVIDERS
        )
        args = call.arguments
        title = str(args["title"])
        description = str(args.get("description", ""))
        due = str(args.get("due_date", ""))
        spec = connection.spec
        if spec.WhichOneof("config") == "notion":
            created = await self._workspaces.notion.create_task(
                connection.secret,
                spec.notion.database_id,
                title=title,
                description=description,
                due_date=due,
            )
        else:
            created = await self._workspaces.asana.create_task(
                connection.secret,
                spec.asana.workspace_gid,
                spec.asana.project_gid,
                title=title,
                description=description,
                due_date=due,
            )
        return ToolResult(created)

    def _slot(self, call: Call) -> Slot:
        args = call.arguments
        start = datetime.fromisoformat(str(args["start_time"]).replace("Z", "+00:00"))
        minutes = int(
            args.get("duration_minutes")
            or call.agent.builtin_settings.default_meeting_minutes
            or 30
        )
        slot = Slot(
            title=str(args["title"]),
            start=start,
            end=start + timedelta(minutes=minutes),
            description=str(args.get("description", "")),
            attendee_email=str(args.get("attendee_email", "")),
        )
        if call.agent.HasField("working_hours") and not schedule_of(call.agent.working_hours).fits(
            slot.start, slot.end
        ):
            raise ToolFailure(
                "SLOT_OUTSIDE_WORKING_HOURS",
                "that time is outside working hours; offer a time inside them",
                rejected=True,
            )
        return slot

    async def _schedule_event(self, call: Call, slot: Slot) -> ToolResult:
        connection = await self._connection(
            call, call.agent.builtin_settings.calendar_connection_id, CALENDAR_PROVIDERS
        )
        spec = connection.spec
        caldav = spec.WhichOneof("config") == "caldav"
        calendar = spec.caldav.calendar_url if caldav else spec.google_calendar.calendar_id
        # Check-then-book is serialised per calendar (across instances) so two simultaneous
        # bookings of one slot cannot both see it free; the lock ends with the transaction.
        async with self._engine.begin() as conn:
            await conn.execute(
                sa.select(
                    sa.func.pg_advisory_xact_lock(
                        sa.func.hashtextextended(f"calendar:{calendar}", 0)
                    )
                )
            )
            if caldav:
                dav = spec.caldav
                workspace = self._workspaces.caldav
                if await workspace.busy(dav.calendar_url, dav.username, connection.secret, slot):
                    raise _taken()
                booked = await workspace.book(
                    dav.calendar_url, dav.username, connection.secret, slot
                )
            else:
                google = self._workspaces.google
                if await google.busy(connection.secret, calendar, slot):
                    raise _taken()
                booked = await google.book(connection.secret, calendar, slot)
        booked.update(start_time=slot.start.isoformat(), end_time=slot.end.isoformat())
        return ToolResult(booked)


def _taken() -> ToolFailure:
    return ToolFailure("SLOT_UNAVAILABLE", "that time is already taken; offer another one")
