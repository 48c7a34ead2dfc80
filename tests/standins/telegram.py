"""A local Telegram Bot API for tests: the real wire format, scriptable failures, recorded calls.

Speaks `POST /bot<token>/<method>` with JSON, form or query parameters and answers
`{"ok":true,"result":...}` or `{"ok":false,"error_code":...,"description":...,"parameters":...}`
with the HTTP status equal to `error_code`, as api.telegram.org does. Implements getMe,
setWebhook, deleteWebhook, getWebhookInfo, getChat (for users added with `add_user`),
getUpdates (long polling over updates queued with `queue_update`; 409 while a webhook is set or
another getUpdates of the bot is running, as Telegram does) and sendMessage, and can act as Telegram towards a
registered webhook (`deliver_update`, with the `X-Telegram-Bot-Api-Secret-Token` header).

    with TelegramStandIn() as telegram:
        token = telegram.add_bot(username="shop_bot")
        telegram.fail_next("sendMessage", error_code=429, retry_after=3)
        telegram.block_chat(token, 1111111)
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from tests.standins.server import HttpStandIn

_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)$")
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT_LENGTH = 4096
BLOCKED = "Forbidden: bot was blocked by the user"


@dataclass(frozen=True, slots=True)
class Call:
    """One API request as the stand-in received it."""

    token: str
    method: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SentText:
    """A message a bot sent with sendMessage."""

    token: str
    chat_id: int | str
    text: str
    message_id: int


@dataclass(frozen=True, slots=True)
class Failure:
    error_code: int
    description: str
    retry_after: int | None = None


@dataclass
class Webhook:
    url: str
    secret_token: str
    allowed_updates: list[str] | None


@dataclass
class _Bot:
    token: str
    bot_id: int
    username: str
    first_name: str
    webhook: Webhook | None = None
    blocked_chats: set[str] = field(default_factory=set)
    pending_updates: list[dict[str, Any]] = field(default_factory=list)
    confirmed_offset: int = 0
    polling: bool = False
    conflicts: int = 0


class ApiError(Exception):
    def __init__(self, error_code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after


class TelegramStandIn(HttpStandIn):
    """The Bot API on 127.0.0.1 (a free port), served from a background thread."""

    thread_name = "telegram-standin"

    def __init__(self, *, require_https: bool = False) -> None:
        self._require_https = require_https
        self._lock = threading.Lock()
        self._bots: dict[str, _Bot] = {}
        self._calls: list[Call] = []
        self._sent: list[SentText] = []
        self._failures: dict[str, deque[Failure]] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._bot_ids = itertools.count(7_000_000_001)
        self._message_ids = itertools.count(1)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    def add_bot(self, *, username: str = "inbetwin_test_bot", first_name: str = "Test Bot") -> str:
        """Register a bot and return its token (`<bot id>:<secret>`, as @BotFather issues)."""
        with self._lock:
            bot_id = next(self._bot_ids)
            token = f"{bot_id}:AAH{bot_id:x}_stand-in-secret"
            self._bots[token] = _Bot(token, bot_id, username, first_name)
        return token

    def add_user(
        self, chat_id: int, *, first_name: str, last_name: str = "", username: str = ""
    ) -> None:
        """A Telegram user that getChat describes (their private chat id is their user id)."""
        chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": first_name}
        if last_name:
            chat["last_name"] = last_name
        if username:
            chat["username"] = username
        with self._lock:
            self._users[str(chat_id)] = chat

    def queue_update(self, token: str, update: Mapping[str, Any]) -> None:
        """An update for getUpdates to return until an offset above its id confirms it."""
        with self._lock:
            self._bots[token].pending_updates.append(dict(update))

    def confirmed_offset(self, token: str) -> int:
        """The highest `offset` a getUpdates call sent (every update below it is confirmed)."""
        with self._lock:
            return self._bots[token].confirmed_offset

    def poll_conflicts(self, token: str) -> int:
        """How many getUpdates calls overlapped another one of the same bot."""
        with self._lock:
            return self._bots[token].conflicts

    def revoke(self, token: str) -> None:
        """The token stops working (as after /revoke in @BotFather): calls get 401."""
        with self._lock:
            self._bots.pop(token, None)

    def reissue(self, token: str) -> str:
        """/revoke in @BotFather: the old token stops working, the same bot gets a new one."""
        with self._lock:
            bot = self._bots.pop(token)
            bot.token = f"{bot.bot_id}:AAH{next(self._bot_ids):x}_reissued-secret"
            self._bots[bot.token] = bot
        return bot.token

    def block_chat(self, token: str, chat_id: int | str) -> None:
        with self._lock:
            self._bots[token].blocked_chats.add(str(chat_id))

    def unblock_chat(self, token: str, chat_id: int | str) -> None:
        with self._lock:
            self._bots[token].blocked_chats.discard(str(chat_id))

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str = "",
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` fail with this error (429 gets retry_after)."""
        if not description:
            description = (
                f"Too Many Requests: retry after {retry_after or 1}"
                if error_code == 429
                else HTTPStatus(error_code).phrase
            )
        if error_code == 429 and retry_after is None:
            retry_after = 1
        with self._lock:
            queue = self._failures.setdefault(method, deque())
            queue.extend(Failure(error_code, description, retry_after) for _ in range(times))

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def sent_messages(self, chat_id: int | str | None = None) -> list[SentText]:
        with self._lock:
            return [s for s in self._sent if chat_id is None or str(s.chat_id) == str(chat_id)]

    def webhook(self, token: str) -> Webhook | None:
        with self._lock:
            bot = self._bots.get(token)
            return bot.webhook if bot else None

    async def deliver_update(
        self,
        token: str,
        update: Mapping[str, Any] | bytes,
        *,
        secret_token: str | None = None,
    ) -> httpx.Response:
        """POST an update to the bot's webhook as Telegram does (secret header included unless
        `secret_token` overrides it; pass an empty string to send none)."""
        hook = self.webhook(token)
        if hook is None:
            raise RuntimeError("the bot has no webhook")
        secret = hook.secret_token if secret_token is None else secret_token
        headers = {"Content-Type": "application/json"}
        if secret:
            headers[_SECRET_HEADER] = secret
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        async with httpx.AsyncClient(timeout=10.0) as client:
            return await client.post(hook.url, content=body, headers=headers)

    def handle(self, token: str, method: str, params: dict[str, Any]) -> Any:
        """Answer one API call; raises ApiError for an error response."""
        if method == "getUpdates":
            return self._get_updates(token, params)
        return self._handle(token, method, params)

    def _get_updates(self, token: str, params: dict[str, Any]) -> Any:
        """A long poll: answers at once when updates are pending, else when one arrives or the
        `timeout` (seconds) runs out. The lock is not held while waiting."""
        first = self._handle(token, "getUpdates", params)
        if first or not isinstance(first, list):
            return first
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 50.0)
        try:
            while time.monotonic() < deadline:
                time.sleep(0.02)
                with self._lock:
                    bot = self._bots.get(token)
                    if bot is None:
                        raise ApiError(401, "Unauthorized")
                    found = self._pending(bot, int(params.get("offset") or 0))
                if found:
                    return found
            return []
        finally:
            with self._lock:
                bot = self._bots.get(token)
                if bot is not None:
                    bot.polling = False

    def _handle(self, token: str, method: str, params: dict[str, Any]) -> Any:
        with self._lock:
            self._calls.append(Call(token, method, params))
            bot = self._bots.get(token)
            if bot is None:
                raise ApiError(401, "Unauthorized")
            failures = self._failures.get(method)
            if failures:
                failure = failures.popleft()
                raise ApiError(failure.error_code, failure.description, failure.retry_after)
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            return handler(bot, params)

    def _api_getMe(self, bot: _Bot, params: dict[str, Any]) -> Any:
        return {
            "id": bot.bot_id,
            "is_bot": True,
            "first_name": bot.first_name,
            "username": bot.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _api_setWebhook(self, bot: _Bot, params: dict[str, Any]) -> Any:
        url = params.get("url")
        if not isinstance(url, str):
            raise ApiError(400, "Bad Request: url is required")
        if not url:
            bot.webhook = None
            return True
        if self._require_https and not url.startswith("https://"):
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        secret = params.get("secret_token", "")
        if not isinstance(secret, str) or (secret and not _SECRET_TOKEN.match(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, str):
            allowed = json.loads(allowed)
        previous = bot.webhook.allowed_updates if bot.webhook else None
        bot.webhook = Webhook(url, secret, list(allowed) if allowed is not None else previous)
        return True

    def _api_deleteWebhook(self, bot: _Bot, params: dict[str, Any]) -> Any:
        bot.webhook = None
        return True

    def _api_getWebhookInfo(self, bot: _Bot, params: dict[str, Any]) -> Any:
        info: dict[str, Any] = {
            "url": bot.webhook.url if bot.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }
        if bot.webhook is not None:
            info["max_connections"] = 40
            if bot.webhook.allowed_updates is not None:
                info["allowed_updates"] = bot.webhook.allowed_updates
        return info

    def _api_getUpdates(self, bot: _Bot, params: dict[str, Any]) -> Any:
        if bot.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if bot.polling:
            bot.conflicts += 1
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        offset = int(params.get("offset") or 0)
        found = self._pending(bot, offset)
        if not found:
            bot.polling = True  # held open by _get_updates, which clears it
        return found

    @staticmethod
    def _pending(bot: _Bot, offset: int) -> list[dict[str, Any]]:
        if offset:
            bot.confirmed_offset = max(bot.confirmed_offset, offset)
            bot.pending_updates = [u for u in bot.pending_updates if u["update_id"] >= offset]
        return [dict(u) for u in bot.pending_updates[:100]]

    def _api_getChat(self, bot: _Bot, params: dict[str, Any]) -> Any:
        chat = self._users.get(str(params.get("chat_id")))
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if str(chat["id"]) in bot.blocked_chats:
            raise ApiError(403, BLOCKED)
        return dict(chat)

    def _api_sendMessage(self, bot: _Bot, params: dict[str, Any]) -> Any:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, str) and re.fullmatch(r"-?\d+", chat_id):
            chat_id = int(chat_id)
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise ApiError(400, "Bad Request: chat not found")
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > MAX_TEXT_LENGTH:
            raise ApiError(400, "Bad Request: message is too long")
        if str(chat_id) in bot.blocked_chats:
            raise ApiError(403, BLOCKED)
        message_id = next(self._message_ids)
        self._sent.append(SentText(bot.token, chat_id, text, message_id))
        return {
            "message_id": message_id,
            "from": {
                "id": bot.bot_id,
                "is_bot": True,
                "first_name": bot.first_name,
                "username": bot.username,
            },
            "chat": {"id": chat_id, "type": "private"},
            "date": int(time.time()),
            "text": text,
        }


def _handler_for(standin: TelegramStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            url = urlsplit(self.path)
            match = _PATH.match(url.path)
            if match is None:
                self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                return
            try:
                params = self._params(url.query)
            except ValueError:
                self._reply(400, _error_body(ApiError(400, "Bad Request: can't parse request")))
                return
            try:
                result = standin.handle(match["token"], match["method"], params)
            except ApiError as error:
                self._reply(error.error_code, _error_body(error))
                return
            self._reply(200, {"ok": True, "result": result})

        def _params(self, query: str) -> dict[str, Any]:
            params: dict[str, Any] = dict(parse_qsl(query))
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if not raw:
                return params
            if content_type == "application/json":
                body = json.loads(raw)
                if not isinstance(body, dict):
                    raise ValueError("JSON body is not an object")
                params.update(body)
            elif content_type == "application/x-www-form-urlencoded":
                params.update(parse_qsl(raw.decode()))
            else:
                raise ValueError(f"unsupported content type {content_type!r}")
            return params

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # tokens are in the request line

    return Handler


def _error_body(error: ApiError) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ok": False,
        "error_code": error.error_code,
        "description": error.description,
    }
    if error.retry_after is not None:
        body["parameters"] = {"retry_after": error.retry_after}
    return body
