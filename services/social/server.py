"""social's wiring: shared runtime, platform clients, the RPC servicer and the reply consumer."""

from __future__ import annotations

from datetime import timedelta

import grpc
import httpx
from inbetwin.events.v1 import llm_events_pb2
from inbetwin.social.v1 import social_service_pb2, social_service_pb2_grpc

from services.kit.runtime import Runtime
from services.kit.server import Closer
from services.social.connect import IntegrationConnector
from services.social.crypto import TokenCipher
from services.social.inbound import WebhookReceiver
from services.social.outbound import REPLY_CONSUMER, ReplySender
from services.social.platforms.telegram import TelegramClient
from services.social.service import SocialServicer
from services.social.settings import SocialSettings

SERVICE_NAME = social_service_pb2.DESCRIPTOR.services_by_name["SocialService"].full_name


async def wire(server: grpc.aio.Server, settings: SocialSettings) -> list[Closer]:
    cipher = TokenCipher.from_spec(settings.token_encryption_keys.get_secret_value())
    runtime = await Runtime.open(settings, name="social")
    http = httpx.AsyncClient(timeout=settings.http_timeout_seconds)
    telegram = TelegramClient(http, api_base=settings.telegram_api_base)
    servicer = SocialServicer(
        engine=runtime.engine,
        connector=IntegrationConnector(
            engine=runtime.engine,
            relay=runtime.relay,
            cipher=cipher,
            telegram=telegram,
            public_base_url=settings.public_base_url,
        ),
        webhooks=WebhookReceiver(
            engine=runtime.engine,
            relay=runtime.relay,
            cipher=cipher,
            max_body_bytes=settings.webhook_max_body_bytes,
            stale_after=timedelta(seconds=settings.stale_update_seconds),
        ),
        public_base_url=settings.public_base_url,
    )
    social_service_pb2_grpc.add_SocialServiceServicer_to_server(servicer, server)
    sender = ReplySender(
        engine=runtime.engine,
        relay=runtime.relay,
        cipher=cipher,
        telegram=telegram,
        max_inline_retry_seconds=settings.max_inline_retry_seconds,
    )
    runtime.bus.consume(REPLY_CONSUMER, llm_events_pb2.ReplyRequested, sender.handle)
    # Closed in reverse: the runtime (consumers, relay) stops before the HTTP client closes.
    return [http.aclose, runtime.close]
