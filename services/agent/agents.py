"""Agents: create (plan limit, idempotent), read through the cache, update by field mask,
delete. Every change bumps the agent's version and publishes `agent.config.changed` in its
transaction; the cache is refreshed after the commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.protobuf import field_mask_pb2
from inbetwin.agent.v1 import agent_pb2, agent_service_pb2, tool_pb2
from inbetwin.events.v1 import agent_events_pb2
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.agent import errors, repository
from services.agent.config_cache import AgentCache
from services.agent.directory import SocialDirectory
from services.agent.entitlements import Entitlements
from services.agent.working_hours import schedule_of
from services.kit.events import new_event
from services.kit.outbox import OutboxRelay, add_event

OUTPUT_ONLY = frozenset({"id", "create_time", "update_time"})
TASK_PROVIDERS = frozenset(
    {tool_pb2.CONNECTION_PROVIDER_NOTION, tool_pb2.CONNECTION_PROVIDER_ASANA}
)
CALENDAR_PROVIDERS = frozenset(
    {tool_pb2.CONNECTION_PROVIDER_CALDAV, tool_pb2.CONNECTION_PROVIDER_GOOGLE_CALENDAR}
)
CREATE_SCOPE = "CreateAgent"
AGENT_DESCRIPTOR: Any = agent_pb2.Agent.DESCRIPTOR


def to_proto(row: Row[Any]) -> agent_pb2.Agent:
    agent = agent_pb2.Agent.FromString(row.spec)
    agent.id = row.id
    agent.create_time.FromDatetime(row.created_at)
    agent.update_time.FromDatetime(row.updated_at)
    return agent


def spec_of(agent: agent_pb2.Agent) -> bytes:
    spec = agent_pb2.Agent()
    spec.CopyFrom(agent)
    for name in OUTPUT_ONLY:
        spec.ClearField(name)
    return spec.SerializeToString(deterministic=True)


def merge_masked(
    stored: agent_pb2.Agent, patch: agent_pb2.Agent, mask: field_mask_pb2.FieldMask
) -> agent_pb2.Agent:
    """The stored agent with the masked fields of `patch`; FIELD_NOT_UPDATABLE for a path that
    names no field or an output-only one."""
    paths = list(mask.paths)
    bad = [
        p
        for p in paths
        if p.split(".")[0] in OUTPUT_ONLY
        or not field_mask_pb2.FieldMask(paths=[p]).IsValidForDescriptor(AGENT_DESCRIPTOR)
    ]
    if bad or not paths:
        raise errors.field_not_updatable(bad or ["(empty mask)"])
    merged = agent_pb2.Agent()
    merged.CopyFrom(stored)
    mask.MergeMessage(patch, merged, replace_message_field=True, replace_repeated_field=True)
    return merged


class AgentBook:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        relay: OutboxRelay,
        cache: AgentCache,
        entitlements: Entitlements,
        directory: SocialDirectory,
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._cache = cache
        self._entitlements = entitlements
        self._directory = directory

    async def load(self, owner_id: str, agent_id: str) -> agent_pb2.Agent | None:
        """The cache's loader: the agent as committed."""
        async with self._engine.connect() as conn:
            row = await repository.agent_by_id(conn, owner_id=owner_id, agent_id=agent_id)
        return to_proto(row) if row is not None else None

    async def get(self, owner_id: str, agent_id: str) -> agent_pb2.Agent:
        agent = await self._cache.get(owner_id, agent_id)
        if agent is None:
            raise errors.agent_not_found()
        return agent

    async def create(
        self, owner_id: str, agent: agent_pb2.Agent, request_id: str
    ) -> agent_pb2.Agent:
        async with self._engine.connect() as conn:
            earlier = await repository.remembered(
                conn, owner_id=owner_id, scope=CREATE_SCOPE, request_id=request_id
            )
        if earlier is not None:
            return agent_service_pb2.CreateAgentResponse.FromString(earlier).agent
        limits = await self._entitlements.limits(owner_id)
        await self._directory.check_integrations(owner_id, list(agent.integration_ids))
        async with self._engine.begin() as conn:
            await repository.lock_owner(conn, owner_id=owner_id, scope=CREATE_SCOPE)
            earlier = await repository.remembered(
                conn, owner_id=owner_id, scope=CREATE_SCOPE, request_id=request_id
            )
            if earlier is not None:
                return agent_service_pb2.CreateAgentResponse.FromString(earlier).agent
            if await repository.count_agents(conn, owner_id=owner_id) >= limits.max_agents:
                raise errors.agent_limit_reached(limits.max_agents)
            await self._check_references(conn, owner_id, agent)
            row = await repository.insert_agent(
                conn,
                owner_id=owner_id,
                spec=spec_of(agent),
                enabled=agent.enabled,
                integration_ids=list(agent.integration_ids),
                tool_ids=list(agent.tool_ids),
            )
            created = to_proto(row)
            await repository.remember(
                conn,
                owner_id=owner_id,
                scope=CREATE_SCOPE,
                request_id=request_id,
                response=agent_service_pb2.CreateAgentResponse(agent=created).SerializeToString(),
            )
            await self._changed(conn, owner_id, row.id, row.version)
        await self._cache.written(owner_id, created.id, created)
        self._relay.notify()
        return created

    async def update(
        self, owner_id: str, patch: agent_pb2.Agent, mask: field_mask_pb2.FieldMask
    ) -> agent_pb2.Agent:
        touches_integrations = any(p.split(".")[0] == "integration_ids" for p in mask.paths)
        if touches_integrations:
            await self._directory.check_integrations(owner_id, list(patch.integration_ids))
        async with self._engine.begin() as conn:
            row = await repository.agent_by_id(
                conn, owner_id=owner_id, agent_id=patch.id, for_update=True
            )
            if row is None:
                raise errors.agent_not_found()
            merged = merge_masked(to_proto(row), patch, mask)
            await self._check_references(conn, owner_id, merged)
            updated_row = await repository.update_agent(
                conn,
                owner_id=owner_id,
                agent_id=patch.id,
                spec=spec_of(merged),
                enabled=merged.enabled,
                integration_ids=list(merged.integration_ids),
                tool_ids=list(merged.tool_ids),
            )
            await self._changed(conn, owner_id, patch.id, updated_row.version)
        updated = to_proto(updated_row)
        await self._cache.written(owner_id, updated.id, updated)
        self._relay.notify()
        return updated

    async def delete(self, owner_id: str, agent_id: str) -> None:
        async with self._engine.begin() as conn:
            row = await repository.delete_agent(conn, owner_id=owner_id, agent_id=agent_id)
            if row is None:
                raise errors.agent_not_found()
            await self._changed(conn, owner_id, agent_id, row.version + 1)
        await self._cache.written(owner_id, agent_id, None)
        self._relay.notify()

    async def page(
        self,
        owner_id: str,
        *,
        limit: int,
        after: tuple[datetime, str] | None,
        integration_id: str,
        enabled_only: bool,
    ) -> list[Row[Any]]:
        async with self._engine.connect() as conn:
            return await repository.list_agents(
                conn,
                owner_id=owner_id,
                limit=limit,
                after=after,
                integration_id=integration_id,
                enabled_only=enabled_only,
            )

    async def rewrite_tools(
        self, conn: AsyncConnection, owner_id: str, removed_tool_ids: set[str]
    ) -> list[agent_pb2.Agent]:
        """Take removed tools away from every agent of the owner (inside the caller's
        transaction); returns the agents changed, for `written` after the commit."""
        changed: list[agent_pb2.Agent] = []
        for tool_id in removed_tool_ids:
            for row in await repository.agents_using_tool(conn, owner_id=owner_id, tool_id=tool_id):
                agent = to_proto(row)
                kept = [t for t in agent.tool_ids if t not in removed_tool_ids]
                del agent.tool_ids[:]
                agent.tool_ids.extend(kept)
                updated = await repository.update_agent(
                    conn,
                    owner_id=owner_id,
                    agent_id=row.id,
                    spec=spec_of(agent),
                    enabled=agent.enabled,
                    integration_ids=list(agent.integration_ids),
                    tool_ids=kept,
                )
                await self._changed(conn, owner_id, row.id, updated.version)
                changed.append(to_proto(updated))
        return changed

    async def written(self, owner_id: str, agents: list[agent_pb2.Agent]) -> None:
        for agent in agents:
            await self._cache.written(owner_id, agent.id, agent)

    async def _changed(
        self, conn: AsyncConnection, owner_id: str, agent_id: str, version: int
    ) -> None:
        await add_event(
            conn,
            new_event(
                agent_events_pb2.AgentConfigChanged,
                owner_id=owner_id,
                agent_id=agent_id,
                version=version,
            ),
        )

    async def _check_references(
        self, conn: AsyncConnection, owner_id: str, agent: agent_pb2.Agent
    ) -> None:
        if agent.HasField("working_hours"):
            schedule_of(agent.working_hours)
        wanted = list(agent.tool_ids)
        found = await repository.existing_tool_ids(conn, owner_id=owner_id, tool_ids=wanted)
        missing = [tool_id for tool_id in wanted if tool_id not in found]
        if missing:
            raise errors.tool_not_found()
        settings = agent.builtin_settings
        for connection_id, allowed in (
            (settings.task_connection_id, TASK_PROVIDERS),
            (settings.calendar_connection_id, CALENDAR_PROVIDERS),
        ):
            if not connection_id:
                continue
            provider = await repository.connection_provider(
                conn, owner_id=owner_id, connection_id=connection_id
            )
            if provider is None:
                raise errors.connection_not_found()
            if provider not in allowed:
                raise errors.invalid(
                    "CONNECTION_PROVIDER_MISMATCH",
                    "the connection cannot serve this use (a calendar as the task connection?)",
                )
