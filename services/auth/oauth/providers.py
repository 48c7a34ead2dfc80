"""What every sign-in provider offers, and the HTTP exchanges they share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from services.auth.oauth.state import PendingSignIn


@dataclass(frozen=True, slots=True)
class ProviderIdentity:
    """Who the provider says signed in: `subject` is its stable id for the account."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    display_name: str


class ProviderRejectedError(Exception):
    """The provider refused the code, or its answer failed verification."""


class ProviderUnavailableError(Exception):
    """The provider could not be reached or failed on its side."""


class OAuthProvider(Protocol):
    name: str

    async def authorization_url(self, pending: PendingSignIn) -> str:
        """The provider's authorization URL for this sign-in."""
        ...

    async def identify(
        self, code: str, pending: PendingSignIn, *, callback_issuer: str
    ) -> ProviderIdentity:
        """Redeem the code (with the PKCE verifier) and verify who signed in."""
        ...


async def redeem_code(
    http: httpx.AsyncClient, token_url: str, form: Mapping[str, str]
) -> dict[str, Any]:
    """POST the token request; an OAuth error answer (4xx) means the code was rejected."""
    response = await _send(http, "POST", token_url, data=dict(form))
    body = _json_object(response)
    if response.status_code >= 400 or "access_token" not in body:
        raise ProviderRejectedError(
            f"token endpoint said {response.status_code} {body.get('error', '')}".strip()
        )
    return body


async def fetch_json(
    http: httpx.AsyncClient, url: str, *, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """GET a JSON document; 401/403 mean the credentials were refused."""
    response = await _send(http, "GET", url, headers=dict(headers or {}))
    if response.status_code in (401, 403):
        raise ProviderRejectedError(f"{url} refused the token ({response.status_code})")
    if response.status_code >= 400:
        raise ProviderUnavailableError(f"{url} answered {response.status_code}")
    return _json_object(response)


async def _send(http: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.HTTPError as error:
        raise ProviderUnavailableError(f"{method} {url}: {error!r}") from error
    if response.status_code >= 500:
        raise ProviderUnavailableError(f"{method} {url} answered {response.status_code}")
    return response


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as error:
        raise ProviderUnavailableError(f"{response.url} sent no JSON") from error
    if not isinstance(body, dict):
        raise ProviderUnavailableError(f"{response.url} sent JSON that is not an object")
    return body
