"""An integration's secrets, sealed with the service's keys and bound to the integration's id.

The credentials are one sealed JSON document: the access token (bot token, community token or
OAuth access token) and, where the platform has them, the OAuth refresh token, the access
token's expiry and VK's confirmation string. A value sealed before this format existed is a bare
token and still opens.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime

from services.social.crypto import TokenCipher
from services.social.models import Integration


@dataclass(frozen=True, slots=True)
class Credentials:
    token: str
    refresh_token: str = ""
    expires_at: datetime | None = None
    # VK: the string the `confirmation` call must get back.
    confirmation_code: str = ""

    def __repr__(self) -> str:  # never in logs or tracebacks
        return f"Credentials(expires_at={self.expires_at!r})"

    def with_tokens(
        self, *, token: str, refresh_token: str, expires_at: datetime | None
    ) -> Credentials:
        return replace(
            self,
            token=token,
            refresh_token=refresh_token or self.refresh_token,
            expires_at=expires_at,
        )


def _token_context(integration_id: str) -> str:
    return f"integration:{integration_id}:credentials"


def _webhook_secret_context(integration_id: str) -> str:
    return f"integration:{integration_id}:webhook_secret"


def _oauth_context(state_hash: str) -> str:
    return f"oauth:{state_hash}:code_verifier"


def seal_credentials(
    cipher: TokenCipher, *, integration_id: str, credentials: Credentials
) -> bytes:
    document = {
        "token": credentials.token,
        "refresh_token": credentials.refresh_token,
        "expires_at": credentials.expires_at.isoformat() if credentials.expires_at else None,
        "confirmation_code": credentials.confirmation_code,
    }
    return cipher.seal(json.dumps(document), associated_data=_token_context(integration_id))


def open_credentials(cipher: TokenCipher, integration: Integration) -> Credentials:
    return open_sealed_credentials(
        cipher, integration_id=integration.id, sealed=integration.credentials_encrypted
    )


def open_sealed_credentials(
    cipher: TokenCipher, *, integration_id: str, sealed: bytes
) -> Credentials:
    plain = cipher.open(sealed, associated_data=_token_context(integration_id))
    if not plain.startswith("{"):
        return Credentials(token=plain)
    document = json.loads(plain)
    expires_at = document.get("expires_at")
    return Credentials(
        token=document["token"],
        refresh_token=document.get("refresh_token") or "",
        expires_at=datetime.fromisoformat(expires_at) if expires_at else None,
        confirmation_code=document.get("confirmation_code") or "",
    )


def seal_token(cipher: TokenCipher, *, integration_id: str, token: str) -> bytes:
    return seal_credentials(cipher, integration_id=integration_id, credentials=Credentials(token))


def open_token(cipher: TokenCipher, integration: Integration) -> str:
    return open_credentials(cipher, integration).token


def seal_webhook_secret(cipher: TokenCipher, *, integration_id: str, secret: str) -> bytes:
    return cipher.seal(secret, associated_data=_webhook_secret_context(integration_id))


def open_webhook_secret(cipher: TokenCipher, integration: Integration) -> str | None:
    if integration.webhook_secret_encrypted is None:
        return None
    return cipher.open(
        integration.webhook_secret_encrypted,
        associated_data=_webhook_secret_context(integration.id),
    )


def seal_code_verifier(cipher: TokenCipher, *, state_hash: str, verifier: str) -> bytes:
    return cipher.seal(verifier, associated_data=_oauth_context(state_hash))


def open_code_verifier(cipher: TokenCipher, *, state_hash: str, sealed: bytes) -> str:
    return cipher.open(sealed, associated_data=_oauth_context(state_hash))
