"""Fixtures for agent's tests: real auth, social and agent gRPC servers in-process on the real
Postgres, Redis and NATS of the `infra` fixture; owners are registered with auth for real, and
contacts come from a Telegram bot (stand-in) connected to social, written to through its
webhook."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from itertools import count
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from inbetwin.agent.v1 import agent_service_pb2_grpc
from inbetwin.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from inbetwin.social.v1 import social_service_pb2, social_service_pb2_grpc
from pydantic import SecretStr

from services.agent.server import SERVICE_NAMES as AGENT_SERVICE_NAMES
from services.agent.server import wire as wire_agent
from services.agent.settings import AgentSettings
from services.auth.server import SERVICE_NAMES as AUTH_SERVICE_NAMES
from services.auth.server import wire as wire_auth
from services.auth.settings import AuthSettings
from services.kit.db import upgrade_to_head_async
from services.kit.server import ServerHandle, create_server
from services.social.server import SERVICE_NAME as SOCIAL_SERVICE_NAME
from services.social.server import wire as wire_social
from services.social.settings import SocialSettings
from services.stack import Stack
from tests.social.samples import telegram_update
from tests.social.support import webhook
from tests.standins.telegram import TelegramStandIn

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEYS = "k1:" + base64.b64encode(b"\x01" * 32).decode()

Metadata = tuple[tuple[str, str], ...]
AgentStub = agent_service_pb2_grpc.AgentServiceStub
MakeAgentServer = Callable[..., Awaitable[ServerHandle]]


def reason_of(error: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, error
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return str(info.reason)
    return ""


@pytest.fixture(scope="session")
async def migrated(infra: Stack) -> Stack:
    await upgrade_to_head_async(infra.database_url("auth"), ROOT / "services/auth/migrations")
    await upgrade_to_head_async(infra.database_url("agent"), ROOT / "services/agent/migrations")
    await upgrade_to_head_async(infra.database_url("social"), ROOT / "services/social/migrations")
    return infra


@pytest.fixture(scope="session")
async def auth_server(migrated: Stack) -> AsyncIterator[ServerHandle]:
    settings = AuthSettings(
        database_url=migrated.database_url("auth"),
        redis_url=migrated.redis_url,
        nats_url=migrated.nats_url,
        jwt_issuer="https://edge.test",
        key_encryption_key=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        argon2_time_cost=1,
        argon2_memory_kib=8 * 1024,
    )
    handle = await create_server(
        settings, service_names=AUTH_SERVICE_NAMES, error_domain="auth.inbetwin.app", wire=wire_auth
    )
    yield handle
    await handle.stop(0)


@pytest.fixture(scope="session")
def telegram() -> Iterator[TelegramStandIn]:
    with TelegramStandIn() as standin:
        yield standin


@pytest.fixture(scope="session")
async def social_server(
    migrated: Stack, auth_server: ServerHandle, telegram: TelegramStandIn
) -> AsyncIterator[ServerHandle]:
    settings = SocialSettings(
        database_url=migrated.database_url("social"),
        redis_url=migrated.redis_url,
        nats_url=migrated.nats_url,
        public_base_url="https://edge.test",
        token_encryption_keys=SecretStr("k1:" + "A" * 43),
        auth_addr=f"127.0.0.1:{auth_server.port}",
        telegram_api_base=telegram.base_url,
        maintenance_interval_seconds=3600.0,
    )
    handle = await create_server(
        settings,
        service_names=[SOCIAL_SERVICE_NAME],
        error_domain="social.inbetwin.app",
        wire=wire_social,
    )
    yield handle
    await handle.stop(0)


@pytest.fixture(scope="session")
async def social_stub(
    social_server: ServerHandle,
) -> AsyncIterator[social_service_pb2_grpc.SocialServiceStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{social_server.port}") as channel:
        yield social_service_pb2_grpc.SocialServiceStub(channel)


# A contact of the owner: (integration_id, contact_id).
NewContact = Callable[[Metadata], Awaitable[tuple[str, str]]]
_chats = count(830_000_001)


@pytest.fixture(scope="session")
def new_contact(
    social_stub: social_service_pb2_grpc.SocialServiceStub, telegram: TelegramStandIn
) -> NewContact:
    """Connect a Telegram bot for the owner and have a person write to it."""

    async def contact(owner: Metadata) -> tuple[str, str]:
        token = telegram.add_bot()
        connected = await social_stub.ConnectIntegration(
            social_service_pb2.ConnectIntegrationRequest(
                request_id=str(uuid.uuid4()), telegram={"bot_token": token}
            ),
            metadata=owner,
        )
        integration_id = connected.integration.id
        hook = telegram.webhook(token)
        assert hook is not None
        chat_id = next(_chats)
        update = telegram_update("telegram_text_private.json", update_id=chat_id)
        message = update["message"]
        message["chat"]["id"] = message["from"]["id"] = chat_id
        message.update(message_id=1, date=int(time.time()))
        await webhook(
            social_stub,
            "telegram",
            integration_id,
            json.dumps(update).encode(),
            headers=(("x-telegram-bot-api-secret-token", hook.secret_token),),
        )
        listed = await social_stub.ListContacts(
            social_service_pb2.ListContactsRequest(integration_id=integration_id),
            metadata=owner,
        )
        [found] = [c.id for c in listed.contacts if c.platform_user_id == str(chat_id)]
        return integration_id, str(found)

    return contact


def agent_settings(infra: Stack, auth_port: int, **overrides: Any) -> AgentSettings:
    values: dict[str, Any] = {
        "database_url": infra.database_url("agent"),
        "redis_url": infra.redis_url,
        "nats_url": infra.nats_url,
        "auth_addr": f"127.0.0.1:{auth_port}",
        "secret_encryption_keys": SecretStr(SECRET_KEYS),
        "entitlements_ttl_seconds": 0.0,
        "allowed_private_networks": "127.0.0.0/8",
    }
    values.update(overrides)
    return AgentSettings(**values)


@pytest.fixture(scope="session")
async def make_agent_server(
    migrated: Stack, auth_server: ServerHandle, social_server: ServerHandle
) -> AsyncIterator[MakeAgentServer]:
    started: list[ServerHandle] = []

    async def make(**overrides: Any) -> ServerHandle:
        overrides.setdefault("social_addr", f"127.0.0.1:{social_server.port}")
        settings = agent_settings(migrated, auth_server.port, **overrides)
        handle = await create_server(
            settings,
            service_names=AGENT_SERVICE_NAMES,
            error_domain="agent.inbetwin.app",
            wire=wire_agent,
        )
        started.append(handle)
        return handle

    yield make
    for handle in started:
        await handle.stop(0)


@pytest.fixture(scope="session")
async def agent_server(make_agent_server: MakeAgentServer) -> ServerHandle:
    return await make_agent_server()


@pytest.fixture(scope="session")
async def stub(agent_server: ServerHandle) -> AsyncIterator[AgentStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{agent_server.port}") as channel:
        yield agent_service_pb2_grpc.AgentServiceStub(channel)


@pytest.fixture(scope="session")
async def auth_stub(
    auth_server: ServerHandle,
) -> AsyncIterator[auth_service_pb2_grpc.AuthServiceStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{auth_server.port}") as channel:
        yield auth_service_pb2_grpc.AuthServiceStub(channel)


NewOwner = Callable[..., Awaitable[Metadata]]


@pytest.fixture(scope="session")
def new_owner(auth_stub: auth_service_pb2_grpc.AuthServiceStub, migrated: Stack) -> NewOwner:
    """Register a real user with auth (plan Free, or `plan` set in auth's database)."""

    async def register(plan: str = "free") -> Metadata:
        response = await auth_stub.Register(
            auth_service_pb2.RegisterRequest(
                email=f"owner-{uuid.uuid4().hex[:12]}@example.com",
                password="correct horse battery",
                display_name="Owner",
            )
        )
        user_id = response.user.id
        if plan != "free":
            connection = await asyncpg.connect(migrated.postgres_dsn("auth"))
            try:
                await connection.execute(
                    "UPDATE subscriptions SET plan = $1 WHERE user_id = $2", plan, user_id
                )
            finally:
                await connection.close()
        return (("x-user-id", user_id),)

    return register
