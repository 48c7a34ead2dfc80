"""leads in-process: real gRPC servers on the `infra` fixture's Postgres, Redis and NATS, fed by
events published on the bus exactly as social, agent and llm publish them."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message as ProtoMessage
from inbetwin.leads.v1 import leads_service_pb2 as pb
from inbetwin.leads.v1 import leads_service_pb2_grpc
from nats.js.errors import NotFoundError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.bus import EVENTS_STREAM, EventBus
from services.kit.db import create_engine, upgrade_to_head_async
from services.kit.events import subject_of
from services.kit.server import ServerHandle, create_server
from services.leads.server import SERVICE_NAMES, wire
from services.leads.settings import LeadsSettings
from services.stack import Stack

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "leads" / "migrations"
CONSUMERS = (
    "leads-message-received",
    "leads-message-sent",
    "leads-contact-updated",
    "leads-user-info-saved",
    "leads-inbound-assessed",
    "leads-handoff-requested",
    "leads-handoff-resolved",
)
WAIT_SECONDS = 30.0

Stub = leads_service_pb2_grpc.LeadsServiceStub
StartLeads = Callable[..., Awaitable[ServerHandle]]


def settings_for(infra: Stack, **overrides: Any) -> LeadsSettings:
    return LeadsSettings(
        database_url=infra.database_url("leads"),
        redis_url=infra.redis_url,
        nats_url=infra.nats_url,
        **overrides,
    )


@pytest.fixture(scope="session")
async def leads_database(infra: Stack) -> str:
    await upgrade_to_head_async(infra.database_url("leads"), MIGRATIONS)
    return infra.database_url("leads")


@pytest.fixture(scope="session")
async def engine(leads_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(leads_database, pool_size=2)
    yield engine
    await engine.dispose()


async def start_instance(infra: Stack, **overrides: Any) -> ServerHandle:
    """A leads instance (settings overridable) that the caller stops."""
    return await create_server(
        settings_for(infra, **overrides),
        service_names=SERVICE_NAMES,
        error_domain="leads.inbetwin.app",
        wire=wire,
    )


@pytest.fixture(scope="session")
async def start_leads(infra: Stack, leads_database: str) -> AsyncIterator[StartLeads]:
    """Start a leads instance (settings overridable); all are stopped at the end."""
    started: list[ServerHandle] = []

    async def start(**overrides: Any) -> ServerHandle:
        handle = await start_instance(infra, **overrides)
        started.append(handle)
        return handle

    yield start
    for handle in started:
        await handle.stop(0)


@pytest.fixture(scope="session")
async def server(start_leads: StartLeads) -> ServerHandle:
    return await start_leads(model_min_labels=10, model_min_labels_per_class=3)


@pytest.fixture(scope="session")
async def stub(server: ServerHandle) -> AsyncIterator[Stub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield leads_service_pb2_grpc.LeadsServiceStub(channel)


@pytest.fixture(scope="session")
async def bus(infra: Stack) -> AsyncIterator[EventBus]:
    bus = await EventBus.connect(infra.nats_url, name="leads-tests")
    yield bus
    await bus.close()


def as_owner(owner_id: str) -> tuple[tuple[str, str]]:
    return (("x-user-id", owner_id),)


async def publish(bus: EventBus, events: Sequence[ProtoMessage]) -> None:
    for event in events:
        await bus.publish(event)


async def redeliver(bus: EventBus, event: ProtoMessage) -> None:
    """The same event again past JetStream's duplicate window (under a new Nats-Msg-Id), as a
    producer retrying much later, or a replay, would send it."""
    await bus.publish_raw(
        subject_of(event),
        event.SerializeToString(),
        event_id=str(uuid.uuid4()),
        event_type=event.DESCRIPTOR.full_name,
    )


async def settle(bus: EventBus) -> None:
    """Wait until every leads consumer has taken and acknowledged everything published so far."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if await _idle(bus):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("leads consumers did not catch up")


async def _idle(bus: EventBus) -> bool:
    for durable in CONSUMERS:
        try:
            info = await bus.jetstream.consumer_info(EVENTS_STREAM, durable)
        except NotFoundError:
            return False
        if info.num_pending or info.num_ack_pending:
            return False
    return True


async def lead_of(stub: Stub, owner_id: str, contact_id: str) -> pb.GetLeadResponse | None:
    listed = await stub.ListLeads(
        pb.ListLeadsRequest(contact_id=contact_id), metadata=as_owner(owner_id)
    )
    if not listed.leads:
        return None
    found: pb.GetLeadResponse = await stub.GetLead(
        pb.GetLeadRequest(lead_id=listed.leads[0].id), metadata=as_owner(owner_id)
    )
    return found


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
