"""Sign-in with Yandex ID: OAuth 2.0 authorization code with PKCE, then login.yandex.ru/info.

Yandex issues no id_token: the identity is what `/info` answers for the access token just
redeemed, after checking that the token was issued to this client (`client_id`). Yandex does not
say whether an email was confirmed, so only addresses on the domains Yandex itself hosts
mailboxes for count as verified.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

import httpx

from services.auth.emails import normalise_email
from services.auth.oauth.providers import (
    ProviderIdentity,
    ProviderRejectedError,
    fetch_json,
    redeem_code,
)
from services.auth.oauth.state import PendingSignIn


class YandexProvider:
    name = "yandex"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        client_id: str,
        client_secret: str,
        authorize_url: str,
        token_url: str,
        info_url: str,
        scope: str,
        verified_email_domains: Iterable[str],
    ) -> None:
        self._http = http
        self._client_id = client_id
        self._client_secret = client_secret
        self._authorize_url = authorize_url
        self._token_url = token_url
        self._info_url = info_url
        self._scope = scope
        self._verified_domains = frozenset(d.lower() for d in verified_email_domains)

    async def authorization_url(self, pending: PendingSignIn) -> str:
        params = {
            "response_type": "code",
            "client_id": self._client_id,
            "redirect_uri": pending.redirect_uri,
            "state": pending.state,
            "code_challenge": pending.code_challenge,
            "code_challenge_method": "S256",
        }
        if self._scope:
            params["scope"] = self._scope
        return f"{self._authorize_url}?{urlencode(params)}"

    async def identify(
        self, code: str, pending: PendingSignIn, *, callback_issuer: str
    ) -> ProviderIdentity:
        tokens = await redeem_code(
            self._http,
            self._token_url,
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": pending.code_verifier,
                "client_id": self._client_id,
                "client_secret": self._client_secret,
            },
        )
        info = await fetch_json(
            self._http,
            f"{self._info_url}?format=json",
            headers={"Authorization": f"OAuth {tokens['access_token']}"},
        )
        if info.get("client_id") != self._client_id:
            raise ProviderRejectedError("the token was issued to another client")
        subject = info.get("id")
        if not isinstance(subject, str | int) or not str(subject):
            raise ProviderRejectedError("no user id in login.yandex.ru/info")
        email = info.get("default_email")
        email = email if isinstance(email, str) and "@" in email else None
        return ProviderIdentity(
            provider=self.name,
            subject=str(subject),
            email=email,
            email_verified=email is not None and self._hosted_by_yandex(email),
            display_name=str(info.get("real_name") or info.get("display_name") or ""),
        )

    def _hosted_by_yandex(self, email: str) -> bool:
        return normalise_email(email).rpartition("@")[2] in self._verified_domains
