"""Fixtures for social's tests.

One session-wide platform: Postgres, Redis, NATS and the real auth service (started by the same
launcher as `make up`, without Envoy), an in-process social server on it, and local stand-ins
for the four platform APIs it talks to. Owners are real accounts registered with auth (so plan
limits are auth's own); webhooks are called as the edge calls them, with headers as lower-cased
gRPC metadata.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest
from inbetwin.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from inbetwin.social.v1 import social_service_pb2_grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.bus import EventBus
from services.kit.db import create_engine, upgrade_to_head_async
from services.kit.server import ServerHandle, create_server
from services.social.server import SERVICE_NAME, wire
from services.stack import Stack
from tests.conftest import StartStack
from tests.social.support import (
    MIGRATIONS,
    PUBLIC_URL,
    X_CLIENT_ID,
    X_CLIENT_SECRET,
    X_CONSUMER_SECRET,
    X_WEBHOOK_ID,
    Metadata,
    NewOwner,
    Platforms,
    Stub,
    social_settings,
)
from tests.standins.max import MaxStandIn
from tests.standins.telegram import TelegramStandIn
from tests.standins.vk import VkStandIn
from tests.standins.x import XStandIn


@pytest.fixture
def telegram_api() -> Iterator[TelegramStandIn]:
    with TelegramStandIn() as standin:
        yield standin


@pytest.fixture(scope="session")
def platforms() -> Iterator[Platforms]:
    with (
        TelegramStandIn() as telegram,
        VkStandIn() as vk,
        XStandIn(
            client_id=X_CLIENT_ID, client_secret=X_CLIENT_SECRET, consumer_secret=X_CONSUMER_SECRET
        ) as x,
        MaxStandIn() as max_api,
    ):
        webhook_id = x.register_webhook(f"{PUBLIC_URL}/webhooks/x/{X_WEBHOOK_ID}")
        yield Platforms(telegram, vk, x, max_api, webhook_id)


@pytest.fixture(scope="session")
def auth_stack(start_stack: StartStack) -> Stack:
    """Postgres, Redis, NATS and the auth service, no Envoy."""
    return start_stack(services=("auth",), edge=False)


@pytest.fixture(scope="session")
async def engine(auth_stack: Stack) -> AsyncIterator[AsyncEngine]:
    await upgrade_to_head_async(auth_stack.database_url("social"), MIGRATIONS)
    engine = create_engine(auth_stack.database_url("social"), pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def server(
    auth_stack: Stack, engine: AsyncEngine, platforms: Platforms
) -> AsyncIterator[ServerHandle]:
    handle = await create_server(
        social_settings(auth_stack, platforms),
        service_names=[SERVICE_NAME],
        error_domain="social.inbetwin.app",
        wire=wire,
    )
    yield handle
    await handle.stop(0)


@pytest.fixture(scope="session")
async def stub(server: ServerHandle) -> AsyncIterator[Stub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield social_service_pb2_grpc.SocialServiceStub(channel)


@pytest.fixture(scope="session")
async def bus(auth_stack: Stack) -> AsyncIterator[EventBus]:
    bus = await EventBus.connect(auth_stack.nats_url, name="social-tests")
    yield bus
    await bus.close()


@pytest.fixture(scope="session")
async def auth(auth_stack: Stack) -> AsyncIterator[auth_service_pb2_grpc.AuthServiceStub]:
    async with grpc.aio.insecure_channel(auth_stack.service_address("auth")) as channel:
        yield auth_service_pb2_grpc.AuthServiceStub(channel)


@pytest.fixture
def new_owner(auth: auth_service_pb2_grpc.AuthServiceStub) -> NewOwner:
    """Register a real account; `plan="business"` moves it to that plan (30 accounts)."""

    async def register(*, plan: str = "free") -> Metadata:
        response = await auth.Register(
            auth_service_pb2.RegisterRequest(
                email=f"owner-{uuid.uuid4().hex[:12]}@example.com",
                password="correct horse battery",
                display_name="Owner",
            )
        )
        metadata: Metadata = (("x-user-id", response.user.id),)
        if plan != "free":
            await auth.ChangePlan(
                auth_service_pb2.ChangePlanRequest(tier=f"PLAN_TIER_{plan.upper()}"),
                metadata=metadata,
            )
        return metadata

    return register
