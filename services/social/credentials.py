"""An integration's secrets, sealed with the service's keys and bound to the integration's id."""

from __future__ import annotations

from services.social.crypto import TokenCipher
from services.social.models import Integration


def _token_context(integration_id: str) -> str:
    return f"integration:{integration_id}:credentials"


def _webhook_secret_context(integration_id: str) -> str:
    return f"integration:{integration_id}:webhook_secret"


def seal_token(cipher: TokenCipher, *, integration_id: str, token: str) -> bytes:
    return cipher.seal(token, associated_data=_token_context(integration_id))


def open_token(cipher: TokenCipher, integration: Integration) -> str:
    return cipher.open(
        integration.credentials_encrypted, associated_data=_token_context(integration.id)
    )


def seal_webhook_secret(cipher: TokenCipher, *, integration_id: str, secret: str) -> bytes:
    return cipher.seal(secret, associated_data=_webhook_secret_context(integration_id))


def open_webhook_secret(cipher: TokenCipher, integration: Integration) -> str | None:
    if integration.webhook_secret_encrypted is None:
        return None
    return cipher.open(
        integration.webhook_secret_encrypted,
        associated_data=_webhook_secret_context(integration.id),
    )
