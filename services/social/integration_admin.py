"""The owner changing or removing a connected account."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence

from inbetwin.events.v1 import social_events_pb2
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.events import new_event
from services.kit.outbox import OutboxRelay, add_event
from services.social import errors, repository
from services.social.access_tokens import AccessTokens
from services.social.credentials import seal_webhook_secret
from services.social.crypto import CryptoError, TokenCipher
from services.social.mapping import webhook_url
from services.social.models import Integration
from services.social.platforms.max import MaxClient
from services.social.platforms.telegram import TelegramClient
from services.social.platforms.types import InvalidPayloadError, PlatformError
from services.social.platforms.vk import VkClient

log = logging.getLogger("inbetwin.social.integrations")

UPDATABLE_FIELDS = ("display_name", "default_contact_policy", "delivery_mode")


class IntegrationAdmin:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        relay: OutboxRelay,
        cipher: TokenCipher,
        tokens: AccessTokens,
        telegram: TelegramClient,
        vk: VkClient,
        max_client: MaxClient,
        public_base_url: str,
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._cipher = cipher
        self._tokens = tokens
        self._telegram = telegram
        self._vk = vk
        self._max = max_client
        self._public_base_url = public_base_url

    async def update(
        self,
        *,
        owner_id: str,
        integration_id: str,
        paths: Sequence[str],
        display_name: str,
        default_contact_policy: str,
        delivery_mode: str,
    ) -> Integration:
        """Stored names for the enums (`allow_all`, `webhook`, ...)."""
        if not paths:
            raise errors.field_not_updatable("")
        for path in paths:
            if path not in UPDATABLE_FIELDS:
                raise errors.field_not_updatable(path)
        async with self._engine.begin() as connection:
            current = await repository.lock_integration(
                connection, owner_id=owner_id, integration_id=integration_id
            )
            if current is None:
                raise errors.integration_not_found()
            values: dict[str, object] = {}
            if "display_name" in paths:
                values["display_name"] = (
                    display_name or current.platform_username or current.platform_account_id
                )
            if "default_contact_policy" in paths:
                values["default_contact_policy"] = default_contact_policy
            if "delivery_mode" in paths and delivery_mode != current.delivery_mode:
                if current.platform != "telegram":
                    raise errors.delivery_mode_unsupported("polling is available for Telegram only")
                values.update(await self._switch_telegram(current, delivery_mode))
            updated = await repository.update_integration(
                connection, owner_id=owner_id, integration_id=integration_id, values=values
            )
        assert updated is not None
        return updated

    async def _switch_telegram(self, bot: Integration, mode: str) -> dict[str, object]:
        """Register the webhook (with a new secret) or remove it before switching modes."""
        try:
            token = await self._tokens.token_for(bot)
            if mode == "polling":
                await self._telegram.delete_webhook(token)
                return {
                    "delivery_mode": "polling",
                    "webhook_secret_encrypted": None,
                    "webhook_secret_key_id": None,
                }
            secret = secrets.token_urlsafe(32)
            await self._telegram.set_webhook(
                token, url=webhook_url(self._public_base_url, bot), secret_token=secret
            )
        except (PlatformError, CryptoError) as error:
            if isinstance(error, CryptoError):
                raise errors.platform_call_failed(PlatformError("credentials unreadable")) from None
            raise errors.platform_call_failed(error, webhook_setup=True) from None
        return {
            "delivery_mode": "webhook",
            "webhook_secret_encrypted": seal_webhook_secret(
                self._cipher, integration_id=bot.id, secret=secret
            ),
            "webhook_secret_key_id": self._cipher.current_key_id,
        }

    async def delete(self, *, owner_id: str, integration_id: str) -> bool:
        """Delete the integration with its history; whether the platform side was cleaned up."""
        async with self._engine.connect() as connection:
            integration = await repository.get_integration(
                connection, owner_id=owner_id, integration_id=integration_id
            )
        if integration is None:
            raise errors.integration_not_found()
        removed = await self._remove_webhook(integration)
        async with self._engine.begin() as connection:
            deleted = await repository.delete_integration(
                connection, owner_id=owner_id, integration_id=integration_id
            )
            if not deleted:
                raise errors.integration_not_found()
            await add_event(
                connection,
                new_event(
                    social_events_pb2.IntegrationDisconnected,
                    owner_id=owner_id,
                    integration_id=integration_id,
                    reason="owner",
                ),
            )
        self._relay.notify()
        return removed

    async def _remove_webhook(self, integration: Integration) -> bool:
        """Best effort: a platform that cannot be reached keeps calling and gets 404s."""
        try:
            token = await self._tokens.token_for(integration)
            if integration.platform == "telegram":
                await self._telegram.delete_webhook(token)
                return True
            if integration.platform == "vk" and integration.webhook_ref:
                await self._vk.delete_callback_server(
                    token,
                    group_id=integration.platform_account_id,
                    server_id=integration.webhook_ref,
                )
                return True
            if integration.platform == "max":
                await self._max.unsubscribe(
                    token, url=webhook_url(self._public_base_url, integration)
                )
                return True
        except (PlatformError, InvalidPayloadError, CryptoError) as error:
            log.warning(
                "webhook not removed at the platform",
                extra={"integration_id": integration.id, "error": type(error).__name__},
            )
        return False
