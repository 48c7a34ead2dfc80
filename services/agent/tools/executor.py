"""ExecuteTool: resolve the tool for the agent, check the arguments, run it within its time,
and log the action (STARTED, then final) — once per `call_id`: a retry replays the recorded
outcome, and a `call_id` reused for another call is refused."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from google.protobuf import duration_pb2, json_format
from inbetwin.agent.v1 import action_pb2, agent_pb2, tool_pb2
from inbetwin.agent.v1 import agent_service_pb2 as pb
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.agent import action_log, errors
from services.agent.activity_hub import ActivityHub
from services.agent.agents import AgentBook
from services.agent.tables import tool_calls, tools
from services.agent.tools import arguments
from services.agent.tools.builtin_runner import BuiltinRunner, Call
from services.agent.tools.builtins import BY_NAME
from services.agent.tools.outcome import ToolFailure, ToolResult
from services.kit.outbox import OutboxRelay

# Runs an owner-defined tool (webhook or MCP): (tool, stored secrets, call, dry_run) -> result.
OwnerToolRunner = Callable[[tool_pb2.Tool, Any, Call, bool], Awaitable[ToolResult]]
POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class Resolved:
    kind: int
    schema: dict[str, Any]
    timeout: float
    builtin: int = 0
    tool: tool_pb2.Tool | None = None
    tool_row: Any = None


def _fingerprint(request: pb.ExecuteToolRequest) -> str:
    try:
        args = json.dumps(json.loads(request.arguments_json or "{}"), sort_keys=True)
    except json.JSONDecodeError:
        args = request.arguments_json
    payload = json.dumps([request.agent_id, request.tool_name, args, request.dry_run])
    return hashlib.sha256(payload.encode()).hexdigest()


def _duration(seconds: float) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromNanoseconds(int(seconds * 1e9))
    return duration


class ToolExecutor:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        relay: OutboxRelay,
        agents: AgentBook,
        builtins: BuiltinRunner,
        owner_tools: dict[int, OwnerToolRunner],
        builtin_timeout: float,
        max_result_bytes: int,
        hub: ActivityHub | None = None,
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._agents = agents
        self._builtins = builtins
        self._owner_tools = owner_tools
        self._builtin_timeout = builtin_timeout
        self._max_result_bytes = max_result_bytes
        self._hub = hub

    async def execute(
        self, owner_id: str, request: pb.ExecuteToolRequest, deadline: float | None
    ) -> pb.ExecuteToolResponse:
        agent = await self._agents.get(owner_id, request.agent_id)
        fingerprint = _fingerprint(request)
        earlier = await self._recorded(owner_id, request.call_id, fingerprint, deadline)
        if earlier is not None:
            return earlier
        base = action_pb2.AgentAction(
            agent_id=agent.id,
            integration_id=request.integration_id,
            contact_id=request.contact_id,
            message_id=request.message_id,
            kind=action_pb2.ACTION_KIND_TOOL_CALL,
            tool_name=request.tool_name,
            call_id=request.call_id,
            dry_run=request.dry_run,
        )
        try:
            resolved = await self._resolve(owner_id, agent, request.tool_name)
            base.tool_kind = resolved.kind  # type: ignore[assignment,unused-ignore]
            args = arguments.parse(request.arguments_json)
            arguments.check(args, resolved.schema)
        except ToolFailure as refused:
            if refused.tool_kind:
                base.tool_kind = refused.tool_kind  # type: ignore[assignment,unused-ignore]
            details = {"arguments": request.arguments_json[:4096]}
            return await self._reject(owner_id, base, fingerprint, refused, details)
        base.details.CopyFrom(action_log.details_struct({"arguments": args}))
        started = await self._start(owner_id, base, fingerprint)
        if started is None:  # another call with this call_id won the race
            replay = await self._recorded(owner_id, request.call_id, fingerprint, deadline)
            if replay is None:
                raise errors.unavailable("CALL_IN_PROGRESS", "this call is still running")
            return replay
        call = Call(
            owner_id=owner_id,
            agent=agent,
            integration_id=request.integration_id,
            contact_id=request.contact_id,
            message_id=request.message_id,
            arguments=args,
            call_id=request.call_id,
        )
        timeout = resolved.timeout
        if deadline is not None:
            timeout = max(0.0, min(timeout, deadline - 0.2))
        began = time.monotonic()
        result: ToolResult | None = None
        failure: ToolFailure | None = None
        try:
            async with asyncio.timeout(timeout):
                result = await self._run(resolved, call, request.dry_run)
        except ToolFailure as failed:
            failure = failed
        except TimeoutError:
            failure = ToolFailure("TOOL_TIMEOUT", f"the tool did not finish within {timeout:g}s")
        if result is not None:
            encoded = json.dumps(result.value, default=str)
            if len(encoded.encode()) > self._max_result_bytes:
                failure, result = (
                    ToolFailure(
                        "TOOL_RESPONSE_TOO_LARGE",
                        f"the tool's result is larger than {self._max_result_bytes} bytes",
                    ),
                    None,
                )
        return await self._finish(
            owner_id, started, result, failure, time.monotonic() - began, request.dry_run
        )

    async def _resolve(self, owner_id: str, agent: agent_pb2.Agent, name: str) -> Resolved:
        builtin = BY_NAME.get(name)
        if builtin is not None:
            if builtin.tool not in agent.builtin_tools:
                raise ToolFailure(
                    "TOOL_NOT_ALLOWED",
                    f"the tool {name} is not enabled",
                    rejected=True,
                    tool_kind=tool_pb2.TOOL_KIND_BUILTIN,
                )
            return Resolved(
                tool_pb2.TOOL_KIND_BUILTIN,
                builtin.schema,
                self._builtin_timeout,
                builtin=builtin.tool,
            )
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(tools).where(tools.c.owner_id == owner_id, tools.c.name == name)
                )
            ).first()
        if row is None:
            raise ToolFailure("TOOL_UNKNOWN", f"there is no tool named {name}", rejected=True)
        tool = tool_pb2.Tool.FromString(row.spec)
        tool.id = row.id
        tool.kind = row.kind
        if row.id not in agent.tool_ids:
            raise ToolFailure(
                "TOOL_NOT_ALLOWED",
                f"the tool {name} is not enabled",
                rejected=True,
                tool_kind=int(tool.kind),
            )
        schema = (
            json_format.MessageToDict(tool.parameters)
            if tool.HasField("parameters")
            else {"type": "object"}
        )
        timeout_ms = tool.http_webhook.timeout_ms if tool.HasField("http_webhook") else 0
        return Resolved(
            int(tool.kind),
            schema,
            (timeout_ms or 30_000) / 1000 + 1.0,
            tool=tool,
            tool_row=row,
        )

    async def _run(self, resolved: Resolved, call: Call, dry_run: bool) -> ToolResult:
        if resolved.kind == tool_pb2.TOOL_KIND_BUILTIN:
            return await self._builtins.run(resolved.builtin, call, dry_run=dry_run)
        runner = self._owner_tools.get(resolved.kind)
        if runner is None or resolved.tool is None:
            raise ToolFailure("TOOL_UNKNOWN", "this kind of tool cannot run here", rejected=True)
        if dry_run:
            return ToolResult({"simulated": True, "arguments": call.arguments})
        return await runner(resolved.tool, resolved.tool_row, call, dry_run)

    async def _recorded(
        self, owner_id: str, call_id: str, fingerprint: str, deadline: float | None
    ) -> pb.ExecuteToolResponse | None:
        """The recorded outcome of `call_id` (waiting while it runs elsewhere); None if new."""
        while True:
            async with self._engine.connect() as conn:
                row = (
                    await conn.execute(
                        sa.select(tool_calls).where(
                            tool_calls.c.owner_id == owner_id,
                            tool_calls.c.call_id == call_id,
                            tool_calls.c.created_at
                            > sa.func.now() - sa.text("interval '24 hours'"),
                        )
                    )
                ).first()
            if row is None:
                return None
            if row.fingerprint != fingerprint:
                raise errors.already_exists(
                    "CALL_ID_REUSED", "call_id was already used for another tool call"
                )
            if row.response is not None:
                response = pb.ExecuteToolResponse.FromString(row.response)
                response.replayed = True
                return response
            if deadline is not None and deadline <= POLL_SECONDS:
                raise errors.unavailable("CALL_IN_PROGRESS", "this call is still running")
            await asyncio.sleep(POLL_SECONDS)
            if deadline is not None:
                deadline -= POLL_SECONDS

    async def _start(
        self, owner_id: str, action: action_pb2.AgentAction, fingerprint: str
    ) -> action_pb2.AgentAction | None:
        action = _with_status(action, action_pb2.ACTION_STATUS_STARTED)
        async with self._engine.begin() as conn:
            claimed = await self._claim(conn, owner_id, action.call_id, fingerprint)
            if not claimed:
                return None
            stored = await action_log.record(conn, owner_id=owner_id, action=action)
            await conn.execute(
                sa.update(tool_calls)
                .where(tool_calls.c.owner_id == owner_id, tool_calls.c.call_id == action.call_id)
                .values(action_id=stored.id)
            )
        self._published(owner_id, stored)
        return stored

    @staticmethod
    async def _claim(conn: Any, owner_id: str, call_id: str, fingerprint: str) -> bool:
        await conn.execute(
            sa.delete(tool_calls).where(
                tool_calls.c.owner_id == owner_id,
                tool_calls.c.call_id == call_id,
                tool_calls.c.created_at <= sa.func.now() - sa.text("interval '24 hours'"),
            )
        )
        result = await conn.execute(
            insert(tool_calls)
            .values(
                owner_id=owner_id,
                call_id=call_id,
                fingerprint=fingerprint,
                action_id="00000000-0000-0000-0000-000000000000",
            )
            .on_conflict_do_nothing()
            .returning(tool_calls.c.call_id)
        )
        return result.first() is not None

    async def _reject(
        self,
        owner_id: str,
        action: action_pb2.AgentAction,
        fingerprint: str,
        failure: ToolFailure,
        details: dict[str, Any],
    ) -> pb.ExecuteToolResponse:
        action = _with_status(action, failure.status)
        action.reason = failure.reason
        action.error_message = failure.message
        action.details.CopyFrom(action_log.details_struct(details))
        async with self._engine.begin() as conn:
            if not await self._claim(conn, owner_id, action.call_id, fingerprint):
                raise errors.unavailable("CALL_IN_PROGRESS", "this call is already recorded")
            stored = await action_log.record(conn, owner_id=owner_id, action=action)
            response = pb.ExecuteToolResponse(
                action_id=stored.id,
                status=failure.status,  # type: ignore[arg-type,unused-ignore]
                error_reason=_reason(failure),
                error_message=failure.message,
                duration=_duration(0),
                tool_kind=action.tool_kind,
                simulated=action.dry_run,
            )
            await self._store(conn, owner_id, action.call_id, stored.id, response)
        self._published(owner_id, stored)
        return response

    async def _finish(
        self,
        owner_id: str,
        started: action_pb2.AgentAction,
        result: ToolResult | None,
        failure: ToolFailure | None,
        seconds: float,
        dry_run: bool,
    ) -> pb.ExecuteToolResponse:
        action = action_pb2.AgentAction()
        action.CopyFrom(started)
        action.duration.CopyFrom(_duration(seconds))
        details = json_format.MessageToDict(started.details)
        response = pb.ExecuteToolResponse(
            action_id=started.id,
            duration=_duration(seconds),
            tool_kind=started.tool_kind,
            simulated=dry_run,
        )
        if result is not None:
            action.status = action_pb2.ACTION_STATUS_SUCCEEDED
            details["result"] = result.value
            response.status = action_pb2.ACTION_STATUS_SUCCEEDED
            response.result_json = json.dumps(result.value, default=str)
            if result.handoff is not None:
                response.handoff.CopyFrom(result.handoff)
                details["handoff_id"] = result.handoff.id
        else:
            assert failure is not None
            action.status = failure.status  # type: ignore[assignment,unused-ignore]
            action.reason = failure.reason
            action.error_message = failure.message
            response.status = failure.status  # type: ignore[assignment,unused-ignore]
            response.error_reason = _reason(failure)
            response.error_message = failure.message
        action.details.Clear()
        action.details.CopyFrom(action_log.details_struct(details))
        async with self._engine.begin() as conn:
            finished = await action_log.finish(conn, owner_id=owner_id, action=action)
            await self._store(conn, owner_id, action.call_id, started.id, response)
        self._published(owner_id, finished)
        return response

    def _published(self, owner_id: str, action: action_pb2.AgentAction) -> None:
        """After the commit: the relay sends it to the bus; local watchers get it at once."""
        self._relay.notify()
        if self._hub is not None:
            self._hub.deliver_local(owner_id, action)

    @staticmethod
    async def _store(
        conn: Any, owner_id: str, call_id: str, action_id: str, response: pb.ExecuteToolResponse
    ) -> None:
        await conn.execute(
            sa.update(tool_calls)
            .where(tool_calls.c.owner_id == owner_id, tool_calls.c.call_id == call_id)
            .values(action_id=action_id, response=response.SerializeToString())
        )


def _with_status(action: action_pb2.AgentAction, status: int) -> action_pb2.AgentAction:
    copy = action_pb2.AgentAction()
    copy.CopyFrom(action)
    copy.status = status  # type: ignore[assignment,unused-ignore]
    return copy


def _reason(failure: ToolFailure) -> Any:
    return pb.ErrorReason.Value(f"ERROR_REASON_{failure.reason}")
