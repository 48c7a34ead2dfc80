"""Repairing a connected account (ReconnectIntegration).

The credentials are checked with the platform again (the stored ones, or new ones that must
belong to the same account), and the webhook is registered again with a fresh secret. Telegram,
MAX and X become ACTIVE at once; VK becomes CONNECTING until its `confirmation` call, which
reaches this service only after the new secret and confirmation string are committed, so the
callback server is registered after the commit (as when connecting).

The integration's row stays locked across the platform calls, so two reconnects (or a reconnect
and an update) cannot interleave their registrations: the secret committed last is the one the
platform holds.
"""

from __future__ import annotations

import logging
import secrets
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from inbetwin.events.v1 import social_events_pb2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.kit.events import new_event
from services.kit.outbox import OutboxRelay, add_event
from services.social import errors, repository
from services.social.access_tokens import AccessTokens
from services.social.credentials import (
    Credentials,
    open_credentials,
    seal_credentials,
    seal_webhook_secret,
)
from services.social.crypto import CryptoError, TokenCipher
from services.social.mapping import integration_to_proto, webhook_url
from services.social.models import Integration
from services.social.platforms.max import MaxClient
from services.social.platforms.telegram import TelegramClient
from services.social.platforms.types import (
    InvalidCredentialsError,
    InvalidPayloadError,
    PermanentError,
    PlatformError,
)
from services.social.platforms.vk import REQUIRED_RIGHTS, VkClient
from services.social.platforms.x import XClient

log = logging.getLogger("inbetwin.social.integrations")

_ALPHANUMERIC = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class NewCredentials:
    """Credentials given with the request, replacing the stored ones."""

    platform: str
    token: str
    # VK only: the community's id and, for a callback server the owner registers, its settings.
    group_id: str = ""
    confirmation_code: str = ""
    callback_secret: str = ""

    def __repr__(self) -> str:  # never in logs or tracebacks
        return f"NewCredentials(platform={self.platform!r})"


@dataclass(frozen=True, slots=True)
class XReconnect:
    client: XClient
    # X's id of the app's webhook, which each account is subscribed to.
    api_webhook_id: str


@dataclass(slots=True)
class _Repair:
    values: dict[str, object]
    # VK: the callback server to register once the new secret is committed.
    vk_server: tuple[str, str] | None = None  # (token, secret)


class IntegrationReconnector:
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
        x: XReconnect | None,
        public_base_url: str,
        x_webhook_id: str,
        on_changed: Callable[[str], None],
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._cipher = cipher
        self._tokens = tokens
        self._telegram = telegram
        self._vk = vk
        self._max = max_client
        self._x = x
        self._public_base_url = public_base_url
        self._x_webhook_id = x_webhook_id
        # Tells the webhook path to forget what it remembers of the integration (its secret).
        self._on_changed = on_changed

    async def reconnect(
        self, *, owner_id: str, integration_id: str, new: NewCredentials | None
    ) -> Integration:
        x_token = await self._x_token(owner_id, integration_id, new)
        async with self._engine.begin() as connection:
            current = await repository.lock_integration(
                connection, owner_id=owner_id, integration_id=integration_id
            )
            if current is None:
                raise errors.integration_not_found()
            if new is not None and new.platform != current.platform:
                raise errors.credentials_for_another_platform(new.platform)
            try:
                repair = await self._repair(connection, current, new, x_token)
            except CryptoError:
                raise errors.platform_call_failed(
                    InvalidCredentialsError("the stored credentials are unreadable; give new ones")
                ) from None
            except (PlatformError, InvalidPayloadError) as error:
                raise _failure(error) from None
            repaired = await repository.update_integration(
                connection, owner_id=owner_id, integration_id=integration_id, values=repair.values
            )
            assert repaired is not None
            if repaired.status == "active":
                await add_event(connection, self._connected(repaired))
        self._on_changed(integration_id)
        self._relay.notify()
        if repair.vk_server is not None:
            return await self._register_vk_server(repaired, *repair.vk_server)
        return repaired

    async def _x_token(
        self, owner_id: str, integration_id: str, new: NewCredentials | None
    ) -> str | None:
        """X's access token, refreshed if it is about to expire. Read before the row is locked:
        a refresh locks the same row from its own transaction."""
        if new is not None:
            return None
        async with self._engine.connect() as connection:
            current = await repository.get_integration(
                connection, owner_id=owner_id, integration_id=integration_id
            )
        if current is None or current.platform != "x":
            return None
        try:
            return await self._tokens.token_for(current)
        except CryptoError:
            raise errors.platform_call_failed(
                InvalidCredentialsError("the stored credentials are unreadable")
            ) from None
        except PlatformError as error:
            raise _failure(error) from None

    async def _repair(
        self,
        connection: AsyncConnection,
        current: Integration,
        new: NewCredentials | None,
        x_token: str | None,
    ) -> _Repair:
        stored = open_credentials(self._cipher, current) if new is None else None
        if current.platform == "telegram":
            return await self._telegram_repair(connection, current, new, stored)
        if current.platform == "max":
            return await self._max_repair(connection, current, new, stored)
        if current.platform == "vk":
            return await self._vk_repair(connection, current, new, stored)
        if current.platform == "x" and x_token is not None:
            return await self._x_repair(current, x_token)
        raise errors.unsupported_platform(current.platform)

    async def _telegram_repair(
        self,
        connection: AsyncConnection,
        current: Integration,
        new: NewCredentials | None,
        stored: Credentials | None,
    ) -> _Repair:
        token = new.token if new is not None else _token(stored)
        bot = await self._telegram.get_me(token)
        await self._same_account(connection, current, bot.platform_account_id)
        values = self._credentials(current, Credentials(token=token))
        values["platform_username"] = bot.username
        if current.delivery_mode == "polling":
            await self._webhook_step(self._telegram.delete_webhook(token))
            return _Repair(values | _active())
        secret = secrets.token_urlsafe(32)
        await self._webhook_step(
            self._telegram.set_webhook(
                token, url=webhook_url(self._public_base_url, current), secret_token=secret
            )
        )
        return _Repair(values | self._secret(current, secret) | _active())

    async def _max_repair(
        self,
        connection: AsyncConnection,
        current: Integration,
        new: NewCredentials | None,
        stored: Credentials | None,
    ) -> _Repair:
        token = new.token if new is not None else _token(stored)
        bot = await self._max.get_me(token)
        await self._same_account(connection, current, bot.platform_account_id)
        secret = secrets.token_urlsafe(32)
        # A subscription to the same URL replaces the earlier one (and its secret).
        await self._webhook_step(
            self._max.subscribe(
                token, url=webhook_url(self._public_base_url, current), secret=secret
            )
        )
        values = self._credentials(current, Credentials(token=token))
        values["platform_username"] = bot.username
        return _Repair(values | self._secret(current, secret) | _active())

    async def _vk_repair(
        self,
        connection: AsyncConnection,
        current: Integration,
        new: NewCredentials | None,
        stored: Credentials | None,
    ) -> _Repair:
        token = new.token if new is not None else _token(stored)
        if new is not None and new.group_id != current.platform_account_id:
            raise PermanentError("the credentials are for another community", status=400)
        community = await self._vk.own_community(token)
        await self._same_account(connection, current, community.platform_account_id)
        group_id = current.platform_account_id
        # Who registered the callback server: the service (it has its id) or the owner (who
        # gives the secret they set in VK's settings).
        owner_managed = bool(new.callback_secret) if new is not None else not current.webhook_ref
        await self._vk.require_rights(
            token, REQUIRED_RIGHTS if owner_managed else (*REQUIRED_RIGHTS, "manage")
        )
        if owner_managed:
            # The secret and confirmation string live in VK's settings, where the owner put them.
            code = (new.confirmation_code if new is not None else "") or (
                stored.confirmation_code if stored is not None else ""
            )
            if not code:
                code = await self._vk.confirmation_code(token, group_id=group_id)
            values = self._credentials(current, Credentials(token=token, confirmation_code=code))
            if new is not None:
                values |= self._secret(current, new.callback_secret)
                values |= {"status": "connecting", "webhook_ref": ""}
            else:
                values["status"] = "connecting" if current.status == "connecting" else "active"
                values |= {"last_error": "", "last_error_at": None}
            return _Repair(values)
        code = await self._vk.confirmation_code(token, group_id=group_id)
        secret = "".join(secrets.choice(_ALPHANUMERIC) for _ in range(32))
        if current.webhook_ref:
            await self._remove_vk_server(token, group_id, current.webhook_ref)
        values = self._credentials(current, Credentials(token=token, confirmation_code=code))
        values |= self._secret(current, secret)
        values |= {
            "status": "connecting",
            "webhook_ref": "",
            "last_error": "",
            "last_error_at": None,
        }
        return _Repair(values, vk_server=(token, secret))

    async def _x_repair(self, current: Integration, token: str) -> _Repair:
        if self._x is None:
            raise errors.unsupported_platform("x")
        account = await self._x.client.me(token)
        if account.platform_account_id != current.platform_account_id:
            raise PermanentError("the authorization is for another X account", status=400)
        await self._webhook_step(self._x.client.subscribe(token, webhook_id=self._x.api_webhook_id))
        return _Repair({"platform_username": account.username} | _active())

    async def _register_vk_server(
        self, integration: Integration, token: str, secret: str
    ) -> Integration:
        """After the commit: VK's confirmation call may come at once and must find the new
        secret and confirmation string. On failure the integration is left in ERROR."""
        group_id = integration.platform_account_id
        try:
            server_id = await self._vk.add_callback_server(
                token,
                group_id=group_id,
                url=webhook_url(self._public_base_url, integration),
                secret_key=secret,
            )
            await self._vk.set_callback_settings(token, group_id=group_id, server_id=server_id)
            values: dict[str, object] = {"webhook_ref": server_id}
            failure = None
        except (PlatformError, InvalidPayloadError) as error:
            failure = error
            values = {"status": "error", "last_error": f"callback server not registered: {error}"}
        async with self._engine.begin() as connection:
            updated = await repository.update_integration(
                connection,
                owner_id=integration.owner_id,
                integration_id=integration.id,
                values=values,
            )
        self._on_changed(integration.id)
        if failure is not None:
            if isinstance(failure, InvalidPayloadError):
                raise _failure(failure)
            raise errors.platform_call_failed(failure, webhook_setup=True)
        return updated or integration

    async def _remove_vk_server(self, token: str, group_id: str, server_id: str) -> None:
        """Best effort: a server VK already dropped (or the owner deleted) is gone anyway."""
        try:
            await self._vk.delete_callback_server(token, group_id=group_id, server_id=server_id)
        except (PlatformError, InvalidPayloadError) as error:
            log.warning(
                "old VK callback server not removed",
                extra={"group_id": group_id, "error": type(error).__name__},
            )

    async def _same_account(
        self, connection: AsyncConnection, current: Integration, account_id: str
    ) -> None:
        if account_id == current.platform_account_id:
            return
        if await repository.platform_account_connected(
            connection, platform=current.platform, platform_account_id=account_id
        ):
            raise errors.already_connected()
        raise PermanentError("the credentials belong to another account", status=400)

    @staticmethod
    async def _webhook_step(call: Awaitable[object]) -> None:
        try:
            await call
        except PlatformError as error:
            raise errors.platform_call_failed(error, webhook_setup=True) from None

    def _credentials(self, current: Integration, credentials: Credentials) -> dict[str, object]:
        """Sealed again even when unchanged: under the current key, so a reconnect also moves
        the credentials to a rotated key."""
        return {
            "credentials_encrypted": seal_credentials(
                self._cipher, integration_id=current.id, credentials=credentials
            ),
            "credentials_key_id": self._cipher.current_key_id,
            "credentials_expire_at": None,
        }

    def _secret(self, current: Integration, secret: str) -> dict[str, object]:
        return {
            "webhook_secret_encrypted": seal_webhook_secret(
                self._cipher, integration_id=current.id, secret=secret
            ),
            "webhook_secret_key_id": self._cipher.current_key_id,
        }

    def _connected(self, integration: Integration) -> social_events_pb2.IntegrationConnected:
        return new_event(
            social_events_pb2.IntegrationConnected,
            owner_id=integration.owner_id,
            integration=integration_to_proto(
                integration,
                public_base_url=self._public_base_url,
                x_webhook_id=self._x_webhook_id,
            ),
        )


def _active() -> dict[str, object]:
    return {"status": "active", "last_error": "", "last_error_at": None}


def _token(stored: Credentials | None) -> str:
    assert stored is not None
    return stored.token


def _failure(error: PlatformError | InvalidPayloadError) -> Exception:
    if isinstance(error, InvalidPayloadError):
        return errors.platform_call_failed(PlatformError(f"unexpected answer: {error}"))
    return errors.platform_call_failed(error)
