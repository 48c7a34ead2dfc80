"""Helpers and constants shared by social's tests (fixtures are in conftest.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import sqlalchemy as sa
from google.api import httpbody_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from inbetwin.events.v1 import llm_events_pb2
from inbetwin.social.v1 import integration_pb2, social_service_pb2, social_service_pb2_grpc
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.bus import EventBus
from services.kit.events import new_event
from services.social.settings import SocialSettings
from services.stack import Stack
from tests.standins.max import MaxStandIn
from tests.standins.telegram import TelegramStandIn
from tests.standins.vk import VkStandIn
from tests.standins.x import XStandIn

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "social" / "migrations"
PUBLIC_URL = "https://edge.test"
X_WEBHOOK_ID = "5d1c7f40-8a6e-4d52-9d51-0b3f1f1b7a11"
X_CLIENT_ID = "inbetwin-x-client"
X_CLIENT_SECRET = "x-client-secret"
X_CONSUMER_SECRET = "x-consumer-secret"
ENCRYPTION_KEYS = "k1:" + "A" * 43
X_APP_ID = "13090192"

Stub = social_service_pb2_grpc.SocialServiceStub
Metadata = tuple[tuple[str, str], ...]
NewOwner = Callable[..., Awaitable[Metadata]]


@dataclass(frozen=True)
class Platforms:
    telegram: TelegramStandIn
    vk: VkStandIn
    x: XStandIn
    max: MaxStandIn
    x_api_webhook_id: str


def social_settings(stack: Stack, platforms: Platforms, **overrides: Any) -> SocialSettings:
    values: dict[str, Any] = {
        "database_url": stack.database_url("social"),
        "redis_url": stack.redis_url,
        "nats_url": stack.nats_url,
        "public_base_url": PUBLIC_URL,
        "token_encryption_keys": SecretStr(ENCRYPTION_KEYS),
        "auth_addr": stack.service_address("auth"),
        "telegram_api_base": platforms.telegram.base_url,
        "vk_api_base": platforms.vk.base_url,
        "max_api_base": platforms.max.base_url,
        "x_api_base": platforms.x.base_url,
        "x_authorize_url": platforms.x.authorize_url,
        "x_client_id": X_CLIENT_ID,
        "x_client_secret": SecretStr(X_CLIENT_SECRET),
        "x_consumer_secret": SecretStr(X_CONSUMER_SECRET),
        "x_webhook_id": X_WEBHOOK_ID,
        "x_api_webhook_id": platforms.x_api_webhook_id,
        # The app the X samples name as `source_app_id`: their own-account DMs are our echoes.
        "x_app_id": X_APP_ID,
        # The hourly scheduler is tested on its own; here it must not start runs by surprise.
        "maintenance_interval_seconds": 3600.0,
        "send_poll_interval_seconds": 0.05,
        "telegram_poll_hold_seconds": 2,
        "telegram_poll_scan_seconds": 0.1,
    }
    values.update(overrides)
    return SocialSettings(**values)


def owner_id(metadata: Metadata) -> str:
    return metadata[0][1]


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info
    raise AssertionError("no ErrorInfo in the status")


def reason(error: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return str(info.reason)
    return ""


async def webhook(
    stub: Stub,
    platform: str,
    path_id: str,
    body: bytes,
    *,
    headers: Metadata = (),
) -> social_service_pb2.HandleWebhookResponse:
    response: social_service_pb2.HandleWebhookResponse = await stub.HandleWebhook(
        social_service_pb2.HandleWebhookRequest(
            platform=platform,
            integration_id=path_id,
            body=httpbody_pb2.HttpBody(content_type="application/json", data=body),
        ),
        metadata=headers,
    )
    return response


async def count(engine: AsyncEngine, sql: str, **params: Any) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(sa.text(sql), params)).scalar_one())


async def rows(engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(sa.text(sql), params)).all())


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def reply_command(
    owner: str, integration_id: str, contact_id: str, text: str, reply_id: str
) -> llm_events_pb2.ReplyRequested:
    return new_event(
        llm_events_pb2.ReplyRequested,
        owner_id=owner,
        event_id=reply_id,
        reply_id=reply_id,
        integration_id=integration_id,
        contact_id=contact_id,
        text=text,
    )


async def publish_twice(bus: EventBus, reply: llm_events_pb2.ReplyRequested) -> None:
    """Publish a reply command twice; the second copy under another message id, so JetStream's
    de-duplication does not catch it and only the consumer's own idempotency can."""
    await bus.publish(reply)
    await bus.publish_raw(
        "inbetwin.llm.reply.requested",
        reply.SerializeToString(),
        event_id=str(uuid.uuid4()),
        event_type=reply.DESCRIPTOR.full_name,
    )


async def reply_status(engine: AsyncEngine, reply_id: str) -> list[str]:
    found = await rows(
        engine,
        "SELECT status FROM messages WHERE reply_id = :r ORDER BY reply_part",
        r=reply_id,
    )
    return [row.status for row in found]


async def outbox_payload(engine: AsyncEngine, event_id: str) -> bytes:
    found = await rows(engine, "SELECT payload FROM outbox WHERE event_id = :e", e=event_id)
    assert len(found) == 1, f"expected one outbox event {event_id}, found {len(found)}"
    return bytes(found[0].payload)


async def contact_of(engine: AsyncEngine, integration_id: str) -> Any:
    found = await rows(engine, "SELECT * FROM contacts WHERE integration_id = :i", i=integration_id)
    assert len(found) == 1
    return found[0]


async def table_count(engine: AsyncEngine, table: str, integration_id: str) -> int:
    query = (
        sa.select(sa.func.count())
        .select_from(sa.table(table))
        .where(sa.column("integration_id") == sa.literal(integration_id, sa.Uuid(as_uuid=False)))
    )
    async with engine.connect() as connection:
        return int((await connection.execute(query)).scalar_one())


async def sync_succeeded(stub: Stub, owner: Metadata, integration_id: str) -> bool:
    got = await stub.GetIntegration(
        social_service_pb2.GetIntegrationRequest(integration_id=integration_id), metadata=owner
    )
    state = int(got.integration.last_contact_sync.state)
    return state == integration_pb2.CONTACT_SYNC_STATE_SUCCEEDED
