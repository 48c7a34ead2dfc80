"""social's wiring: shared runtime, platform adapters, the RPC servicer, the reply consumer, the
send queue and the background maintenance."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import grpc
import httpx
from inbetwin.events.v1 import agent_events_pb2, llm_events_pb2
from inbetwin.social.v1 import social_service_pb2, social_service_pb2_grpc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from services.kit.runtime import Runtime
from services.kit.server import Closer
from services.social import oauth_repository
from services.social.access_tokens import AccessTokens
from services.social.connect import IntegrationConnector
from services.social.contact_sync import ContactSyncer, Maintenance
from services.social.conversations import Conversations
from services.social.crypto import TokenCipher
from services.social.entitlements import Entitlements
from services.social.handoff_events import REQUESTED_CONSUMER, RESOLVED_CONSUMER, HandoffMirror
from services.social.inbound import AppWebhook, WebhookReceiver
from services.social.integration_admin import IntegrationAdmin
from services.social.oauth import OAuthConnector, XOAuthConfig
from services.social.platforms.adapter import PlatformAdapter
from services.social.platforms.max import MaxAdapter, MaxClient
from services.social.platforms.telegram import TelegramAdapter, TelegramClient
from services.social.platforms.vk import VkAdapter, VkClient
from services.social.platforms.x import OAuthClient, XAdapter, XClient
from services.social.ratelimit import SendRateLimiter
from services.social.reconnect import IntegrationReconnector, XReconnect
from services.social.reply_commands import REPLY_CONSUMER, ReplyCommands
from services.social.sending import OutboundSender
from services.social.service import SocialServicer
from services.social.settings import SocialSettings
from services.social.telegram_polling import PollLease, TelegramPoller

SERVICE_NAME = social_service_pb2.DESCRIPTOR.services_by_name["SocialService"].full_name


async def _end_open_transaction(connection: asyncpg.Connection) -> None:
    """What the webhook pool does to a connection given back. The webhook path only runs
    transactions and never changes session state, so asyncpg's default reset (a round trip of
    RESET ALL, UNLISTEN, advisory unlocks on every release) has nothing to undo."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


async def wire(server: grpc.aio.Server, settings: SocialSettings) -> list[Closer]:
    cipher = TokenCipher.from_spec(settings.token_encryption_keys.get_secret_value())
    runtime = await Runtime.open(settings, name="social")
    # The webhook path has its own pools, without the kit's ping on every checkout (a quarter of
    # a webhook's CPU): a dead connection fails one call with UNAVAILABLE, which the platform
    # retries, and the pool then replaces it. New messages go through plain asyncpg; the engine
    # serves the lookups and the rare other updates.
    webhook_engine = create_async_engine(
        settings.database_url,
        pool_size=4,
        max_overflow=4,
        pool_pre_ping=False,
        pool_recycle=1800,
    )
    webhook_pool = await asyncpg.create_pool(
        make_url(settings.database_url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False),
        min_size=settings.webhook_pool_size,
        max_size=settings.webhook_pool_size,
        max_inactive_connection_lifetime=1800,
        reset=_end_open_transaction,
    )
    http = httpx.AsyncClient(timeout=settings.http_timeout_seconds)
    auth_channel = grpc.aio.insecure_channel(settings.auth_addr)
    entitlements = Entitlements(auth_channel)

    telegram = TelegramClient(http, api_base=settings.telegram_api_base)
    vk = VkClient(http, api_base=settings.vk_api_base, version=settings.vk_api_version)
    max_client = MaxClient(http, api_base=settings.max_api_base)
    x = XClient(http, api_base=settings.x_api_base)
    adapters: dict[str, PlatformAdapter] = {
        "telegram": TelegramAdapter(telegram),
        "vk": VkAdapter(vk),
        "max": MaxAdapter(max_client),
    }
    app_webhooks: dict[str, AppWebhook] = {}
    x_oauth: OAuthClient | None = None
    x_config: XOAuthConfig | None = None
    if settings.x_enabled:
        adapters["x"] = XAdapter(x, app_id=settings.x_app_id)
        app_webhooks["x"] = AppWebhook(
            webhook_id=settings.x_webhook_id,
            secret=settings.x_consumer_secret.get_secret_value(),
        )
        x_oauth = OAuthClient(
            client_id=settings.x_client_id,
            client_secret=settings.x_client_secret.get_secret_value(),
        )
        x_config = XOAuthConfig(
            client=x_oauth,
            authorize_url=settings.x_authorize_url,
            default_redirect_uri=settings.x_default_redirect_uri,
            allowed_redirect_uris=settings.x_extra_redirect_uris,
            api_webhook_id=settings.x_api_webhook_id,
        )

    tokens = AccessTokens(engine=runtime.engine, cipher=cipher, x_client=x, x_oauth=x_oauth)
    sender = OutboundSender(
        engine=runtime.engine,
        relay=runtime.relay,
        adapters=adapters,
        tokens=tokens,
        limiter=SendRateLimiter(runtime.redis),
        poll_interval=settings.send_poll_interval_seconds,
        lease=timedelta(seconds=settings.send_lease_seconds),
    )
    connector = IntegrationConnector(
        engine=runtime.engine,
        relay=runtime.relay,
        cipher=cipher,
        entitlements=entitlements,
        telegram=telegram,
        vk=vk,
        max_client=max_client,
        public_base_url=settings.public_base_url,
        x_webhook_id=settings.x_webhook_id,
    )
    receiver = WebhookReceiver(
        engine=webhook_engine,
        relay=runtime.relay,
        cipher=cipher,
        adapters=adapters,
        pool=webhook_pool,
        app_webhooks=app_webhooks,
        max_body_bytes=settings.webhook_max_body_bytes,
        stale_after=timedelta(seconds=settings.stale_update_seconds),
        public_base_url=settings.public_base_url,
        cache_seconds=settings.webhook_cache_seconds,
    )
    syncer = ContactSyncer(engine=runtime.engine, adapters=adapters, tokens=tokens)
    servicer = SocialServicer(
        engine=runtime.engine,
        connector=connector,
        oauth=OAuthConnector(
            engine=runtime.engine,
            cipher=cipher,
            entitlements=entitlements,
            connector=connector,
            x_client=x,
            x_config=x_config,
        ),
        webhooks=receiver,
        conversations=Conversations(
            engine=runtime.engine, relay=runtime.relay, adapters=adapters, on_queued=sender.notify
        ),
        admin=IntegrationAdmin(
            engine=runtime.engine,
            relay=runtime.relay,
            cipher=cipher,
            tokens=tokens,
            telegram=telegram,
            vk=vk,
            max_client=max_client,
            public_base_url=settings.public_base_url,
        ),
        reconnector=IntegrationReconnector(
            engine=runtime.engine,
            relay=runtime.relay,
            cipher=cipher,
            tokens=tokens,
            telegram=telegram,
            vk=vk,
            max_client=max_client,
            x=XReconnect(x, settings.x_api_webhook_id) if settings.x_enabled else None,
            public_base_url=settings.public_base_url,
            x_webhook_id=settings.x_webhook_id,
            on_changed=receiver.forget,
        ),
        syncer=syncer,
        app_webhooks=app_webhooks,
        public_base_url=settings.public_base_url,
    )
    social_service_pb2_grpc.add_SocialServiceServicer_to_server(servicer, server)

    replies = ReplyCommands(engine=runtime.engine, adapters=adapters, on_queued=sender.notify)
    runtime.bus.consume(REPLY_CONSUMER, llm_events_pb2.ReplyRequested, replies.handle)
    handoffs = HandoffMirror(engine=runtime.engine, relay=runtime.relay)
    runtime.bus.consume(REQUESTED_CONSUMER, agent_events_pb2.HandoffRequested, handoffs.requested)
    runtime.bus.consume(RESOLVED_CONSUMER, agent_events_pb2.HandoffResolved, handoffs.resolved)
    sender.start()

    async def prune_oauth_states() -> int:
        async with runtime.engine.begin() as connection:
            return await oauth_repository.prune_expired(connection)

    async def sync_due() -> int:
        return await syncer.run_due(
            interval=timedelta(seconds=settings.contact_sync_interval_seconds)
        )

    maintenance = Maintenance(
        jobs=[sync_due, tokens.refresh_expiring, prune_oauth_states],
        interval_seconds=settings.maintenance_interval_seconds,
    )
    maintenance.start()
    poller = TelegramPoller(
        engine=runtime.engine,
        client=telegram,
        tokens=tokens,
        receiver=receiver,
        lease=PollLease(runtime.redis, ttl_seconds=settings.telegram_poll_hold_seconds + 30),
        hold_seconds=settings.telegram_poll_hold_seconds,
        scan_seconds=settings.telegram_poll_scan_seconds,
    )
    poller.start()

    async def close_channel() -> None:
        await auth_channel.close(None)

    # Closed in reverse: background work stops first, then the runtime, then the HTTP clients.
    return [
        http.aclose,
        close_channel,
        webhook_engine.dispose,
        webhook_pool.close,
        runtime.close,
        sender.stop,
        syncer.stop,
        maintenance.stop,
        poller.stop,
    ]
