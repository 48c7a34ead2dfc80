"""Local sign-in providers for tests: a Google-like OpenID Connect provider and a Yandex-like
OAuth 2.0 provider on one server, speaking the real wire formats.

Google (under `/google`, which is also its issuer): the discovery document
(`/.well-known/openid-configuration`), a JWKS of RS256 keys (`/oauth2/v3/certs`), the
authorization endpoint (`/o/oauth2/v2/auth`) and the token endpoint (`/token`) answering
`{"access_token", "expires_in", "scope", "token_type", "id_token"}` or
`{"error": "invalid_grant", "error_description": ...}`.

Yandex (under `/yandex`): `/authorize`, `/token` and `/info` (`Authorization: OAuth <token>`,
answering `{"id", "login", "client_id", "default_email", "emails", ...}`).

Both check what the real ones check at the token endpoint: the client's credentials (body or
HTTP Basic), that the code exists, is unused and unexpired, was issued to this client for this
redirect URI, and that `code_verifier` matches the S256 `code_challenge`. A code presented a
second time is refused (`invalid_grant`).

There is no consent screen: the "browser" (a test's HTTP client) names the signed-in account
with the stand-in's session cookie, as a browser signed in to the provider would carry one:

    with OidcStandIn(client_id="cid", client_secret="secret") as provider:
        alice = provider.add_google_user(email="alice@example.com")
        response = await client.get(authorization_url, headers=provider.browser_headers(alice))
        callback = response.headers["location"]   # redirect_uri?state=...&code=...
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.standins.server import HttpStandIn

SESSION_COOKIE = "standin_session"
CODE_LIFETIME_SECONDS = 600.0
ID_TOKEN_LIFETIME_SECONDS = 3600


@dataclass
class Account:
    """A person signed in at the provider."""

    provider: str
    subject: str
    email: str
    email_verified: bool = True
    name: str = "Test Person"
    login: str = ""
    # The user presses "Cancel" on the consent screen.
    denies: bool = False
    # Claims that override the genuine ones in this account's next id_tokens (attack cases).
    id_token_overrides: dict[str, Any] = field(default_factory=dict)
    # Sign id_tokens with a key the JWKS does not hold, under the current kid (a forgery).
    forge_signature: bool = False
    session: str = field(default_factory=lambda: secrets.token_urlsafe(16))


@dataclass
class _Code:
    account: Account
    client_id: str
    redirect_uri: str
    code_challenge: str
    code_challenge_method: str
    nonce: str
    scope: str
    expires_at: float
    used: bool = False


@dataclass(frozen=True, slots=True)
class _SigningKey:
    kid: str
    private: rsa.RSAPrivateKey


class OidcStandIn(HttpStandIn):
    """Google-like and Yandex-like providers on 127.0.0.1 (a free port), in a background thread."""

    thread_name = "oidc-standin"

    def __init__(self, *, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self._lock = threading.Lock()
        self._accounts: dict[str, Account] = {}
        self._codes: dict[str, _Code] = {}
        self._access_tokens: dict[str, tuple[Account, str]] = {}
        self._keys = [_new_key()]
        self._google_subjects = itertools.count(100_000_000_000_000_000_001)
        self._yandex_subjects = itertools.count(1_130_000_001)
        self.token_requests: list[dict[str, str]] = []
        self._token_failures: list[int] = []

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    # ---- addresses ------------------------------------------------------------------------

    @property
    def google_issuer(self) -> str:
        return f"{self.base_url}/google"

    @property
    def google_discovery_url(self) -> str:
        return f"{self.google_issuer}/.well-known/openid-configuration"

    @property
    def yandex_authorize_url(self) -> str:
        return f"{self.base_url}/yandex/authorize"

    @property
    def yandex_token_url(self) -> str:
        return f"{self.base_url}/yandex/token"

    @property
    def yandex_info_url(self) -> str:
        return f"{self.base_url}/yandex/info"

    # ---- scripting ------------------------------------------------------------------------

    def add_google_user(
        self, *, email: str, email_verified: bool = True, name: str = "Test Person"
    ) -> Account:
        subject = str(next(self._google_subjects))
        account = Account("google", subject, email, email_verified, name)
        with self._lock:
            self._accounts[account.session] = account
        return account

    def add_yandex_user(self, *, email: str, name: str = "Test Person") -> Account:
        login = email.partition("@")[0]
        subject = str(next(self._yandex_subjects))
        account = Account("yandex", subject, email, True, name, login)
        with self._lock:
            self._accounts[account.session] = account
        return account

    def browser_headers(self, account: Account) -> dict[str, str]:
        """The Cookie header of a browser signed in to the provider as `account`."""
        return {"Cookie": f"{SESSION_COOKIE}={account.session}"}

    def expire_codes(self) -> None:
        """Every code issued so far expires (as if its lifetime had passed)."""
        with self._lock:
            for code in self._codes.values():
                code.expires_at = 0.0

    def fail_token_requests(self, *, status: int, times: int = 1) -> None:
        """The next `times` token requests answer `status` (a provider outage)."""
        with self._lock:
            self._token_failures.extend([status] * times)

    def rotate_keys(self) -> str:
        """Sign with a new key from now on; the JWKS publishes it next to the old one."""
        key = _new_key()
        with self._lock:
            self._keys = [key, *self._keys[:1]]
        return key.kid

    # ---- protocol -------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        issuer = self.google_issuer
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/o/oauth2/v2/auth",
            "device_authorization_endpoint": f"{issuer}/device/code",
            "token_endpoint": f"{issuer}/token",
            "userinfo_endpoint": f"{issuer}/v1/userinfo",
            "revocation_endpoint": f"{issuer}/revoke",
            "jwks_uri": f"{issuer}/oauth2/v3/certs",
            "response_types_supported": ["code", "token", "id_token", "code id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": [
                "aud",
                "email",
                "email_verified",
                "exp",
                "iat",
                "iss",
                "name",
                "sub",
            ],
            "code_challenge_methods_supported": ["plain", "S256"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
        }

    def jwks(self) -> dict[str, Any]:
        with self._lock:
            keys = list(self._keys)
        published = []
        for key in keys:
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.private.public_key()))
            jwk.update({"kid": key.kid, "alg": "RS256", "use": "sig"})
            published.append(jwk)
        return {"keys": published}

    def authorize(self, provider: str, params: dict[str, str], session: str | None) -> str:
        """The Location the provider redirects the browser to (raises _RefusedError for a page)."""
        if params.get("client_id") != self.client_id:
            raise _RefusedError(400, "invalid_client: The OAuth client was not found.")
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri.startswith(("http://", "https://")):
            raise _RefusedError(400, "redirect_uri_mismatch")
        if params.get("response_type") != "code":
            raise _RefusedError(400, "unsupported_response_type")
        method = params.get("code_challenge_method", "plain")
        if method not in ("S256", "plain") or not params.get("code_challenge"):
            raise _RefusedError(400, "invalid_request: code_challenge")
        if provider == "google" and "openid" not in params.get("scope", "").split():
            raise _RefusedError(400, "invalid_scope")
        with self._lock:
            account = self._accounts.get(session or "")
        if account is None or account.provider != provider:
            raise _RefusedError(401, "not signed in at the provider")
        state = params.get("state", "")
        if account.denies:
            return _with_query(redirect_uri, {"error": "access_denied", "state": state})
        code = "4/0A" + secrets.token_urlsafe(40) if provider == "google" else secrets.token_hex(8)
        with self._lock:
            self._codes[code] = _Code(
                account=account,
                client_id=self.client_id,
                redirect_uri=redirect_uri,
                code_challenge=params["code_challenge"],
                code_challenge_method=method,
                nonce=params.get("nonce", ""),
                scope=params.get("scope", ""),
                expires_at=time.time() + CODE_LIFETIME_SECONDS,
            )
        if provider == "google":
            return _with_query(
                redirect_uri,
                {
                    "state": state,
                    "iss": self.google_issuer,
                    "code": code,
                    "scope": "email profile openid "
                    "https://www.googleapis.com/auth/userinfo.email "
                    "https://www.googleapis.com/auth/userinfo.profile",
                    "authuser": "0",
                    "prompt": "consent",
                },
            )
        return _with_query(
            redirect_uri, {"code": code, "state": state, "cid": secrets.token_hex(4)}
        )

    def token(
        self, provider: str, form: dict[str, str], basic: tuple[str, str] | None
    ) -> dict[str, Any]:
        """Answer a token request; raises _RefusedError with an OAuth error body."""
        with self._lock:
            self.token_requests.append({"provider": provider, **form})
            if self._token_failures:
                raise _RefusedError(self._token_failures.pop(0), "server_error", "Backend Error")
        client_id, client_secret = basic or (form.get("client_id"), form.get("client_secret"))
        if client_id != self.client_id or client_secret != self.client_secret:
            raise _RefusedError(401, "invalid_client", "The OAuth client was not found.")
        if form.get("grant_type") != "authorization_code":
            raise _RefusedError(400, "unsupported_grant_type", "Invalid grant_type")
        with self._lock:
            issued = self._codes.get(form.get("code", ""))
            if issued is None or issued.used:
                # RFC 6749 4.1.2: a code used twice is refused (and its tokens revoked).
                if issued is not None:
                    self._revoke_tokens_of(issued.account)
                raise _RefusedError(400, "invalid_grant", _message(provider, "not found"))
            issued.used = True
        if issued.expires_at <= time.time():
            raise _RefusedError(400, "invalid_grant", _message(provider, "expired"))
        if provider == "google" and form.get("redirect_uri") != issued.redirect_uri:
            raise _RefusedError(400, "redirect_uri_mismatch", "Bad Request")
        if not _pkce_matches(issued, form.get("code_verifier", "")):
            raise _RefusedError(400, "invalid_grant", _message(provider, "verifier"))
        access_token = ("ya29." if provider == "google" else "y0_") + secrets.token_urlsafe(32)
        with self._lock:
            self._access_tokens[access_token] = (issued.account, self.client_id)
        if provider == "yandex":
            return {
                "access_token": access_token,
                "expires_in": 31536000,
                "refresh_token": "1:" + secrets.token_urlsafe(24),
                "token_type": "bearer",
            }
        return {
            "access_token": access_token,
            "expires_in": 3599,
            "scope": issued.scope,
            "token_type": "Bearer",
            "id_token": self._id_token(issued),
        }

    def yandex_info(self, authorization: str | None) -> dict[str, Any]:
        scheme, _, token = (authorization or "").partition(" ")
        with self._lock:
            entry = self._access_tokens.get(token) if scheme == "OAuth" else None
        if entry is None:
            raise _RefusedError(401, "invalid_token", "Invalid token")
        account, client_id = entry
        first, _, last = account.name.partition(" ")
        return {
            "id": account.subject,
            "login": account.login,
            "client_id": client_id,
            "display_name": account.login,
            "real_name": account.name,
            "first_name": first,
            "last_name": last,
            "sex": None,
            "default_email": account.email,
            "emails": [account.email],
            "psuid": "1." + secrets.token_urlsafe(30),
        }

    def _id_token(self, issued: _Code) -> str:
        account = issued.account
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.google_issuer,
            "azp": self.client_id,
            "aud": self.client_id,
            "sub": account.subject,
            "email": account.email,
            "email_verified": account.email_verified,
            "at_hash": base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode(),
            "name": account.name,
            "given_name": account.name.partition(" ")[0],
            "family_name": account.name.partition(" ")[2],
            "iat": now,
            "exp": now + ID_TOKEN_LIFETIME_SECONDS,
        }
        if issued.nonce:
            claims["nonce"] = issued.nonce
        claims.update(account.id_token_overrides)
        with self._lock:
            key = self._keys[0]
        signer = _new_key().private if account.forge_signature else key.private
        return jwt.encode(claims, signer, algorithm="RS256", headers={"kid": key.kid})

    def _revoke_tokens_of(self, account: Account) -> None:
        for token in [t for t, (a, _) in self._access_tokens.items() if a is account]:
            del self._access_tokens[token]


class _RefusedError(Exception):
    def __init__(self, status: int, error: str, description: str = "") -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.description = description


def _message(provider: str, what: str) -> str:
    """The providers' own wording for a refused code."""
    if provider == "google":
        return "Bad Request" if what != "verifier" else "Invalid code verifier."
    return {
        "not found": "Code was not found or was revoked",
        "expired": "Code has expired",
        "verifier": "Code verifier is not valid",
    }[what]


def _pkce_matches(issued: _Code, verifier: str) -> bool:
    if not verifier:
        return False
    if issued.code_challenge_method == "plain":
        return secrets.compare_digest(verifier, issued.code_challenge)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return secrets.compare_digest(expected, issued.code_challenge)


def _new_key() -> _SigningKey:
    return _SigningKey(uuid.uuid4().hex, rsa.generate_private_key(65537, 2048))


def _with_query(uri: str, params: dict[str, str]) -> str:
    separator = "&" if urlsplit(uri).query else "?"
    return f"{uri}{separator}{urlencode(params)}"


def _handler_for(standin: OidcStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            params = dict(parse_qsl(url.query))
            try:
                if url.path == "/google/.well-known/openid-configuration":
                    self._json(200, standin.discovery())
                elif url.path == "/google/oauth2/v3/certs":
                    self._json(200, standin.jwks())
                elif url.path in ("/google/o/oauth2/v2/auth", "/yandex/authorize"):
                    provider = url.path.split("/")[1]
                    location = standin.authorize(provider, params, self._session())
                    self._redirect(location)
                elif url.path == "/yandex/info":
                    self._json(200, standin.yandex_info(self.headers.get("Authorization")))
                else:
                    self._json(404, {"error": "not_found"})
            except _RefusedError as refused:
                self._json(refused.status, _error_body(refused))

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            if url.path not in ("/google/token", "/yandex/token"):
                self._json(404, {"error": "not_found"})
                return
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if content_type != "application/x-www-form-urlencoded":
                self._json(400, {"error": "invalid_request"})
                return
            try:
                answer = standin.token(url.path.split("/")[1], dict(parse_qsl(body)), self._basic())
            except _RefusedError as refused:
                self._json(refused.status, _error_body(refused))
                return
            self._json(200, answer)

        def _session(self) -> str | None:
            for part in (self.headers.get("Cookie") or "").split(";"):
                name, _, value = part.strip().partition("=")
                if name == SESSION_COOKIE:
                    return value
            return None

        def _basic(self) -> tuple[str, str] | None:
            scheme, _, encoded = (self.headers.get("Authorization") or "").partition(" ")
            if scheme.lower() != "basic":
                return None
            user, _, password = base64.b64decode(encoded).decode().partition(":")
            return user, password

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def _redirect(self, location: str) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # codes and tokens are in the request lines

    return Handler


def _error_body(refused: _RefusedError) -> dict[str, Any]:
    body = {"error": refused.error}
    if refused.description:
        body["error_description"] = refused.description
    return body
