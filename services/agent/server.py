"""agent's wiring: shared runtime, caches, the live-activity fan-out, consumers, the servicer."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import grpc
from inbetwin.agent.v1 import agent_pb2, agent_service_pb2, tool_pb2
from inbetwin.events.v1 import agent_events_pb2, social_events_pb2

from services.agent.activity_hub import ActivityHub
from services.agent.agents import AgentBook
from services.agent.broadcast import Broadcast
from services.agent.config_cache import AgentCache
from services.agent.connections import Connections, Workspaces
from services.agent.contact_events import CONSUMER as CONTACT_CONSUMER
from services.agent.contact_events import ContactEvents
from services.agent.destinations import DestinationPolicy, guarded_client
from services.agent.directory import SocialDirectory
from services.agent.entitlements import Entitlements
from services.agent.handoffs import Handoffs
from services.agent.pruning import prune_forever
from services.agent.registration import register
from services.agent.secrets_box import SecretBox
from services.agent.service import AgentServicer
from services.agent.settings import AgentSettings
from services.agent.tools.builtin_runner import BuiltinRunner
from services.agent.tools.catalog import ToolCatalog
from services.agent.tools.executor import ToolExecutor
from services.agent.tools.mcp_client import McpClient
from services.agent.tools.mcp_servers import McpServers
from services.agent.tools.webhook import WebhookRunner
from services.agent.watch import WatchLimits
from services.agent.workspaces.asana import Asana
from services.agent.workspaces.caldav import CalDav
from services.agent.workspaces.common import Http
from services.agent.workspaces.google_calendar import GoogleCalendar
from services.agent.workspaces.notion import Notion
from services.kit.runtime import Runtime
from services.kit.server import BeforeStop, Closer

SERVICE_NAMES = (agent_service_pb2.DESCRIPTOR.services_by_name["AgentService"].full_name,)


async def wire(server: grpc.aio.Server, settings: AgentSettings) -> list[Closer]:
    runtime = await Runtime.open(settings, name="agent")
    entitlements = Entitlements(
        settings.auth_addr,
        timeout=settings.peer_timeout_seconds,
        ttl_seconds=settings.entitlements_ttl_seconds,
    )
    directory = SocialDirectory(settings.social_addr, timeout=settings.peer_timeout_seconds)
    book_holder: list[AgentBook] = []

    async def load(owner_id: str, agent_id: str) -> agent_pb2.Agent | None:
        return await book_holder[0].load(owner_id, agent_id)

    cache = AgentCache(
        runtime.redis,
        load,
        local_ttl_seconds=settings.config_local_ttl_seconds,
        redis_ttl_seconds=settings.config_redis_ttl_seconds,
    )
    agents = AgentBook(
        engine=runtime.engine,
        relay=runtime.relay,
        cache=cache,
        entitlements=entitlements,
        directory=directory,
    )
    book_holder.append(agents)
    hub = ActivityHub(settings.watch_queue_size)

    def on_config_changed(event: agent_events_pb2.AgentConfigChanged) -> None:
        cache.drop_local(event.owner_id, event.agent_id)

    broadcast = await Broadcast.connect(
        settings.nats_url, hub=hub, on_config_changed=on_config_changed
    )
    handoffs = Handoffs(runtime.engine, runtime.relay, runtime.redis)
    contact_events = ContactEvents(runtime.engine, runtime.relay, handoffs)
    runtime.bus.consume(CONTACT_CONSUMER, social_events_pb2.ContactUpdated, contact_events.handle)
    policy = DestinationPolicy(
        allowed_networks=settings.allowed_private_networks, nameservers=settings.dns_nameservers
    )
    outbound = guarded_client(policy)
    http = Http(outbound, timeout=settings.builtin_tool_timeout_seconds)
    workspaces = Workspaces(
        notion=Notion(http, base_url=settings.notion_api_base, version=settings.notion_version),
        asana=Asana(http, base_url=settings.asana_api_base),
        caldav=CalDav(http),
        google=GoogleCalendar(
            http, api_base=settings.google_calendar_api_base, token_url=settings.google_token_url
        ),
    )
    box = SecretBox(
        settings.secret_encryption_keys.get_secret_value()
        if settings.secret_encryption_keys
        else None
    )
    connections = Connections(runtime.engine, box=box, policy=policy, workspaces=workspaces)
    catalog = ToolCatalog(
        runtime.engine,
        relay=runtime.relay,
        agents=agents,
        box=box,
        policy=policy,
        max_tools=settings.max_tools_per_owner,
    )
    webhooks = WebhookRunner(
        outbound,
        catalog,
        default_timeout_ms=settings.webhook_default_timeout_ms,
        max_response_bytes=settings.max_tool_response_bytes,
        max_redirects=settings.webhook_max_redirects,
    )
    mcp_servers = McpServers(
        runtime.engine,
        relay=runtime.relay,
        agents=agents,
        box=box,
        policy=policy,
        client=McpClient(policy),
        max_servers=settings.max_mcp_servers_per_owner,
        discovery_seconds=settings.discovery_timeout_seconds,
        call_seconds=settings.mcp_call_timeout_seconds,
    )
    executor = ToolExecutor(
        engine=runtime.engine,
        relay=runtime.relay,
        agents=agents,
        builtins=BuiltinRunner(
            engine=runtime.engine,
            relay=runtime.relay,
            handoffs=handoffs,
            connections=connections,
            workspaces=workspaces,
        ),
        owner_tools={
            tool_pb2.TOOL_KIND_HTTP_WEBHOOK: webhooks,
            tool_pb2.TOOL_KIND_MCP: mcp_servers.run,
        },
        builtin_timeout=settings.builtin_tool_timeout_seconds,
        max_result_bytes=settings.max_tool_response_bytes,
        hub=hub,
    )
    servicer = AgentServicer(
        engine=runtime.engine,
        relay=runtime.relay,
        agents=agents,
        handoffs=handoffs,
        hub=hub,
        watch_limits=WatchLimits(
            heartbeat_seconds=settings.watch_heartbeat_seconds,
            max_duration_seconds=settings.watch_max_duration_seconds,
            replay_max_actions=settings.watch_replay_max_actions,
            replay_max_age_seconds=settings.watch_replay_max_age_seconds,
        ),
        executor=executor,
        connections=connections,
        catalog=catalog,
        mcp_servers=mcp_servers,
        directory=directory,
    )
    register(servicer, server, preserialized={"WatchAgentActivity"})

    async def close_hub() -> None:
        hub.close()

    pruner = asyncio.create_task(
        prune_forever(
            runtime.engine,
            retention=timedelta(days=settings.action_log_retention_days),
            batch=settings.action_log_prune_batch,
            interval_seconds=settings.action_log_prune_interval_seconds,
        )
    )

    async def stop_pruning() -> None:
        pruner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pruner

    # Open streams get their `end` (SERVER_SHUTDOWN) before the server's grace period starts.
    return [
        BeforeStop(close_hub),
        stop_pruning,
        runtime.close,
        entitlements.close,
        directory.close,
        broadcast.close,
        outbound.aclose,
    ]
