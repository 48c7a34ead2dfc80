"""A local MAX Bot API for tests: the real wire format, scriptable failures, recorded calls.

Auth is the `Authorization: <token>` header (no scheme). Implements GET /me, POST/GET/DELETE
/subscriptions, POST /messages?user_id= and GET /chats. Errors are `{code, message}` with the
HTTP status (401 `verify.token` as in the official sample, 403 for a user who stopped the bot,
429 `too.many.requests`). Towards a subscribed webhook it acts as MAX (`deliver`, with the
`X-Max-Bot-Api-Secret` header).

    with MaxStandIn() as max_api:
        token = max_api.add_bot(username="shop_bot")
        max_api.fail_next("POST /messages", status=429, code="too.many.requests")
        max_api.stop_bot(token, user_id=123456789)            # sends to that user get 403
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from tests.standins.server import HttpStandIn

MAX_TEXT_LENGTH = 4000


@dataclass(frozen=True, slots=True)
class SentMessage:
    token: str
    user_id: int
    text: str
    mid: str


@dataclass
class Subscription:
    url: str
    secret: str
    update_types: list[str]


@dataclass
class _Bot:
    token: str
    user_id: int
    username: str
    name: str
    subscriptions: list[Subscription] = field(default_factory=list)
    stopped_by: set[int] = field(default_factory=set)
    chats: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Failure:
    status: int
    code: str
    message: str
    retry_after: int | None


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


class MaxStandIn(HttpStandIn):
    """platform-api.max.ru on 127.0.0.1 (a free port), served from a background thread."""

    thread_name = "max-standin"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bots: dict[str, _Bot] = {}
        self._failures: dict[str, deque[_Failure]] = {}
        self._sent: list[SentMessage] = []
        self._calls: list[tuple[str, dict[str, str]]] = []
        self._bot_ids = itertools.count(229_229_229)
        self._seq = itertools.count(1)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    # ---- scripting --------------------------------------------------------------------------

    def add_bot(self, *, username: str = "test_bot", name: str = "Test Bot") -> str:
        bot_id = next(self._bot_ids)
        token = f"max-token-{bot_id}-{next(self._seq):06d}"
        with self._lock:
            self._bots[token] = _Bot(token, bot_id, username, name)
        return token

    def bot_id(self, token: str) -> int:
        with self._lock:
            return self._bots[token].user_id

    def revoke(self, token: str) -> None:
        with self._lock:
            self._bots.pop(token, None)

    def reissue(self, token: str) -> str:
        """The bot's token is replaced (the old one gets 401); its subscriptions stay."""
        with self._lock:
            bot = self._bots.pop(token)
            bot.token = f"max-token-{bot.user_id}-{next(self._seq):06d}"
            self._bots[bot.token] = bot
        return bot.token

    def stop_bot(self, token: str, *, user_id: int) -> None:
        """The user stopped (blocked) the bot: sends to them get 403."""
        with self._lock:
            self._bots[token].stopped_by.add(user_id)

    def add_dialog(self, token: str, chat: Mapping[str, Any]) -> None:
        """A chat `GET /chats` lists (use the `max_get_chat_dialog_response.json` shape)."""
        with self._lock:
            self._bots[token].chats.append(dict(chat))

    def fail_next(
        self,
        call: str,
        *,
        status: int,
        code: str,
        message: str = "",
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """`call` is `<METHOD> <path>`, e.g. `POST /messages`."""
        failure = _Failure(status, code, message or code, retry_after)
        with self._lock:
            self._failures.setdefault(call, deque()).extend([failure] * times)

    def subscription(self, token: str) -> Subscription | None:
        with self._lock:
            subscriptions = self._bots[token].subscriptions
            return subscriptions[-1] if subscriptions else None

    def calls(self, call: str | None = None) -> list[dict[str, str]]:
        with self._lock:
            return [params for name, params in self._calls if call in (None, name)]

    def sent_messages(self, user_id: int | None = None) -> list[SentMessage]:
        with self._lock:
            return [s for s in self._sent if user_id in (None, s.user_id)]

    async def deliver(
        self, token: str, update: Mapping[str, Any] | bytes, *, secret: str | None = None
    ) -> httpx.Response:
        """POST an update to the bot's webhook as MAX does (its secret header unless `secret`
        overrides it; an empty string sends none)."""
        hook = self.subscription(token)
        if hook is None:
            raise RuntimeError("the bot has no subscription")
        chosen = hook.secret if secret is None else secret
        headers = {"Content-Type": "application/json"}
        if chosen:
            headers["X-Max-Bot-Api-Secret"] = chosen
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        async with httpx.AsyncClient(timeout=10.0) as client:
            return await client.post(hook.url, content=body, headers=headers)

    # ---- the API ----------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], token: str, body: bytes) -> Any:
        call = f"{method} {path}"
        with self._lock:
            self._calls.append((call, query))
            bot = self._bots.get(token)
            if bot is None:
                raise ApiError(401, "verify.token", "Invalid access_token")
            failures = self._failures.get(call)
            if failures:
                failure = failures.popleft()
                raise ApiError(failure.status, failure.code, failure.message, failure.retry_after)
            payload = json.loads(body) if body else {}
            if call == "GET /me":
                return {
                    "user_id": bot.user_id,
                    "first_name": bot.name,
                    "username": bot.username,
                    "is_bot": True,
                    "last_activity_time": int(time.time() * 1000),
                    "name": bot.name,
                }
            if call == "POST /subscriptions":
                return self._subscribe(bot, payload)
            if call == "GET /subscriptions":
                return {
                    "subscriptions": [
                        {"url": s.url, "time": 0, "update_types": s.update_types}
                        for s in bot.subscriptions
                    ]
                }
            if call == "DELETE /subscriptions":
                bot.subscriptions = [s for s in bot.subscriptions if s.url != query.get("url")]
                return {"success": True}
            if call == "POST /messages":
                return self._send(bot, query, payload)
            if call == "GET /chats":
                count = int(query.get("count", "50"))
                start = int(query.get("marker", "0"))
                chats = bot.chats[start : start + count]
                marker = start + count if start + count < len(bot.chats) else None
                return {"chats": chats, "marker": marker}
            raise ApiError(404, "not.found", f"Path {path} not found")

    @staticmethod
    def _subscribe(bot: _Bot, payload: dict[str, Any]) -> Any:
        url = payload.get("url")
        secret = payload.get("secret", "")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return {"success": False, "message": "url is invalid"}
        if not isinstance(secret, str) or not 5 <= len(secret) <= 256:
            return {"success": False, "message": "secret is invalid"}
        bot.subscriptions = [s for s in bot.subscriptions if s.url != url]
        bot.subscriptions.append(Subscription(url, secret, list(payload.get("update_types", []))))
        return {"success": True}

    def _send(self, bot: _Bot, query: dict[str, str], payload: dict[str, Any]) -> Any:
        user = query.get("user_id")
        if user is None or not user.isdigit():
            raise ApiError(400, "proto.payload", "user_id or chat_id is required")
        user_id = int(user)
        text = payload.get("text")
        if not isinstance(text, str) or not text:
            raise ApiError(400, "proto.payload", "text is required")
        if len(text) > MAX_TEXT_LENGTH:
            raise ApiError(400, "proto.payload", "text: size must be between 0 and 4000")
        if user_id in bot.stopped_by:
            raise ApiError(403, "chat.denied", "dialog.suspended")
        mid = f"mid.{next(self._seq):032x}"
        self._sent.append(SentMessage(bot.token, user_id, text, mid))
        now = int(time.time() * 1000)
        return {
            "message": {
                "recipient": {"chat_id": user_id, "chat_type": "dialog", "user_id": user_id},
                "timestamp": now,
                "body": {"mid": mid, "seq": next(self._seq), "text": text},
                "sender": {"user_id": bot.user_id, "name": bot.name, "is_bot": True},
            }
        }


def _handler_for(standin: MaxStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def _serve(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            token = self.headers.get("Authorization") or ""
            try:
                answer = standin.handle(method, url.path, dict(parse_qsl(url.query)), token, body)
            except ApiError as error:
                extra = {}
                if error.retry_after is not None:
                    extra["Retry-After"] = str(error.retry_after)
                self._reply(error.status, {"code": error.code, "message": error.message}, extra)
                return
            self._reply(200, answer, {})

        def _reply(self, status: int, body: Any, extra: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
