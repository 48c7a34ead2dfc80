"""Connecting an account: check the credentials with the platform, register the webhook with a
fresh per-integration secret, enforce the plan's limit, store it all encrypted.

Every connect runs in one transaction holding two advisory locks, the owner's (so two connects
cannot both pass the plan limit) and the platform account's (so two connects of one bot cannot
both re-point its webhook), across the platform calls. `request_id` makes a connect idempotent.
"""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from inbetwin.events.v1 import social_events_pb2
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.kit.events import deterministic_id, new_event
from services.kit.outbox import OutboxRelay, add_event
from services.social import errors, repository
from services.social.credentials import Credentials, seal_credentials, seal_webhook_secret
from services.social.crypto import TokenCipher
from services.social.entitlements import Entitlements
from services.social.mapping import integration_to_proto
from services.social.models import Integration
from services.social.platforms.max import MaxClient
from services.social.platforms.telegram import TelegramClient
from services.social.platforms.types import InvalidPayloadError, PlatformError
from services.social.platforms.vk import REQUIRED_RIGHTS, VkClient

_ALPHANUMERIC = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class ConnectOptions:
    owner_id: str
    request_id: str | None
    display_name: str
    default_contact_policy: str


@dataclass(frozen=True, slots=True)
class VkConnect:
    community_token: str
    group_id: str
    confirmation_code: str
    callback_secret: str

    def __repr__(self) -> str:
        return f"VkConnect(group_id={self.group_id!r})"


@dataclass(slots=True)
class Prepared:
    """What the platform said and set up, ready to be stored."""

    status: str
    platform_username: str
    platform_display_name: str
    credentials: Credentials
    webhook_secret: str | None
    webhook_ref: str = ""
    delivery_mode: str = "webhook"
    # Platform calls to make once the integration is committed (VK calls back at once).
    after_commit: Callable[[Integration], Awaitable[str]] | None = field(default=None)

    def __repr__(self) -> str:
        return f"Prepared(status={self.status!r})"


Register = Callable[[str], Awaitable[Prepared]]


class IntegrationConnector:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        relay: OutboxRelay,
        cipher: TokenCipher,
        entitlements: Entitlements,
        telegram: TelegramClient,
        vk: VkClient,
        max_client: MaxClient,
        public_base_url: str,
        x_webhook_id: str = "",
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._cipher = cipher
        self._entitlements = entitlements
        self._telegram = telegram
        self._vk = vk
        self._max = max_client
        self._public_base_url = public_base_url
        self._x_webhook_id = x_webhook_id

    async def connect_telegram(
        self, options: ConnectOptions, *, bot_token: str, polling: bool = False
    ) -> Integration:
        """With `polling`, the bot's webhook is removed and the service polls getUpdates."""
        # A bot token is `<bot id>:<secret>`; the contract's validation guarantees the shape.
        bot_id = bot_token.partition(":")[0]

        async def register(integration_id: str) -> Prepared:
            bot = await self._telegram.get_me(bot_token)
            if bot.platform_account_id != bot_id:
                raise PlatformError("token does not match its bot", status=400)
            secret = None if polling else secrets.token_urlsafe(32)
            try:
                if secret is None:
                    await self._telegram.delete_webhook(bot_token)
                else:
                    await self._telegram.set_webhook(
                        bot_token, url=self._url("telegram", integration_id), secret_token=secret
                    )
            except PlatformError as error:
                raise errors.platform_call_failed(error, webhook_setup=True) from None
            return Prepared(
                status="active",
                platform_username=bot.username,
                platform_display_name=bot.display_name,
                credentials=Credentials(token=bot_token),
                webhook_secret=secret,
                delivery_mode="polling" if polling else "webhook",
            )

        return await self.connect(
            options, platform="telegram", account_id=bot_id, register=register
        )

    async def connect_max(self, options: ConnectOptions, *, bot_token: str) -> Integration:
        try:
            bot = await self._max.get_me(bot_token)
        except (PlatformError, InvalidPayloadError) as error:
            raise _platform_failure(error) from None

        async def register(integration_id: str) -> Prepared:
            secret = secrets.token_urlsafe(32)
            try:
                await self._max.subscribe(
                    bot_token, url=self._url("max", integration_id), secret=secret
                )
            except PlatformError as error:
                raise errors.platform_call_failed(error, webhook_setup=True) from None
            return Prepared(
                status="active",
                platform_username=bot.username,
                platform_display_name=bot.display_name,
                credentials=Credentials(token=bot_token),
                webhook_secret=secret,
            )

        return await self.connect(
            options, platform="max", account_id=bot.platform_account_id, register=register
        )

    async def connect_vk(self, options: ConnectOptions, vk: VkConnect) -> Integration:
        """CONNECTING until VK's `confirmation` call is answered. Without a `callback_secret`
        the service registers its own callback server (needs the token's `manage` right)."""
        token = vk.community_token
        manual = bool(vk.callback_secret)

        async def register(integration_id: str) -> Prepared:
            community = await self._vk.own_community(token)
            if community.platform_account_id != vk.group_id:
                raise PlatformError("the token belongs to another community", status=400)
            rights = REQUIRED_RIGHTS if manual else (*REQUIRED_RIGHTS, "manage")
            await self._vk.require_rights(token, rights)
            code = vk.confirmation_code or await self._vk.confirmation_code(
                token, group_id=vk.group_id
            )
            secret = vk.callback_secret or "".join(secrets.choice(_ALPHANUMERIC) for _ in range(32))
            return Prepared(
                status="connecting",
                platform_username=community.username,
                platform_display_name=community.display_name,
                credentials=Credentials(token=token, confirmation_code=code),
                webhook_secret=secret,
                after_commit=None if manual else self._vk_callback_server(token, secret),
            )

        return await self.connect(options, platform="vk", account_id=vk.group_id, register=register)

    def _vk_callback_server(
        self, token: str, secret: str
    ) -> Callable[[Integration], Awaitable[str]]:
        async def add(integration: Integration) -> str:
            group_id = integration.platform_account_id
            server_id = await self._vk.add_callback_server(
                token, group_id=group_id, url=self._url("vk", integration.id), secret_key=secret
            )
            await self._vk.set_callback_settings(token, group_id=group_id, server_id=server_id)
            return server_id

        return add

    async def connect(
        self, options: ConnectOptions, *, platform: str, account_id: str, register: Register
    ) -> Integration:
        """Idempotent per `request_id`. Holds the owner's and the account's lock across the
        platform calls made by `register`."""
        limit = await self._entitlements.max_integrations(options.owner_id)
        try:
            integration, after_commit = await self._connect(
                options, platform=platform, account_id=account_id, register=register, limit=limit
            )
        except IntegrityError:
            # Lost a race that the locks cannot see: the same request_id with another account.
            return await self._existing_after_race(options, platform, account_id)
        self._relay.notify()
        if after_commit is None:
            return integration
        return await self._finish_setup(integration, after_commit)

    async def _connect(
        self,
        options: ConnectOptions,
        *,
        platform: str,
        account_id: str,
        register: Register,
        limit: int,
    ) -> tuple[Integration, Callable[[Integration], Awaitable[str]] | None]:
        async with self._engine.begin() as connection:
            await repository.lock_owner(connection, owner_id=options.owner_id)
            await repository.lock_account(connection, platform=platform, account_id=account_id)
            if options.request_id is not None:
                existing = await repository.find_integration_by_request(
                    connection, owner_id=options.owner_id, request_id=options.request_id
                )
                if existing is not None:
                    if (existing.platform, existing.platform_account_id) == (platform, account_id):
                        return existing, None
                    raise errors.request_id_reused()
            if await repository.platform_account_connected(
                connection, platform=platform, platform_account_id=account_id
            ):
                raise errors.already_connected()
            used = await repository.count_integrations(connection, owner_id=options.owner_id)
            if used >= limit:
                raise errors.integration_limit_reached(limit=limit, used=used)
            integration_id = str(uuid.uuid4())
            try:
                prepared = await register(integration_id)
            except (PlatformError, InvalidPayloadError) as error:
                raise _platform_failure(error) from None
            integration = await self._insert(
                connection, options, integration_id, platform, account_id, prepared
            )
            if integration.status == "active":
                await add_event(connection, self._connected_event(integration))
        return integration, prepared.after_commit

    async def _insert(
        self,
        connection: AsyncConnection,
        options: ConnectOptions,
        integration_id: str,
        platform: str,
        account_id: str,
        prepared: Prepared,
    ) -> Integration:
        return await repository.insert_integration(
            connection,
            integration_id=integration_id,
            owner_id=options.owner_id,
            platform=platform,
            display_name=options.display_name
            or prepared.platform_display_name
            or prepared.platform_username,
            status=prepared.status,
            delivery_mode=prepared.delivery_mode,
            platform_account_id=account_id,
            platform_username=prepared.platform_username,
            credentials_encrypted=seal_credentials(
                self._cipher, integration_id=integration_id, credentials=prepared.credentials
            ),
            credentials_key_id=self._cipher.current_key_id,
            webhook_secret_encrypted=(
                seal_webhook_secret(
                    self._cipher, integration_id=integration_id, secret=prepared.webhook_secret
                )
                if prepared.webhook_secret is not None
                else None
            ),
            webhook_secret_key_id=(
                self._cipher.current_key_id if prepared.webhook_secret is not None else None
            ),
            default_contact_policy=options.default_contact_policy,
            request_id=options.request_id,
            credentials_expire_at=prepared.credentials.expires_at,
            webhook_ref=prepared.webhook_ref,
        )

    async def _finish_setup(
        self, integration: Integration, after_commit: Callable[[Integration], Awaitable[str]]
    ) -> Integration:
        try:
            reference = await after_commit(integration)
        except (PlatformError, InvalidPayloadError) as error:
            async with self._engine.begin() as connection:
                await repository.delete_integration(
                    connection, owner_id=integration.owner_id, integration_id=integration.id
                )
            if isinstance(error, InvalidPayloadError):
                raise _platform_failure(error) from None
            raise errors.platform_call_failed(error, webhook_setup=True) from None
        async with self._engine.begin() as connection:
            updated = await repository.update_integration(
                connection,
                owner_id=integration.owner_id,
                integration_id=integration.id,
                values={"webhook_ref": reference},
            )
        return updated or integration

    async def _existing_after_race(
        self, options: ConnectOptions, platform: str, account_id: str
    ) -> Integration:
        existing = None
        if options.request_id is not None:
            async with self._engine.connect() as connection:
                existing = await repository.find_integration_by_request(
                    connection, owner_id=options.owner_id, request_id=options.request_id
                )
        if existing is None:
            raise errors.already_connected() from None
        if (existing.platform, existing.platform_account_id) == (platform, account_id):
            return existing
        raise errors.request_id_reused() from None

    def _connected_event(self, integration: Integration) -> social_events_pb2.IntegrationConnected:
        return new_event(
            social_events_pb2.IntegrationConnected,
            owner_id=integration.owner_id,
            event_id=deterministic_id("social.integration.connected", integration.id),
            integration=integration_to_proto(
                integration,
                public_base_url=self._public_base_url,
                x_webhook_id=self._x_webhook_id,
            ),
        )

    def _url(self, platform: str, integration_id: str) -> str:
        return f"{self._public_base_url}/webhooks/{platform}/{integration_id}"


def _platform_failure(error: PlatformError | InvalidPayloadError) -> Exception:
    if isinstance(error, InvalidPayloadError):
        return errors.platform_call_failed(PlatformError(f"unexpected answer: {error}"))
    return errors.platform_call_failed(error)
