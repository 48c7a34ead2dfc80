"""A local VK API and Callback API sender for tests: the real wire format, scriptable failures.

Speaks `POST /method/<name>` with form parameters (`access_token`, `v`) and answers
`{"response": ...}` or, with HTTP 200 as VK does, `{"error": {"error_code", "error_msg"}}`.
Implements groups.getById, groups.getTokenPermissions, groups.addCallbackServer,
groups.setCallbackSettings, groups.getCallbackConfirmationCode, groups.deleteCallbackServer,
messages.send (a repeated `random_id` to the same peer sends nothing and returns the first
message's id) and messages.getConversations. Towards a callback server it acts as VK: the
`confirmation` handshake and events carrying the server's `secret` and the `group_id`.

    with VkStandIn() as vk:
        token = vk.add_community(group_id=200982061, name="Shop")
        vk.fail_next("messages.send", error_code=6)
        vk.deny_messages(token, user_id=418618)          # sends to that user fail with 901
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from tests.standins.server import HttpStandIn

ERROR_MESSAGES = {
    5: "User authorization failed: invalid access_token (4).",
    6: "Too many requests per second",
    9: "Flood control",
    10: "Internal server error",
    15: "Access denied",
    100: "One of the parameters specified was missing or invalid",
    900: "Can't send messages for users from blacklist",
    901: "Can't send messages for users without permission",
    902: "Can't send messages to this user due to their privacy settings",
    914: "Message is too long",
}
CHAT_PEER_OFFSET = 2_000_000_000


@dataclass(frozen=True, slots=True)
class SentMessage:
    group_id: int
    peer_id: int
    text: str
    random_id: int
    message_id: int


@dataclass
class CallbackServer:
    server_id: int
    url: str
    secret_key: str
    settings: dict[str, str] = field(default_factory=dict)


@dataclass
class _Community:
    group_id: int
    name: str
    screen_name: str
    rights: tuple[str, ...]
    confirmation_code: str
    servers: dict[int, CallbackServer] = field(default_factory=dict)
    denied_users: set[int] = field(default_factory=set)
    conversations: list[dict[str, Any]] = field(default_factory=list)
    profiles: dict[int, dict[str, Any]] = field(default_factory=dict)


class ApiError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(ERROR_MESSAGES.get(code, f"error {code}"))
        self.code = code


class VkStandIn(HttpStandIn):
    """The VK API on 127.0.0.1 (a free port), served from a background thread."""

    thread_name = "vk-standin"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, _Community] = {}
        self._failures: dict[str, deque[int]] = {}
        self._sent: list[SentMessage] = []
        self._calls: list[tuple[str, dict[str, str]]] = []
        self._message_ids = itertools.count(1)
        self._server_ids = itertools.count(1)
        self._events = itertools.count(1)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    # ---- scripting --------------------------------------------------------------------------

    def add_community(
        self,
        *,
        group_id: int,
        name: str = "Test community",
        screen_name: str = "",
        rights: tuple[str, ...] = ("messages", "manage"),
        confirmation_code: str = "",
    ) -> str:
        """Register a community and return a community token for it."""
        token = f"vk1.a.community{group_id}-{next(self._message_ids)}"
        with self._lock:
            self._tokens[token] = _Community(
                group_id=group_id,
                name=name,
                screen_name=screen_name or f"club{group_id}",
                rights=rights,
                confirmation_code=confirmation_code or f"c{group_id:x}a1",
            )
        return token

    def revoke(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    def confirmation_code(self, token: str) -> str:
        with self._lock:
            return self._tokens[token].confirmation_code

    def deny_messages(self, token: str, user_id: int) -> None:
        """The user did not allow the community's messages: messages.send answers 901."""
        with self._lock:
            self._tokens[token].denied_users.add(user_id)

    def add_conversation(
        self,
        token: str,
        *,
        peer_id: int,
        first_name: str = "",
        last_name: str = "",
        screen_name: str = "",
    ) -> None:
        """A conversation messages.getConversations lists (a user, or a chat when >= 2e9)."""
        with self._lock:
            community = self._tokens[token]
            kind = "chat" if peer_id >= CHAT_PEER_OFFSET else "user"
            community.conversations.append(
                {
                    "conversation": {
                        "peer": {"id": peer_id, "type": kind, "local_id": peer_id},
                        "can_write": {"allowed": True},
                    },
                    "last_message": {"peer_id": peer_id, "from_id": peer_id, "text": "hi"},
                }
            )
            if kind == "user":
                community.profiles[peer_id] = {
                    "id": peer_id,
                    "first_name": first_name,
                    "last_name": last_name,
                    "screen_name": screen_name,
                    "photo_100": f"https://sun9-1.userapi.com/{peer_id}.jpg",
                }

    def fail_next(self, method: str, *, error_code: int, times: int = 1) -> None:
        with self._lock:
            self._failures.setdefault(method, deque()).extend([error_code] * times)

    def calls(self, method: str | None = None) -> list[dict[str, str]]:
        with self._lock:
            return [params for name, params in self._calls if method in (None, name)]

    def sent_messages(self, peer_id: int | None = None) -> list[SentMessage]:
        with self._lock:
            return [s for s in self._sent if peer_id is None or s.peer_id == peer_id]

    def callback_server(self, token: str) -> CallbackServer | None:
        with self._lock:
            servers = list(self._tokens[token].servers.values())
        return servers[-1] if servers else None

    # ---- acting as VK towards a callback server ---------------------------------------------

    async def confirm(self, url: str, *, group_id: int, secret: str) -> httpx.Response:
        """VK's `confirmation` call; the answer must be the confirmation string."""
        body = {"type": "confirmation", "group_id": group_id, "secret": secret}
        return await _post(url, json.dumps(body).encode())

    async def deliver(
        self,
        url: str,
        event: Mapping[str, Any],
        *,
        group_id: int,
        secret: str | None,
        event_id: str | None = None,
    ) -> httpx.Response:
        """POST one event as VK does: `group_id`, `event_id` and (unless None) `secret` set."""
        body = dict(event)
        body["group_id"] = group_id
        body["event_id"] = event_id or f"{next(self._events):040x}"
        if secret is not None:
            body["secret"] = secret
        else:
            body.pop("secret", None)
        return await _post(url, json.dumps(body).encode())

    # ---- the API ----------------------------------------------------------------------------

    def handle(self, method: str, params: dict[str, str]) -> Any:
        with self._lock:
            self._calls.append((method, params))
            community = self._tokens.get(params.get("access_token", ""))
            if community is None:
                raise ApiError(5)
            failures = self._failures.get(method)
            if failures:
                raise ApiError(failures.popleft())
            handler = getattr(self, "_api_" + method.replace(".", "_"), None)
            if handler is None:
                raise ApiError(100)
            return handler(community, params)

    def _api_groups_getById(self, community: _Community, params: dict[str, str]) -> Any:
        group = {
            "id": community.group_id,
            "name": community.name,
            "screen_name": community.screen_name,
            "is_closed": 0,
            "type": "group",
            "photo_200": f"https://sun9-1.userapi.com/g{community.group_id}.jpg",
        }
        return {"groups": [group], "profiles": []}

    def _api_groups_getTokenPermissions(self, community: _Community, params: dict[str, str]) -> Any:
        bits = {"manage": 262144, "messages": 4096, "photos": 4, "docs": 131072}
        return {
            "mask": sum(bits.get(right, 0) for right in community.rights),
            "permissions": [
                {"setting": bits.get(right, 0), "name": right} for right in community.rights
            ],
        }

    def _api_groups_addCallbackServer(self, community: _Community, params: dict[str, str]) -> Any:
        self._check_group(community, params)
        if "manage" not in community.rights:
            raise ApiError(15)
        server_id = next(self._server_ids)
        community.servers[server_id] = CallbackServer(
            server_id, params.get("url", ""), params.get("secret_key", "")
        )
        return {"server_id": server_id}

    def _api_groups_setCallbackSettings(self, community: _Community, params: dict[str, str]) -> Any:
        self._check_group(community, params)
        server = community.servers.get(int(params.get("server_id", "0")))
        if server is None:
            raise ApiError(100)
        server.settings = dict(params)
        return 1

    def _api_groups_getCallbackConfirmationCode(
        self, community: _Community, params: dict[str, str]
    ) -> Any:
        self._check_group(community, params)
        if "manage" not in community.rights:
            raise ApiError(15)
        return {"code": community.confirmation_code}

    def _api_groups_deleteCallbackServer(
        self, community: _Community, params: dict[str, str]
    ) -> Any:
        self._check_group(community, params)
        if community.servers.pop(int(params.get("server_id", "0")), None) is None:
            raise ApiError(100)
        return 1

    def _api_messages_send(self, community: _Community, params: dict[str, str]) -> Any:
        if "messages" not in community.rights:
            raise ApiError(15)
        try:
            peer_id = int(params["peer_id"])
            random_id = int(params["random_id"])
        except (KeyError, ValueError):
            raise ApiError(100) from None
        text = params.get("message", "")
        if not text:
            raise ApiError(100)
        if len(text) > 4096:
            raise ApiError(914)
        if peer_id in community.denied_users:
            raise ApiError(901)
        for earlier in self._sent:
            if (earlier.group_id, earlier.peer_id, earlier.random_id) == (
                community.group_id,
                peer_id,
                random_id,
            ):
                return earlier.message_id  # VK sends a repeated random_id once
        message_id = next(self._message_ids)
        self._sent.append(SentMessage(community.group_id, peer_id, text, random_id, message_id))
        return message_id

    def _api_messages_getConversations(self, community: _Community, params: dict[str, str]) -> Any:
        offset = int(params.get("offset", "0"))
        count = min(int(params.get("count", "20")), 200)
        items = community.conversations[offset : offset + count]
        result: dict[str, Any] = {"count": len(community.conversations), "items": items}
        if params.get("extended") == "1":
            peers = {item["conversation"]["peer"]["id"] for item in items}
            result["profiles"] = [p for uid, p in community.profiles.items() if uid in peers]
        return result

    @staticmethod
    def _check_group(community: _Community, params: dict[str, str]) -> None:
        if params.get("group_id") != str(community.group_id):
            raise ApiError(15)


async def _post(url: str, body: bytes) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10.0) as client:
        return await client.post(url, content=body, headers={"Content-Type": "application/json"})


def _handler_for(standin: VkStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            if not url.path.startswith("/method/"):
                self._reply(404, {"error": {"error_code": 3, "error_msg": "Unknown method"}})
                return
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            params = dict(parse_qsl(url.query))
            params.update(parse_qsl(raw.decode()))
            try:
                result = standin.handle(url.path.removeprefix("/method/"), params)
            except ApiError as error:
                self._reply(
                    200,
                    {
                        "error": {
                            "error_code": error.code,
                            "error_msg": str(error),
                            "request_params": [],
                        }
                    },
                )
                return
            self._reply(200, {"response": result})

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # tokens are in the request bodies

    return Handler
