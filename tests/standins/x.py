"""A local X API v2 for tests: OAuth 2.0 with PKCE, users/me, Account Activity subscriptions,
DM sending and DM event lookup, plus acting as X towards the app's webhook (CRC and signed
deliveries). Errors are X's `Problem` JSON; 429 carries `x-rate-limit-*` headers.

    with XStandIn(client_id="cid", client_secret="csecret", consumer_secret="api-secret") as x:
        user = x.add_user(username="shop", name="Shop")
        redirect = x.approve(authorization_url, user)        # the user clicks "Authorize app"
        x.fail_next_send(status=429, reset_in=5)
        x.block(user, "3001969357")                          # DMs to that user get 403
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import httpx

from tests.standins.server import HttpStandIn

SCOPES = ("dm.read", "dm.write", "tweet.read", "users.read", "offline.access")


@dataclass
class User:
    user_id: str
    username: str
    name: str
    blocked_by: set[str] = field(default_factory=set)
    dm_events: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SentDm:
    sender_id: str
    participant_id: str
    text: str
    dm_event_id: str


@dataclass
class _Grant:
    user_id: str
    scopes: tuple[str, ...]
    redirect_uri: str
    challenge: str


@dataclass
class _Failure:
    status: int
    title: str
    reset_in: int = 0


class ApiError(Exception):
    def __init__(self, status: int, title: str, detail: str = "", reset_in: int = 0) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.detail = detail or title
        self.reset_in = reset_in


class XStandIn(HttpStandIn):
    """api.x.com on 127.0.0.1 (a free port), served from a background thread."""

    thread_name = "x-standin"

    def __init__(self, *, client_id: str, client_secret: str, consumer_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.consumer_secret = consumer_secret
        self._lock = threading.Lock()
        self._users: dict[str, User] = {}
        self._codes: dict[str, _Grant] = {}
        self._access: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._refresh: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._webhooks: dict[str, str] = {}
        self._subscriptions: dict[str, set[str]] = {}
        self._sent: list[SentDm] = []
        self._send_failures: deque[_Failure] = deque()
        self._token_calls: list[dict[str, str]] = []
        self._ids = itertools.count(1_900_000_000_000_000_001)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    @property
    def authorize_url(self) -> str:
        return f"{self.base_url}/i/oauth2/authorize"

    # ---- scripting --------------------------------------------------------------------------

    def add_user(self, *, username: str, name: str, user_id: str = "") -> str:
        user_id = user_id or str(next(self._ids))
        with self._lock:
            self._users[user_id] = User(user_id, username, name)
        return user_id

    def register_webhook(self, url: str) -> str:
        """What the operator does once (POST /2/webhooks); returns X's webhook id."""
        webhook_id = str(next(self._ids))
        with self._lock:
            self._webhooks[webhook_id] = url
            self._subscriptions[webhook_id] = set()
        return webhook_id

    def subscribed(self, webhook_id: str) -> set[str]:
        with self._lock:
            return set(self._subscriptions.get(webhook_id, set()))

    def unsubscribe(self, webhook_id: str, user_id: str) -> None:
        """The account's subscription to the app's webhook ends (X stops sending its events)."""
        with self._lock:
            self._subscriptions.get(webhook_id, set()).discard(user_id)

    def approve(
        self, authorization_url: str, user_id: str, *, scopes: tuple[str, ...] | None = None
    ) -> dict[str, str]:
        """The user authorises the app: returns the redirect's query (`code`, `state`)."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorization_url).query).items()}
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            raise ValueError("not an authorization request for this client")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            raise ValueError("PKCE S256 is required")
        wanted = tuple(query.get("scope", "").split())
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Grant(
                user_id,
                scopes if scopes is not None else wanted,
                query["redirect_uri"],
                query["code_challenge"],
            )
        return {"code": code, "state": query.get("state", "")}

    def revoke_access(self, access_token: str) -> None:
        """The access token stops working before its expiry (calls get 401)."""
        with self._lock:
            self._access.pop(access_token, None)

    def access_tokens(self, user_id: str) -> list[str]:
        with self._lock:
            return [token for token, (uid, _) in self._access.items() if uid == user_id]

    def token_calls(self) -> list[dict[str, str]]:
        with self._lock:
            return list(self._token_calls)

    def block(self, user_id: str, by_user_id: str) -> None:
        """`by_user_id` blocked `user_id`: DMs from `user_id` to them get 403."""
        with self._lock:
            self._users[user_id].blocked_by.add(by_user_id)

    def fail_next_send(self, *, status: int, title: str = "", reset_in: int = 0) -> None:
        with self._lock:
            self._send_failures.append(
                _Failure(
                    status, title or ("Too Many Requests" if status == 429 else "Error"), reset_in
                )
            )

    def add_dm_event(self, user_id: str, event: dict[str, Any]) -> None:
        """A DM event GET /2/dm_events returns for this user (newest first, as added)."""
        with self._lock:
            self._users[user_id].dm_events.insert(0, event)

    def sent(self, participant_id: str | None = None) -> list[SentDm]:
        with self._lock:
            return [s for s in self._sent if participant_id in (None, s.participant_id)]

    # ---- acting as X towards the webhook ----------------------------------------------------

    def signature(self, body: bytes) -> str:
        digest = hmac.new(self.consumer_secret.encode(), body, hashlib.sha256).digest()
        return "sha256=" + base64.b64encode(digest).decode()

    async def deliver(
        self, url: str, body: bytes, *, signature: str | None = None
    ) -> httpx.Response:
        headers = {
            "Content-Type": "application/json",
            "X-Twitter-Webhooks-Signature": self.signature(body)
            if signature is None
            else signature,
        }
        async with httpx.AsyncClient(timeout=10.0) as client:
            return await client.post(url, content=body, headers=headers)

    async def crc(self, url: str, crc_token: str) -> httpx.Response:
        async with httpx.AsyncClient(timeout=10.0) as client:
            return await client.get(url, params={"crc_token": crc_token, "nonce": "n0nce"})

    def expected_crc(self, crc_token: str) -> str:
        return self.signature(crc_token.encode())

    # ---- the API ----------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        with self._lock:
            if method == "POST" and path == "/2/oauth2/token":
                return 200, self._token(headers, dict(parse_qsl(body.decode())))
            user_id, scopes = self._bearer(headers)
            user = self._users[user_id]
            if method == "GET" and path == "/2/users/me":
                return 200, {"data": self._user_json(user)}
            parts = path.strip("/").split("/")
            if method == "POST" and parts[:3] == ["2", "account_activity", "webhooks"]:
                if len(parts) != 6 or parts[4:] != ["subscriptions", "all"]:
                    raise ApiError(404, "Not Found")
                if parts[3] not in self._subscriptions:
                    raise ApiError(404, "Not Found", "webhook not found")
                self._require(scopes, "dm.read")
                self._subscriptions[parts[3]].add(user_id)
                return 200, {"data": {"subscribed": True}}
            if method == "POST" and parts[:3] == ["2", "dm_conversations", "with"]:
                self._require(scopes, "dm.write")
                return 201, self._send(user, parts[3], json.loads(body or b"{}"))
            if method == "GET" and path == "/2/dm_events":
                self._require(scopes, "dm.read")
                return 200, self._dm_events(user, query)
            raise ApiError(404, "Not Found")

    def _token(self, headers: dict[str, str], form: dict[str, str]) -> dict[str, Any]:
        self._token_calls.append({k: v for k, v in form.items() if k == "grant_type"})
        client_id = form.get("client_id", "")
        auth = headers.get("authorization", "")
        if auth.startswith("Basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            if secret != self.client_secret:
                raise ApiError(401, "unauthorized_client", "Missing valid authorization header")
        if client_id != self.client_id:
            raise ApiError(401, "unauthorized_client", "Missing valid authorization header")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            pending = self._codes.pop(form.get("code", ""), None)
            if pending is None or pending.redirect_uri != form.get("redirect_uri"):
                raise ApiError(
                    400, "invalid_request", "Value passed for the authorization code was invalid."
                )
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            if challenge.decode().rstrip("=") != pending.challenge:
                raise ApiError(400, "invalid_request", "code_verifier does not match")
            return self._issue(pending.user_id, pending.scopes)
        if grant == "refresh_token":
            known = self._refresh.pop(form.get("refresh_token", ""), None)
            if known is None:
                raise ApiError(400, "invalid_request", "Value passed for the token was invalid.")
            return self._issue(*known)
        raise ApiError(400, "invalid_request", "unsupported grant_type")

    def _issue(self, user_id: str, scopes: tuple[str, ...]) -> dict[str, Any]:
        access = "xa-" + secrets.token_urlsafe(24)
        self._access[access] = (user_id, scopes)
        answer: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": access,
            "scope": " ".join(scopes),
        }
        if "offline.access" in scopes:
            refresh = "xr-" + secrets.token_urlsafe(24)
            self._refresh[refresh] = (user_id, scopes)  # rotated: the old one is gone
            answer["refresh_token"] = refresh
        return answer

    def _bearer(self, headers: dict[str, str]) -> tuple[str, tuple[str, ...]]:
        auth = headers.get("authorization", "")
        known = (
            self._access.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
        )
        if known is None:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        return known

    @staticmethod
    def _require(scopes: tuple[str, ...], scope: str) -> None:
        if scope not in scopes:
            raise ApiError(403, "Forbidden", f"missing scope {scope}")

    def _send(self, user: User, participant_id: str, body: dict[str, Any]) -> dict[str, Any]:
        if self._send_failures:
            failure = self._send_failures.popleft()
            raise ApiError(failure.status, failure.title, reset_in=failure.reset_in)
        text = body.get("text")
        if not isinstance(text, str) or not text:
            raise ApiError(400, "Invalid Request", "text is required")
        if participant_id in user.blocked_by:
            raise ApiError(403, "Forbidden", "You are not permitted to send messages to this user.")
        event_id = str(next(self._ids))
        self._sent.append(SentDm(user.user_id, participant_id, text, event_id))
        low, high = sorted((user.user_id, participant_id), key=int)
        return {"data": {"dm_conversation_id": f"{low}-{high}", "dm_event_id": event_id}}

    def _dm_events(self, user: User, query: dict[str, str]) -> dict[str, Any]:
        size = int(query.get("max_results", "100"))
        start = int(query.get("pagination_token", "0") or "0")
        page = user.dm_events[start : start + size]
        senders = {str(e.get("sender_id")) for e in page}
        partners: set[str] = set()
        for event in page:
            conversation = str(event.get("dm_conversation_id", ""))
            partners.update(conversation.split("-"))
        users = [
            self._user_json(self._users[uid])
            for uid in sorted((senders | partners) & set(self._users))
        ]
        meta: dict[str, Any] = {"result_count": len(page)}
        if start + size < len(user.dm_events):
            meta["next_token"] = str(start + size)
        return {"data": page, "includes": {"users": users}, "meta": meta}

    @staticmethod
    def _user_json(user: User) -> dict[str, Any]:
        return {
            "id": user.user_id,
            "name": user.name,
            "username": user.username,
            "profile_image_url": f"https://pbs.twimg.com/profile_images/{user.user_id}_normal.jpg",
        }


def _handler_for(standin: XStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                status, answer = standin.handle(
                    method, url.path, dict(parse_qsl(url.query)), headers, body
                )
            except ApiError as error:
                extra = {}
                if error.status == 429:
                    extra = {
                        "x-rate-limit-limit": "15",
                        "x-rate-limit-remaining": "0",
                        "x-rate-limit-reset": str(int(time.time()) + error.reset_in),
                    }
                problem = {
                    "title": error.title,
                    "detail": error.detail,
                    "type": "about:blank",
                    "status": error.status,
                }
                if error.title in ("invalid_request", "unauthorized_client"):
                    problem = {"error": error.title, "error_description": error.detail}
                self._reply(error.status, problem, "application/problem+json", extra)
                return
            self._reply(status, answer, "application/json", {})

        def _reply(self, status: int, body: Any, content_type: str, extra: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def callback_url(redirect_uri: str, answer: dict[str, str]) -> str:
    """The URL X sends the browser back to."""
    return f"{redirect_uri}?{urlencode(answer)}"
