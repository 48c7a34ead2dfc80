"""Connecting a Telegram bot: check the token, register the webhook, store it all encrypted."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from inbetwin.events.v1 import social_events_pb2
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.events import new_event
from services.kit.outbox import OutboxRelay, add_event
from services.social import errors, repository
from services.social.credentials import seal_token, seal_webhook_secret
from services.social.crypto import TokenCipher
from services.social.mapping import integration_to_proto
from services.social.models import Integration
from services.social.platforms.telegram import TelegramClient
from services.social.platforms.types import PlatformError


@dataclass(frozen=True, slots=True)
class TelegramConnectRequest:
    owner_id: str
    request_id: str
    bot_token: str
    display_name: str
    default_contact_policy: str

    def __repr__(self) -> str:
        return f"TelegramConnectRequest(owner_id={self.owner_id!r}, request_id={self.request_id!r})"

    @property
    def bot_id(self) -> str:
        """A bot token is `<bot id>:<secret>`; the contract's validation guarantees the shape."""
        return self.bot_token.partition(":")[0]


class IntegrationConnector:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        relay: OutboxRelay,
        cipher: TokenCipher,
        telegram: TelegramClient,
        public_base_url: str,
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._cipher = cipher
        self._telegram = telegram
        self._public_base_url = public_base_url

    async def connect_telegram(self, request: TelegramConnectRequest) -> Integration:
        """Idempotent per `request_id`. One transaction, holding a per-bot advisory lock across the
        platform calls, so two concurrent connects of one bot cannot both re-point its webhook."""
        try:
            return await self._connect_telegram(request)
        except IntegrityError:
            # Lost a race that the per-bot lock cannot see: the same request_id with another token.
            async with self._engine.connect() as connection:
                existing = await repository.find_integration_by_request(
                    connection, owner_id=request.owner_id, request_id=request.request_id
                )
            if existing is None:
                raise errors.already_connected() from None
            if existing.platform_account_id == request.bot_id:
                return existing
            raise errors.request_id_reused() from None

    async def _connect_telegram(self, request: TelegramConnectRequest) -> Integration:
        async with self._engine.begin() as connection:
            await connection.execute(
                sa.select(
                    sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"telegram:{request.bot_id}"))
                )
            )
            existing = await repository.find_integration_by_request(
                connection, owner_id=request.owner_id, request_id=request.request_id
            )
            if existing is not None:
                if (
                    existing.platform == "telegram"
                    and existing.platform_account_id == request.bot_id
                ):
                    return existing
                raise errors.request_id_reused()
            if await repository.platform_account_connected(
                connection, platform="telegram", platform_account_id=request.bot_id
            ):
                raise errors.already_connected()
            try:
                bot = await self._telegram.get_me(request.bot_token)
            except PlatformError as error:
                raise errors.platform_call_failed(error) from None
            if bot.platform_account_id != request.bot_id:
                raise errors.platform_call_failed(
                    PlatformError("token does not match its bot", status=400)
                )
            integration_id = str(uuid.uuid4())
            secret = secrets.token_urlsafe(32)
            try:
                await self._telegram.set_webhook(
                    request.bot_token,
                    url=f"{self._public_base_url}/webhooks/telegram/{integration_id}",
                    secret_token=secret,
                )
            except PlatformError as error:
                raise errors.platform_call_failed(error, webhook_setup=True) from None
            integration = await repository.insert_integration(
                connection,
                integration_id=integration_id,
                owner_id=request.owner_id,
                platform="telegram",
                display_name=request.display_name or bot.display_name or bot.username,
                status="active",
                delivery_mode="webhook",
                platform_account_id=bot.platform_account_id,
                platform_username=bot.username,
                credentials_encrypted=seal_token(
                    self._cipher, integration_id=integration_id, token=request.bot_token
                ),
                credentials_key_id=self._cipher.current_key_id,
                webhook_secret_encrypted=seal_webhook_secret(
                    self._cipher, integration_id=integration_id, secret=secret
                ),
                webhook_secret_key_id=self._cipher.current_key_id,
                default_contact_policy=request.default_contact_policy,
                request_id=request.request_id,
            )
            await add_event(
                connection,
                new_event(
                    social_events_pb2.IntegrationConnected,
                    owner_id=request.owner_id,
                    integration=integration_to_proto(
                        integration, public_base_url=self._public_base_url
                    ),
                ),
            )
        self._relay.notify()
        return integration
