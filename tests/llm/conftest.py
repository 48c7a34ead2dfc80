"""The llm service in-process against real Postgres, Redis, NATS JetStream and the real auth
service (a stack with auth only), the OpenAI-compatible stand-in, and in-process fakes of the
peers not built yet (agent, rag, social; see fakes.py)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest
from inbetwin.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from inbetwin.events.v1 import llm_events_pb2, social_events_pb2
from inbetwin.social.v1 import contact_pb2, integration_pb2, message_pb2
from nats.js.api import DeliverPolicy

from services.kit.bus import EventBus
from services.kit.db import upgrade_to_head_async
from services.kit.events import new_event, subject_of
from services.kit.server import ServerHandle, create_server
from services.llm.server import SERVICE_NAMES, wire
from services.llm.settings import LlmSettings
from services.stack import Stack
from tests.conftest import StartStack
from tests.llm.fakes import Peers, start_peers
from tests.standins.openai_api import OpenAIStandIn

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "llm" / "migrations"
FLAKY_MODEL = "flaky-model"


@pytest.fixture(scope="session")
def auth_stack(start_stack: StartStack) -> Stack:
    return start_stack(services=("auth",), edge=False)


@pytest.fixture(scope="session")
def openai_api() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn() as api:
        yield api


@pytest.fixture(scope="session")
async def peers() -> AsyncIterator[Peers]:
    started = await start_peers()
    yield started
    await started.server.stop(0)


@pytest.fixture(scope="session")
async def llm_database(auth_stack: Stack) -> str:
    name = f"llm_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(auth_stack.postgres_dsn())
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = auth_stack.database_url("llm").rsplit("/", 1)[0] + f"/{name}"
    await upgrade_to_head_async(url, MIGRATIONS)
    return url


def llm_settings(
    stack: Stack, database_url: str, peers: Peers, api: OpenAIStandIn, **overrides: Any
) -> LlmSettings:
    return LlmSettings(**llm_settings_values(stack, database_url, peers, api, **overrides))


def llm_env(values: dict[str, Any]) -> dict[str, str]:
    """The same settings as environment variables, for a `python -m services.llm` process."""
    return {f"INBETWIN_LLM_{name.upper()}": str(value) for name, value in values.items()}


def llm_settings_values(
    stack: Stack, database_url: str, peers: Peers, api: OpenAIStandIn, **overrides: Any
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "grpc_port": 0,
        "database_url": database_url,
        "redis_url": stack.redis_url,
        "nats_url": stack.nats_url,
        "agent_addr": peers.address,
        "rag_addr": peers.address,
        "social_addr": peers.address,
        "auth_addr": stack.service_address("auth"),
        "model_base_url": api.base_url,
        "default_model": "stand-in-model",
        "extra_models": json.dumps(
            [{"id": FLAKY_MODEL, "base_url": api.url_with_prefix("/flaky")}]
        ),
        "model_max_retries": 1,
        "coalesce_window_seconds": 0.4,
        "consumer_ack_wait_seconds": 4.0,
        "breaker_failure_threshold": 2,
        "breaker_open_seconds": 600.0,
        "playground_chats_per_minute": 5,
        "agent_cache_seconds": 0.0,
        "control_cache_seconds": 0.0,
    }
    values.update(overrides)
    return values


@pytest.fixture(scope="module")
async def llm(
    auth_stack: Stack, llm_database: str, peers: Peers, openai_api: OpenAIStandIn
) -> AsyncIterator[ServerHandle]:
    settings = llm_settings(auth_stack, llm_database, peers, openai_api)
    handle = await create_server(
        settings, service_names=SERVICE_NAMES, error_domain="llm.inbetwin.app", wire=wire
    )
    yield handle
    await handle.stop(1.0)


@dataclass
class Collected:
    """Every llm event published since the collector started, by subject."""

    events: dict[str, list[bytes]] = field(default_factory=dict)

    def replies(self, **where: str) -> list[llm_events_pb2.ReplyRequested]:
        found = [
            llm_events_pb2.ReplyRequested.FromString(data)
            for data in self.events.get(subject_of(llm_events_pb2.ReplyRequested), [])
        ]
        return [r for r in found if all(getattr(r, k) == v for k, v in where.items())]

    def assessed(self, **where: str) -> list[llm_events_pb2.InboundAssessed]:
        found = [
            llm_events_pb2.InboundAssessed.FromString(data)
            for data in self.events.get(subject_of(llm_events_pb2.InboundAssessed), [])
        ]
        return [r for r in found if all(getattr(r, k) == v for k, v in where.items())]


@pytest.fixture(scope="session")
async def bus(auth_stack: Stack) -> AsyncIterator[EventBus]:
    bus = await EventBus.connect(auth_stack.nats_url, name="llm-tests")
    yield bus
    await bus.close()


@pytest.fixture(scope="session")
async def collected(bus: EventBus) -> AsyncIterator[Collected]:
    """A JetStream consumer of the stream itself: de-duplicated events only, as consumers see."""
    found = Collected()

    async def record(msg: Any) -> None:
        found.events.setdefault(msg.subject, []).append(msg.data)

    subscription = await bus.jetstream.subscribe(
        "inbetwin.llm.>", cb=record, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    yield found
    await subscription.unsubscribe()


async def eventually(check: Callable[[], Any], *, within: float = 20.0) -> Any:
    """Poll until `check()` is truthy; fail after `within` seconds (a deadline, not a claim)."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.05)


@pytest.fixture
async def register_owner(auth_stack: Stack) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    channel = grpc.aio.insecure_channel(auth_stack.service_address("auth"))
    stub = auth_service_pb2_grpc.AuthServiceStub(channel)

    async def register() -> str:
        response = await stub.Register(
            auth_service_pb2.RegisterRequest(
                email=f"llm-{uuid.uuid4().hex[:10]}@example.com",
                password="correct horse battery",
                display_name="Owner",
            )
        )
        return str(response.user.id)

    yield register
    await channel.close(None)


@dataclass
class Conversation:
    """One contact of one owner on one integration, writing messages."""

    owner_id: str
    integration_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    contact_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    platform: int = integration_pb2.PLATFORM_TELEGRAM

    def message(
        self, text: str, *, may_reply: bool = True, paused: bool = False
    ) -> social_events_pb2.MessageReceived:
        message_id = str(uuid.uuid4())
        message = message_pb2.Message(
            id=message_id,
            integration_id=self.integration_id,
            contact_id=self.contact_id,
            direction=message_pb2.MESSAGE_DIRECTION_INBOUND,
            author_kind=message_pb2.AUTHOR_KIND_CONTACT,
            text=text,
            status=message_pb2.MESSAGE_STATUS_RECEIVED,
        )
        message.create_time.GetCurrentTime()
        contact = contact_pb2.Contact(
            id=self.contact_id,
            integration_id=self.integration_id,
            display_name="Ann",
            agent_allowed=may_reply or paused,
            agent_paused=paused,
            reachable=True,
        )
        return new_event(
            social_events_pb2.MessageReceived,
            event_id=str(uuid.uuid4()),
            owner_id=self.owner_id,
            message=message,
            contact=contact,
            platform=self.platform,
            agent_may_reply=may_reply and not paused,
        )


async def publish(bus: EventBus, event: social_events_pb2.MessageReceived) -> None:
    await bus.publish(event)


async def redeliver(bus: EventBus, event: social_events_pb2.MessageReceived) -> None:
    """The same event again under a new Nats-Msg-Id, as a replay after the duplicate window."""
    await bus.publish_raw(
        subject_of(event),
        event.SerializeToString(),
        event_id=str(uuid.uuid4()),
        event_type=event.DESCRIPTOR.full_name,
    )
