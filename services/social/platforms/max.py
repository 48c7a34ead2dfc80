"""MAX Bot API adapter (platform-api.max.ru).

Facts used (../shared/PLATFORMS.md section 4): the token goes in the `Authorization` header
as is; the webhook secret arrives in `X-Max-Bot-Api-Secret`; webhook bodies have no update id, so
the key is the message `mid` with the update type (plus the update's time for edits, which keep
the `mid`), `callback_id` for button presses, and type, chat, user and time otherwise; DMs have
`recipient.chat_type == "dialog"`; `bot_stopped` is the user blocking the bot; sending is
`POST /messages?user_id=`; errors are `{code, message}` with the HTTP status.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import AsyncIterator, Mapping, Sequence
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
    ContactEvent,
    Delivery,
    Ignored,
    InboundMessage,
    InvalidCredentialsError,
    InvalidPayloadError,
    MessageRemoved,
    PermanentError,
    PlatformError,
    Profile,
    RetryLaterError,
    SentMessage,
    TransientError,
    Update,
)

SECRET_HEADER = "x-max-bot-api-secret"  # noqa: S105 - a header name
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{5,256}$")
UPDATE_TYPES = (
    "message_created",
    "message_edited",
    "message_removed",
    "bot_started",
    "bot_stopped",
)
MAX_TEXT_UNITS = 4000
# 30 requests per second to the platform API (partner FAQ).
LIMITS = SendLimits(
    per_chat_rate=1.0, per_chat_burst=3, per_account_rate=30.0, per_account_burst=30
)
SYNC_MAX_PAGES = 50

_ATTACHMENT_KINDS: dict[str, AttachmentKindName] = {
    "image": "photo",
    "video": "video",
    "audio": "audio",
    "file": "document",
    "sticker": "sticker",
    "location": "location",
    "contact": "contact",
}


class MaxClient:
    """MAX Bot API calls over one shared client."""

    def __init__(
        self, http: httpx.AsyncClient, *, api_base: str = "https://platform-api.max.ru"
    ) -> None:
        self._http = http
        self._base = api_base.rstrip("/")

    async def get_me(self, token: str) -> AccountProfile:
        bot = fields.optional_obj(await self._call(token, "GET", "/me"))
        name = fields.text(bot, "name") or fields.text(bot, "first_name")
        return AccountProfile(
            platform_account_id=str(fields.integer(bot, "user_id", "me")),
            username=fields.text(bot, "username"),
            display_name=name,
        )

    async def subscribe(self, token: str, *, url: str, secret: str) -> None:
        if not SECRET_PATTERN.match(secret):
            raise ValueError("secret must be 5-256 characters of A-Z a-z 0-9 _ -")
        body = fields.optional_obj(
            await self._call(
                token,
                "POST",
                "/subscriptions",
                json={"url": url, "update_types": list(UPDATE_TYPES), "secret": secret},
            )
        )
        if body.get("success") is not True:
            raise PermanentError(fields.text(body, "message") or "subscription refused", status=400)

    async def unsubscribe(self, token: str, *, url: str) -> None:
        await self._call(token, "DELETE", "/subscriptions", params={"url": url})

    async def send_message(self, token: str, *, user_id: str, text: str) -> SentMessage:
        body = fields.optional_obj(
            await self._call(
                token, "POST", "/messages", params={"user_id": user_id}, json={"text": text}
            )
        )
        message = fields.obj(body.get("message"), "message")
        content = fields.obj(message.get("body"), "message.body")
        mid = content.get("mid")
        if not isinstance(mid, str) or not mid:
            raise TransientError("POST /messages returned no mid")
        return SentMessage(
            platform_message_id=mid,
            sent_at=fields.unix_time(message.get("timestamp"), milliseconds=True),
        )

    async def chats(self, token: str, *, marker: int | None) -> dict[str, Any]:
        params = {"count": "100"}
        if marker is not None:
            params["marker"] = str(marker)
        return fields.optional_obj(await self._call(token, "GET", "/chats", params=params))

    async def _call(self, token: str, method: str, path: str, **kwargs: Any) -> Any:
        response = await call(
            self._http,
            method,
            f"{self._base}{path}",
            platform="MAX",
            headers={"Authorization": token},
            **kwargs,
        )
        body = json_body(response)
        if not response.is_success:
            raise _error(response, body)
        return body


def _error(response: httpx.Response, body: Any) -> PlatformError:
    status = response.status_code
    data = fields.optional_obj(body)
    code = fields.text(data, "code")
    message = fields.text(data, "message") or f"HTTP {status}"
    description = f"{message} ({code})" if code else message
    if status == 429:
        retry = response.headers.get("retry-after", "")
        return RetryLaterError(
            description, retry_after=float(retry) if retry.isdigit() else 1.0, status=status
        )
    if status == 401 or code == "verify.token":
        return InvalidCredentialsError(description, status=status)
    if status == 403:
        return BlockedError(description, status=status)
    if code == "attachment.not.ready":
        return TransientError(description, status=status)
    if 400 <= status < 500:
        return PermanentError(description, status=status)
    return TransientError(description, status=status)


def verify(headers: Mapping[str, str], secret: str) -> bool:
    supplied = headers.get(SECRET_HEADER)
    if supplied is None or not secret:
        return False
    return hmac.compare_digest(supplied.encode(), secret.encode())


def parse_update(body: bytes) -> Update:
    """Normalise one webhook body; raises InvalidPayloadError when it is not an Update."""
    data = fields.load_object(body)
    kind = data.get("update_type")
    if not isinstance(kind, str) or not kind:
        raise InvalidPayloadError("update_type must be a string")
    timestamp = fields.optional_int(data, "timestamp") or 0
    if kind in ("message_created", "message_edited"):
        return _message(kind, timestamp, fields.obj(data.get("message"), "message"))
    if kind == "message_removed":
        mid = fields.text(data, "message_id")
        if not mid:
            raise InvalidPayloadError("message_id must be a string")
        return MessageRemoved(
            dedup_key=f"message_removed:{mid}",
            chat_id=fields.id_string(data, "chat_id", "body"),
            platform_message_id=mid,
        )
    if kind in ("bot_started", "bot_stopped"):
        chat_id = fields.id_string(data, "chat_id", "body")
        user = fields.obj(data.get("user"), "user")
        sender = _profile(user, "user")
        return ContactEvent(
            dedup_key=f"{kind}:{chat_id}:{sender.platform_user_id}:{timestamp}",
            chat_id=chat_id,
            sender=sender,
            change="unblocked" if kind == "bot_started" else "blocked",
            occurred_at=fields.unix_time(timestamp, milliseconds=True),
        )
    if kind == "message_callback":
        callback = fields.optional_obj(data.get("callback"))
        callback_id = fields.text(callback, "callback_id")
        key = f"message_callback:{callback_id}" if callback_id else f"message_callback:{timestamp}"
        return Ignored(key, "button presses are not handled")
    chat, user_id = data.get("chat_id"), data.get("user_id")
    return Ignored(f"{kind}:{chat}:{user_id}:{timestamp}", f"update type {kind!r} is not handled")


def _message(kind: str, timestamp: int, message: dict[str, Any]) -> Update:
    content = fields.obj(message.get("body"), "message.body")
    mid = content.get("mid")
    if not isinstance(mid, str) or not mid:
        raise InvalidPayloadError("message.body.mid must be a string")
    edited = kind == "message_edited"
    # An edit keeps the message's mid, so each edit is told apart by the update's time.
    dedup_key = f"{kind}:{mid}:{timestamp}" if edited else f"{kind}:{mid}"
    recipient = fields.obj(message.get("recipient"), "message.recipient")
    if recipient.get("chat_type") != "dialog":
        return Ignored(dedup_key, "not a dialog")
    sender_data = fields.obj(message.get("sender"), "message.sender")
    if sender_data.get("is_bot") is True:
        return Ignored(dedup_key, "sent by a bot")
    text = fields.text(content, "text")
    attachments = _attachments(content.get("attachments"))
    if not text and not attachments:
        return Ignored(dedup_key, "message has no text or supported attachment")
    return InboundMessage(
        dedup_key=dedup_key,
        chat_id=fields.id_string(recipient, "chat_id", "message.recipient"),
        platform_message_id=mid,
        sender=_profile(sender_data, "message.sender"),
        text=text,
        sent_at=fields.unix_time(message.get("timestamp"), milliseconds=True),
        attachments=attachments,
        edited=edited,
        edited_at=fields.unix_time(timestamp, milliseconds=True) if edited else None,
    )


def _attachments(items: Any) -> tuple[AttachmentMeta, ...]:
    if not isinstance(items, list):
        return ()
    found: list[AttachmentMeta] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            continue
        kind_name: str = item["type"]
        if kind_name == "inline_keyboard":
            continue  # buttons, not content
        payload = fields.optional_obj(item.get("payload"))
        file_id = fields.text(payload, "token") or str(payload.get("photo_id") or "")
        found.append(
            AttachmentMeta(
                kind=_ATTACHMENT_KINDS.get(kind_name, "other"),
                platform_type=kind_name,
                platform_file_id=file_id,
                file_name=fields.text(item, "filename"),
                size_bytes=fields.positive_size(item, "size"),
                url=fields.https_url(payload.get("url")),
            )
        )
    return tuple(found)


def _profile(user: dict[str, Any], where: str) -> Profile:
    name = fields.text(user, "name") or " ".join(
        p for p in (fields.text(user, "first_name"), fields.text(user, "last_name")) if p
    )
    return Profile(
        platform_user_id=str(fields.integer(user, "user_id", where)),
        display_name=name,
        username=fields.text(user, "username"),
        avatar_url=fields.https_url(user.get("full_avatar_url") or user.get("avatar_url")),
    )


def dialog_partner(chat: Mapping[str, Any]) -> Profile | None:
    """The user of a dialog from `GET /chats` or `GET /chats/{id}`; None for other chats."""
    if chat.get("type") != "dialog" or not isinstance(chat.get("dialog_with_user"), dict):
        return None
    try:
        return _profile(chat["dialog_with_user"], "dialog_with_user")
    except InvalidPayloadError:
        return None


class MaxAdapter:
    """MAX behind the common adapter interface."""

    platform = "max"
    max_text_units = MAX_TEXT_UNITS
    # POST /messages has no idempotency key.
    idempotent_send = False
    limits = LIMITS
    ack = WebhookAck(content_type="application/json", body=b'{"ok":true}')

    def __init__(self, client: MaxClient) -> None:
        self.client = client

    def verify(
        self, headers: Mapping[str, str], body: bytes, *, secret: str, account_id: str
    ) -> bool:
        return verify(headers, secret)

    def parse(self, body: bytes) -> Delivery:
        return Delivery(updates=(parse_update(body),))

    async def send_text(
        self, token: str, *, recipient_id: str, text: str, idempotency_key: str
    ) -> SentMessage:
        return await self.client.send_message(token, user_id=recipient_id, text=text)

    async def contacts(
        self, token: str, *, account_id: str, known_user_ids: Sequence[str]
    ) -> AsyncIterator[Profile]:
        marker: int | None = None
        for _ in range(SYNC_MAX_PAGES):
            page = await self.client.chats(token, marker=marker)
            for chat in page.get("chats") or []:
                partner = dialog_partner(fields.optional_obj(chat))
                if partner is not None:
                    yield partner
            marker = fields.optional_int(page, "marker")
            if marker is None:
                return
