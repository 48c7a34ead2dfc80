"""Which integration a webhook path names, with its webhook secret, remembered for a moment.

Busy accounts send many updates a second; looking the integration up and decrypting its secret
for each is a round trip and an AES open that rarely changes. An entry lives `ttl_seconds`, so a
status change (an integration deleted or disconnected) reaches the webhook path within that
time; a delete in between makes the storage fail on its foreign key, and the caller forgets the
entry and answers not found.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from services.social import repository
from services.social.credentials import open_webhook_secret
from services.social.crypto import CryptoError, TokenCipher
from services.social.models import Integration

log = logging.getLogger("inbetwin.social.webhooks")

MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class Target:
    integration: Integration
    secret: str

    def __repr__(self) -> str:
        return f"Target(integration={self.integration!r})"


class WebhookTargets:
    def __init__(self, cipher: TokenCipher, *, ttl_seconds: float) -> None:
        self._cipher = cipher
        self._ttl = ttl_seconds
        self._entries: dict[str, tuple[float, Target]] = {}

    async def find(self, engine: AsyncEngine, integration_id: str) -> Target | None:
        """The integration and its secret; reads the database only when not remembered."""
        now = time.monotonic()
        cached = self._entries.get(integration_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        async with engine.connect() as connection:
            integration = await repository.get_integration_for_webhook(
                connection, integration_id=integration_id
            )
        if integration is None:
            self._entries.pop(integration_id, None)
            return None
        target = Target(integration, self._secret(integration))
        if self._ttl > 0:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[integration_id] = (now + self._ttl, target)
        return target

    def forget(self, integration_id: str) -> None:
        self._entries.pop(integration_id, None)

    def _secret(self, integration: Integration) -> str:
        try:
            return open_webhook_secret(self._cipher, integration) or ""
        except CryptoError:
            log.error(
                "webhook secret cannot be decrypted", extra={"integration_id": integration.id}
            )
            return ""
