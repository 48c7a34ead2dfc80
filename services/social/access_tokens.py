"""The token to call a platform with, refreshed before it expires (X OAuth 2.0 access tokens
live two hours and their refresh tokens rotate on every use).

A refresh happens under the integration's row lock and re-reads the stored credentials first,
so two instances refreshing at once use the refresh token once: the second finds fresh tokens.
A refused refresh puts the integration in ERROR, for the owner to re-authorise.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from services.social import repository
from services.social.credentials import open_credentials, seal_credentials
from services.social.crypto import TokenCipher
from services.social.models import Integration
from services.social.platforms.types import (
    InvalidCredentialsError,
    PermanentError,
    TransientError,
)
from services.social.platforms.x import OAuthClient, XClient

log = logging.getLogger("inbetwin.social.tokens")

REFRESH_MARGIN = timedelta(minutes=10)


class AccessTokens:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        cipher: TokenCipher,
        x_client: XClient,
        x_oauth: OAuthClient | None,
        margin: timedelta = REFRESH_MARGIN,
    ) -> None:
        self._engine = engine
        self._cipher = cipher
        self._x = x_client
        self._x_oauth = x_oauth
        self._margin = margin

    async def token_for(self, integration: Integration) -> str:
        """Raises CryptoError (stored secret unreadable) or InvalidCredentialsError."""
        credentials = open_credentials(self._cipher, integration)
        if not self._expiring(credentials.expires_at):
            return credentials.token
        return await self.refresh(integration)

    async def refresh(self, integration: Integration, *, force: bool = False) -> str:
        """Refresh now if still needed (or `force`d after the platform refused the token)."""
        if self._x_oauth is None or integration.platform != "x":
            raise InvalidCredentialsError("the access token expired and cannot be refreshed")
        failure = ""
        async with self._engine.begin() as connection:
            locked = await repository.lock_integration(
                connection, owner_id=integration.owner_id, integration_id=integration.id
            )
            if locked is None:
                raise InvalidCredentialsError("the integration no longer exists")
            credentials = open_credentials(self._cipher, locked)
            changed_meanwhile = locked.credentials_encrypted != integration.credentials_encrypted
            if not self._expiring(credentials.expires_at) and (not force or changed_meanwhile):
                return credentials.token
            try:
                if not credentials.refresh_token:
                    raise InvalidCredentialsError("the authorisation expired")
                tokens = await self._x.refresh(
                    self._x_oauth, refresh_token=credentials.refresh_token
                )
            except (InvalidCredentialsError, PermanentError) as error:
                # Committed with the transaction, then raised: the owner must re-authorise.
                failure = f"X refused to refresh the authorisation: {error.description}"
                await repository.set_integration_error(
                    connection,
                    owner_id=locked.owner_id,
                    integration_id=locked.id,
                    status="error",
                    error=failure,
                )
            except TransientError:
                if credentials.expires_at and credentials.expires_at > datetime.now(UTC):
                    return credentials.token  # still valid for a while: try again next time
                raise
            else:
                renewed = credentials.with_tokens(
                    token=tokens.access_token,
                    refresh_token=tokens.refresh_token,
                    expires_at=tokens.expires_at,
                )
                await repository.update_integration(
                    connection,
                    owner_id=locked.owner_id,
                    integration_id=locked.id,
                    values={
                        "credentials_encrypted": seal_credentials(
                            self._cipher, integration_id=locked.id, credentials=renewed
                        ),
                        "credentials_key_id": self._cipher.current_key_id,
                        "credentials_expire_at": renewed.expires_at,
                    },
                )
        if failure:
            raise InvalidCredentialsError(failure)
        log.info("access token refreshed", extra={"integration_id": integration.id})
        return renewed.token

    async def refresh_expiring(self, *, limit: int = 50) -> int:
        """Refresh X tokens that expire soon, so idle integrations stay usable."""
        async with self._engine.connect() as connection:
            due = await repository.expiring_oauth_integrations(
                connection,
                platform="x",
                before=datetime.now(UTC) + self._margin * 2,
                limit=limit,
            )
        refreshed = 0
        for integration in due:
            try:
                await self.refresh(integration)
                refreshed += 1
            except (InvalidCredentialsError, TransientError):
                log.warning("token refresh failed", extra={"integration_id": integration.id})
        return refreshed

    def _expiring(self, expires_at: datetime | None) -> bool:
        return expires_at is not None and expires_at - datetime.now(UTC) < self._margin
