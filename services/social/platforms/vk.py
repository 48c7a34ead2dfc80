"""VK adapter: a community's messages through the Callback API and `messages.send`.

Facts used (../shared/PLATFORMS.md section 2): the callback server's secret key arrives in the
body field `secret` and `group_id` names the community; the `confirmation` call is answered with
the community's confirmation string, every other call with plain `ok`; `event_id` is the
de-duplication key; DMs have `peer_id < 2000000000` and `from_id > 0`; `messages.send` drops a
repeated `random_id`, so a deterministic one makes sending idempotent; errors 6/9/10 are retried,
900/901/902 mean the user cannot be written to.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from services.social.platforms import fields
from services.social.platforms.adapter import SendLimits, WebhookAck
from services.social.platforms.http import call, json_body
from services.social.platforms.types import (
    AccountProfile,
    AttachmentKindName,
    AttachmentMeta,
    BlockedError,
    ConfirmationRequest,
    ContactEvent,
    Delivery,
    Ignored,
    InboundMessage,
    InvalidCredentialsError,
    InvalidPayloadError,
    OwnerMessage,
    PermanentError,
    PermissionMissingError,
    PlatformError,
    Profile,
    RetryLaterError,
    SentMessage,
    TransientError,
    Update,
)

API_VERSION = "5.199"
CHAT_PEER_OFFSET = 2_000_000_000
# messages.send refuses longer texts with error 914.
MAX_TEXT_UNITS = 4096
# A community token may make up to 20 requests per second.
LIMITS = SendLimits(
    per_chat_rate=1.0, per_chat_burst=3, per_account_rate=20.0, per_account_burst=20
)
# The events the callback server is subscribed to.
CALLBACK_EVENTS = ("message_new", "message_reply", "message_edit", "message_allow", "message_deny")
REQUIRED_RIGHTS = ("messages",)
SYNC_PAGE = 200

_RETRY_CODES = {6: 1.0, 9: 10.0}  # too many requests per second; flood control
_TRANSIENT_CODES = {10}  # internal server error
_BLOCKED_CODES = {900, 901, 902}  # blacklisted; messages not allowed; privacy settings
_AUTH_CODES = {5}

_ATTACHMENT_KINDS: dict[str, AttachmentKindName] = {
    "photo": "photo",
    "video": "video",
    "audio": "audio",
    "audio_message": "voice",
    "doc": "document",
    "sticker": "sticker",
    "graffiti": "sticker",
}


class VkClient:
    """VK API calls (`POST /method/<name>`, form parameters) over one shared client."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_base: str = "https://api.vk.com",
        version: str = API_VERSION,
    ) -> None:
        self._http = http
        self._base = api_base.rstrip("/")
        self._version = version

    async def own_community(self, token: str) -> AccountProfile:
        """The community the token belongs to (`groups.getById` without an id)."""
        response = await self._call(token, "groups.getById", {})
        groups = response.get("groups") if isinstance(response, dict) else response
        if not isinstance(groups, list) or not groups or not isinstance(groups[0], dict):
            raise TransientError("groups.getById returned no community")
        group = groups[0]
        return AccountProfile(
            platform_account_id=str(fields.integer(group, "id", "group")),
            username=fields.text(group, "screen_name"),
            display_name=fields.text(group, "name"),
        )

    async def require_rights(self, token: str, rights: Sequence[str]) -> None:
        """PermissionMissingError unless the token has every right named."""
        response = fields.optional_obj(await self._call(token, "groups.getTokenPermissions", {}))
        granted = {
            item.get("name") for item in response.get("permissions") or [] if isinstance(item, dict)
        }
        missing = tuple(right for right in rights if right not in granted)
        if missing:
            raise PermissionMissingError(
                f"the community token lacks: {', '.join(missing)}", missing=missing
            )

    async def add_callback_server(
        self, token: str, *, group_id: str, url: str, secret_key: str
    ) -> str:
        response = fields.optional_obj(
            await self._call(
                token,
                "groups.addCallbackServer",
                {"group_id": group_id, "url": url, "title": "inBeTwin", "secret_key": secret_key},
            )
        )
        return str(fields.integer(response, "server_id", "response"))

    async def set_callback_settings(self, token: str, *, group_id: str, server_id: str) -> None:
        params = {"group_id": group_id, "server_id": server_id, "api_version": self._version}
        params.update({event: "1" for event in CALLBACK_EVENTS})
        await self._call(token, "groups.setCallbackSettings", params)

    async def confirmation_code(self, token: str, *, group_id: str) -> str:
        response = fields.optional_obj(
            await self._call(token, "groups.getCallbackConfirmationCode", {"group_id": group_id})
        )
        code = fields.text(response, "code")
        if not code:
            raise TransientError("groups.getCallbackConfirmationCode returned no code")
        return code

    async def delete_callback_server(self, token: str, *, group_id: str, server_id: str) -> None:
        await self._call(
            token, "groups.deleteCallbackServer", {"group_id": group_id, "server_id": server_id}
        )

    async def send_message(
        self, token: str, *, peer_id: str, text: str, random_id: int
    ) -> SentMessage:
        response = await self._call(
            token,
            "messages.send",
            {"peer_id": peer_id, "random_id": str(random_id), "message": text},
        )
        if not isinstance(response, int) or isinstance(response, bool):
            raise TransientError("messages.send returned no message id")
        return SentMessage(platform_message_id=str(response), sent_at=datetime.now(UTC))

    async def conversations(
        self, token: str, *, group_id: str, offset: int, count: int = SYNC_PAGE
    ) -> dict[str, Any]:
        return fields.optional_obj(
            await self._call(
                token,
                "messages.getConversations",
                {
                    "group_id": group_id,
                    "offset": str(offset),
                    "count": str(count),
                    "extended": "1",
                    "fields": "screen_name,photo_100",
                },
            )
        )

    async def _call(self, token: str, method: str, params: dict[str, str]) -> Any:
        form = {**params, "access_token": token, "v": self._version}
        response = await call(
            self._http, "POST", f"{self._base}/method/{method}", platform="VK", data=form
        )
        body = json_body(response)
        if not isinstance(body, dict):
            raise TransientError(f"HTTP {response.status_code} without a VK API body")
        error = body.get("error")
        if isinstance(error, dict):
            raise api_error(error)
        if "response" not in body:
            raise TransientError("VK API body has neither response nor error")
        return body["response"]


def api_error(error: Mapping[str, Any]) -> PlatformError:
    code = error.get("error_code")
    message = error.get("error_msg")
    description = message if isinstance(message, str) and message else f"VK error {code}"
    if not isinstance(code, int) or isinstance(code, bool):
        return TransientError(description)
    description = f"{description} (error {code})"
    if code in _RETRY_CODES:
        return RetryLaterError(description, retry_after=_RETRY_CODES[code], status=0)
    if code in _TRANSIENT_CODES:
        return TransientError(description)
    if code in _BLOCKED_CODES:
        return BlockedError(description)
    if code in _AUTH_CODES:
        return InvalidCredentialsError(description)
    return PermanentError(description)


def random_id(idempotency_key: str) -> int:
    """A positive int32 derived from the outbound message id: a resend carries the same value."""
    digest = hashlib.sha256(idempotency_key.encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF or 1


class VkAdapter:
    """VK behind the common adapter interface."""

    platform = "vk"
    max_text_units = MAX_TEXT_UNITS
    idempotent_send = True
    limits = LIMITS
    ack = WebhookAck(content_type="text/plain", body=b"ok")

    def __init__(self, client: VkClient) -> None:
        self.client = client

    def verify(
        self, headers: Mapping[str, str], body: bytes, *, secret: str, account_id: str
    ) -> bool:
        return verify(body, secret=secret, group_id=account_id)

    def parse(self, body: bytes) -> Delivery:
        return Delivery(updates=(parse_event(body),))

    async def send_text(
        self, token: str, *, recipient_id: str, text: str, idempotency_key: str
    ) -> SentMessage:
        return await self.client.send_message(
            token, peer_id=recipient_id, text=text, random_id=random_id(idempotency_key)
        )

    async def contacts(
        self, token: str, *, account_id: str, known_user_ids: Sequence[str]
    ) -> AsyncIterator[Profile]:
        offset = 0
        while True:
            page = await self.client.conversations(token, group_id=account_id, offset=offset)
            items = page.get("items")
            if not isinstance(items, list) or not items:
                return
            for profile in conversation_profiles(page):
                yield profile
            offset += len(items)
            total = page.get("count")
            if not isinstance(total, int) or offset >= total:
                return


def conversation_profiles(page: Mapping[str, Any]) -> list[Profile]:
    """The users of one `messages.getConversations` page (extended), in the page's order."""
    profiles: dict[str, Profile] = {}
    for person in page.get("profiles") or []:
        if isinstance(person, dict) and isinstance(person.get("id"), int):
            profiles[str(person["id"])] = _person(person)
    found: list[Profile] = []
    for item in page.get("items") or []:
        peer = fields.optional_obj(fields.optional_obj(item).get("conversation")).get("peer")
        peer = fields.optional_obj(peer)
        peer_id = fields.optional_int(peer, "id")
        if peer.get("type") != "user" or peer_id is None or peer_id <= 0:
            continue
        key = str(peer_id)
        found.append(profiles.get(key, Profile(platform_user_id=key, display_name="", username="")))
    return found


def verify(body: bytes, *, secret: str, group_id: str) -> bool:
    """Whether the body carries the callback server's secret and this community's id."""
    if not secret:
        return False
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    if not isinstance(data, dict):
        return False
    supplied = data.get("secret")
    group = data.get("group_id")
    if not isinstance(supplied, str) or not isinstance(group, int) or isinstance(group, bool):
        return False
    secret_ok = hmac.compare_digest(supplied.encode(), secret.encode())
    return secret_ok and str(group) == group_id


def parse_event(body: bytes) -> Update:
    """Normalise one Callback API body; raises InvalidPayloadError when it is not one."""
    data = fields.load_object(body)
    kind = data.get("type")
    if not isinstance(kind, str) or not kind:
        raise InvalidPayloadError("type must be a string")
    event_id = data.get("event_id")
    # Every current delivery has `event_id`; older API versions did not, so fall back to the body.
    dedup_key = (
        event_id
        if isinstance(event_id, str) and event_id
        else "body:" + hashlib.sha256(body).hexdigest()
    )
    if kind == "confirmation":
        return ConfirmationRequest(dedup_key)
    if kind == "message_new":
        payload = fields.obj(data.get("object"), "object")
        # API >= 5.103 wraps the message with client_info; older versions send it bare.
        message = payload.get("message", payload)
        return _message(dedup_key, fields.obj(message, "object.message"), edited=False)
    if kind == "message_edit":
        return _message(dedup_key, fields.obj(data.get("object"), "object"), edited=True)
    if kind == "message_reply":
        return _reply(dedup_key, fields.obj(data.get("object"), "object"))
    if kind in ("message_allow", "message_deny"):
        payload = fields.obj(data.get("object"), "object")
        user_id = str(fields.integer(payload, "user_id", "object"))
        return ContactEvent(
            dedup_key=dedup_key,
            chat_id=user_id,
            sender=Profile(platform_user_id=user_id, display_name="", username=""),
            change="unblocked" if kind == "message_allow" else "blocked",
            occurred_at=datetime.now(UTC),
        )
    return Ignored(dedup_key, f"event type {kind!r} is not handled")


def _message(dedup_key: str, message: dict[str, Any], *, edited: bool) -> Update:
    peer_id = fields.integer(message, "peer_id", "message")
    from_id = fields.integer(message, "from_id", "message")
    if peer_id >= CHAT_PEER_OFFSET or peer_id <= 0:
        return Ignored(dedup_key, "not a one-to-one conversation")
    if from_id <= 0:
        return Ignored(dedup_key, "sent by a community")
    if message.get("out") == 1:
        return Ignored(dedup_key, "the community's own outgoing message")
    if isinstance(message.get("action"), dict):
        return Ignored(dedup_key, "service message")
    text = fields.text(message, "text")
    attachments = _attachments(message.get("attachments"))
    if not text and not attachments:
        return Ignored(dedup_key, "message has no text or supported attachment")
    message_id = fields.optional_int(message, "id") or 0
    if message_id <= 0:
        message_id = fields.integer(message, "conversation_message_id", "message")
    update_time = message.get("update_time")
    return InboundMessage(
        dedup_key=dedup_key,
        chat_id=str(peer_id),
        platform_message_id=str(message_id),
        sender=Profile(platform_user_id=str(from_id), display_name="", username=""),
        text=text,
        sent_at=fields.unix_time(message.get("date")),
        attachments=attachments,
        edited=edited,
        edited_at=fields.unix_time(update_time) if edited else None,
    )


def _reply(dedup_key: str, message: dict[str, Any]) -> Update:
    """The community's outgoing message: written by an admin in VK (`admin_author_id`), or sent
    through the API (the service's own sends, echoed back)."""
    admin = fields.optional_int(message, "admin_author_id")
    if not admin:
        return Ignored(dedup_key, "the community's own outgoing message")
    peer_id = fields.integer(message, "peer_id", "message")
    if peer_id >= CHAT_PEER_OFFSET or peer_id <= 0:
        return Ignored(dedup_key, "not a one-to-one conversation")
    message_id = fields.optional_int(message, "id") or fields.integer(
        message, "conversation_message_id", "message"
    )
    return OwnerMessage(
        dedup_key=dedup_key,
        chat_id=str(peer_id),
        platform_message_id=str(message_id),
        recipient=Profile(platform_user_id=str(peer_id), display_name="", username=""),
        text=fields.text(message, "text"),
        sent_at=fields.unix_time(message.get("date")),
        attachments=_attachments(message.get("attachments")),
    )


def _attachments(items: Any) -> tuple[AttachmentMeta, ...]:
    if not isinstance(items, list):
        return ()
    found: list[AttachmentMeta] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            continue
        kind_name: str = item["type"]
        body = fields.optional_obj(item.get(kind_name))
        kind = _ATTACHMENT_KINDS.get(kind_name, "other")
        if kind_name == "photo":
            found.append(_photo(body))
            continue
        found.append(
            AttachmentMeta(
                kind=kind,
                platform_type=kind_name,
                platform_file_id=_media_id(kind_name, body),
                file_name=fields.text(body, "title"),
                size_bytes=fields.positive_size(body, "size"),
                url=fields.https_url(body.get("url") or body.get("link_mp3")),
            )
        )
    return tuple(found)


def _photo(photo: dict[str, Any]) -> AttachmentMeta:
    sizes = [s for s in photo.get("sizes") or [] if isinstance(s, dict)]
    largest = max(
        sizes,
        key=lambda s: (
            (fields.optional_int(s, "width") or 0) * (fields.optional_int(s, "height") or 0)
        ),
        default={},
    )
    return AttachmentMeta(
        kind="photo",
        platform_type="photo",
        platform_file_id=_media_id("photo", photo),
        mime_type="image/jpeg",
        url=fields.https_url(largest.get("url")),
    )


def _media_id(kind: str, body: Mapping[str, Any]) -> str:
    """`photo<owner>_<id>[_<access_key>]`, the form `messages.send` takes as an attachment."""
    owner = fields.optional_int(body, "owner_id")
    item = fields.optional_int(body, "id")
    if owner is None or item is None:
        return ""
    key = fields.text(body, "access_key")
    return f"{kind}{owner}_{item}" + (f"_{key}" if key else "")


def _person(person: Mapping[str, Any]) -> Profile:
    name = " ".join(
        p for p in (fields.text(person, "first_name"), fields.text(person, "last_name")) if p
    )
    return Profile(
        platform_user_id=str(person["id"]),
        display_name=name,
        username=fields.text(person, "screen_name"),
        avatar_url=fields.https_url(person.get("photo_100")),
    )
