"""Telegram Bot API adapter: check a token, register the webhook, verify and parse updates, send.

One client serves every bot: the token is an argument of each call. Bot API facts used here are
in ../shared/PLATFORMS.md section 1 (secret header, `update_id` as the de-duplication key,
`my_chat_member` `kicked` = blocked, 429 `retry_after`, 403 = blocked by the user).
"""

from __future__ import annotations

import asyncio
import hmac
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx

from services.social.platforms import fields
from services.social.platforms.adapter import SendLimits, WebhookAck
from services.social.platforms.http import call, json_body
from services.social.platforms.text import split_text as split_text
from services.social.platforms.types import (
    AccountProfile,
    AttachmentKindName,
    AttachmentMeta,
    BlockedError,
    ContactChange,
    ContactEvent,
    Delivery,
    Ignored,
    InboundMessage,
    InvalidCredentialsError,
    InvalidPayloadError,
    PermanentError,
    PlatformError,
    Profile,
    RetryLaterError,
    SentMessage,
    TransientError,
    Update,
)

SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 - a header name
SECRET_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# The updates the service handles; anything else would only be stored and ignored.
ALLOWED_UPDATES = ("message", "edited_message", "my_chat_member")
# sendMessage accepts 1-4096 characters, counted by Telegram in UTF-16 code units.
MAX_TEXT_UNITS = 4096
# Bot API FAQ: about one message per second per chat (short bursts tolerated), ~30/s per bot.
LIMITS = SendLimits(
    per_chat_rate=1.0, per_chat_burst=3, per_account_rate=30.0, per_account_burst=30
)

# Between two getChat calls of a contact refresh.
SYNC_PAUSE_SECONDS = 0.05

_FILE_ATTACHMENTS: tuple[tuple[str, AttachmentKindName], ...] = (
    ("animation", "video"),
    ("video", "video"),
    ("video_note", "video"),
    ("audio", "audio"),
    ("voice", "voice"),
    ("sticker", "sticker"),
    ("document", "document"),
)
_ITEM_ATTACHMENTS: tuple[tuple[str, AttachmentKindName], ...] = (
    ("venue", "location"),
    ("location", "location"),
    ("contact", "contact"),
    ("poll", "other"),
    ("dice", "other"),
)


class TelegramClient:
    """Bot API calls over one shared `httpx.AsyncClient`."""

    def __init__(
        self, http: httpx.AsyncClient, *, api_base: str = "https://api.telegram.org"
    ) -> None:
        self._http = http
        self._base = api_base.rstrip("/")

    async def get_me(self, token: str) -> AccountProfile:
        bot = fields.obj(await self._call(token, "getMe", {}), "result")
        return AccountProfile(
            platform_account_id=str(fields.integer(bot, "id", "result")),
            username=fields.text(bot, "username"),
            display_name=_full_name(bot),
        )

    async def set_webhook(
        self,
        token: str,
        *,
        url: str,
        secret_token: str,
        allowed_updates: Sequence[str] = ALLOWED_UPDATES,
    ) -> None:
        if not SECRET_TOKEN_PATTERN.match(secret_token):
            raise ValueError("secret_token must be 1-256 characters of A-Z a-z 0-9 _ -")
        await self._call(
            token,
            "setWebhook",
            {"url": url, "secret_token": secret_token, "allowed_updates": list(allowed_updates)},
        )

    async def delete_webhook(self, token: str) -> None:
        await self._call(token, "deleteWebhook", {})

    async def get_updates(
        self,
        token: str,
        *,
        offset: int,
        hold_seconds: int,
        allowed_updates: Sequence[str] = ALLOWED_UPDATES,
    ) -> list[dict[str, Any]]:
        """Long-poll for updates from `offset` on (which confirms every earlier one), Telegram
        holding the request up to `hold_seconds` when there is none. Telegram answers 409
        while a webhook is set."""
        params = {
            "offset": offset,
            "timeout": hold_seconds,
            "allowed_updates": list(allowed_updates),
        }
        result = await self._call(token, "getUpdates", params, wait=hold_seconds)
        if not isinstance(result, list):
            raise TransientError("getUpdates returned no list")
        return [update for update in result if isinstance(update, dict)]

    async def get_chat(self, token: str, *, chat_id: str) -> Profile:
        chat = fields.obj(await self._call(token, "getChat", {"chat_id": _chat(chat_id)}), "result")
        return _profile(chat, "result")

    async def send_message(self, token: str, *, chat_id: str, text: str) -> SentMessage:
        message = fields.obj(
            await self._call(token, "sendMessage", {"chat_id": _chat(chat_id), "text": text}),
            "result",
        )
        return SentMessage(
            platform_message_id=str(fields.integer(message, "message_id", "result")),
            sent_at=fields.unix_time(message.get("date")),
        )

    async def _call(
        self, token: str, method: str, params: dict[str, Any], *, wait: float = 0
    ) -> Any:
        extra: dict[str, Any] = {}
        if wait:
            # A long poll is held open by Telegram for `wait` seconds: allow for it.
            extra["timeout"] = httpx.Timeout(wait + 10.0)
        response = await call(
            self._http,
            "POST",
            f"{self._base}/bot{token}/{method}",
            platform="Telegram",
            json=params,
            **extra,
        )
        return _result(response)


class TelegramAdapter:
    """The Bot API behind the common adapter interface."""

    platform = "telegram"
    max_text_units = MAX_TEXT_UNITS
    # sendMessage has no idempotency key: a send repeated after a lost answer is a duplicate.
    idempotent_send = False
    limits = LIMITS
    ack = WebhookAck(content_type="text/plain", body=b"")

    def __init__(self, client: TelegramClient) -> None:
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
        return await self.client.send_message(token, chat_id=recipient_id, text=text)

    async def contacts(
        self, token: str, *, account_id: str, known_user_ids: Sequence[str]
    ) -> AsyncIterator[Profile]:
        """The Bot API cannot list a bot's users: refresh the known ones with getChat, paced so
        that a large bot's refresh stays far below its API limits."""
        for index, user_id in enumerate(known_user_ids):
            if index:
                await asyncio.sleep(SYNC_PAUSE_SECONDS)
            try:
                yield await self.client.get_chat(token, chat_id=user_id)
            except (BlockedError, PermanentError):
                continue  # the chat is gone or the bot was blocked: keep what is stored


def _chat(chat_id: str) -> int | str:
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


def _result(response: httpx.Response) -> Any:
    body = json_body(response)
    if not isinstance(body, dict):
        raise _error(
            response.status_code, f"HTTP {response.status_code} without a Bot API body", {}
        )
    if body.get("ok") is True and response.is_success:
        return body.get("result")
    code = body.get("error_code")
    if not isinstance(code, int) or isinstance(code, bool):
        code = response.status_code
    description = body.get("description")
    parameters = body.get("parameters")
    raise _error(
        code,
        description if isinstance(description, str) and description else f"HTTP {code}",
        parameters if isinstance(parameters, dict) else {},
    )


def _error(code: int, description: str, parameters: Mapping[str, Any]) -> PlatformError:
    if code == 429:
        retry_after = parameters.get("retry_after")
        seconds = float(retry_after) if isinstance(retry_after, int | float) else 1.0
        return RetryLaterError(description, retry_after=max(seconds, 0.0), status=code)
    # Telegram answers 404 Not Found when the token in the path is not a bot's.
    if code in (401, 404):
        return InvalidCredentialsError(description, status=code)
    if code == 403:
        return BlockedError(description, status=code)
    if 400 <= code < 500:
        return PermanentError(description, status=code)
    return TransientError(description, status=code)


def verify(headers: Mapping[str, str], secret: str) -> bool:
    """Whether the request carries the integration's secret token (constant-time comparison)."""
    supplied = headers.get(SECRET_HEADER)
    if supplied is None or not secret:
        return False
    return hmac.compare_digest(supplied.encode(), secret.encode())


def parse_update(body: bytes) -> Update:
    """Normalise one webhook body; raises InvalidPayloadError for anything that is not an Update."""
    data = fields.load_object(body)
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise InvalidPayloadError("update_id must be an integer")
    dedup_key = str(update_id)
    if "message" in data:
        return _message(dedup_key, fields.obj(data["message"], "message"), edited=False)
    if "edited_message" in data:
        return _message(
            dedup_key, fields.obj(data["edited_message"], "edited_message"), edited=True
        )
    if "my_chat_member" in data:
        return _member_change(dedup_key, fields.obj(data["my_chat_member"], "my_chat_member"))
    kind = next((key for key in data if key != "update_id"), "empty")
    return Ignored(dedup_key, f"update type {kind!r} is not handled")


def _message(dedup_key: str, message: dict[str, Any], *, edited: bool) -> Update:
    chat = fields.obj(message.get("chat"), "message.chat")
    if chat.get("type") != "private":
        return Ignored(dedup_key, "not a private chat")
    sender_data = message.get("from")
    sender = _profile(sender_data if isinstance(sender_data, dict) else chat, "message.from")
    if isinstance(sender_data, dict) and sender_data.get("is_bot") is True:
        return Ignored(dedup_key, "sent by a bot")
    text = (
        fields.text(message, "text")
        if isinstance(message.get("text"), str)
        else fields.text(message, "caption")
    )
    attachments = _attachments(message)
    if not text and not attachments:
        return Ignored(dedup_key, "message has no text or supported attachment")
    edit_date = message.get("edit_date")
    return InboundMessage(
        dedup_key=dedup_key,
        chat_id=str(fields.integer(chat, "id", "message.chat")),
        platform_message_id=str(fields.integer(message, "message_id", "message")),
        sender=sender,
        text=text,
        sent_at=fields.unix_time(message.get("date")),
        attachments=attachments,
        edited=edited,
        edited_at=fields.unix_time(edit_date) if edited and isinstance(edit_date, int) else None,
    )


def _member_change(dedup_key: str, member: dict[str, Any]) -> Update:
    chat = fields.obj(member.get("chat"), "my_chat_member.chat")
    if chat.get("type") != "private":
        return Ignored(dedup_key, "membership change outside a private chat")
    new_member = fields.obj(member.get("new_chat_member"), "my_chat_member.new_chat_member")
    status = new_member.get("status")
    change: ContactChange
    if status == "kicked":
        change = "blocked"
    elif status == "member":
        change = "unblocked"
    else:
        return Ignored(dedup_key, f"membership status {status!r} is not handled")
    return ContactEvent(
        dedup_key=dedup_key,
        chat_id=str(fields.integer(chat, "id", "my_chat_member.chat")),
        sender=_profile(chat, "my_chat_member.chat"),
        change=change,
        occurred_at=fields.unix_time(member.get("date")),
    )


def _attachments(message: dict[str, Any]) -> tuple[AttachmentMeta, ...]:
    found: list[AttachmentMeta] = []
    photo = message.get("photo")
    if isinstance(photo, list) and photo and isinstance(photo[-1], dict):
        largest = photo[-1]  # Telegram lists sizes smallest first
        found.append(
            AttachmentMeta(
                kind="photo",
                platform_type="photo",
                platform_file_id=fields.text(largest, "file_id"),
                size_bytes=fields.positive_size(largest, "file_size"),
            )
        )
    for key, kind in _FILE_ATTACHMENTS:
        item = message.get(key)
        if not isinstance(item, dict):
            continue
        found.append(
            AttachmentMeta(
                kind=kind,
                platform_type=key,
                platform_file_id=fields.text(item, "file_id"),
                mime_type=fields.text(item, "mime_type"),
                file_name=fields.text(item, "file_name"),
                size_bytes=fields.positive_size(item, "file_size"),
            )
        )
        if key == "animation":
            break  # Telegram repeats an animation as `document` for old clients
    for key, kind in _ITEM_ATTACHMENTS:
        if isinstance(message.get(key), dict):
            found.append(AttachmentMeta(kind=kind, platform_type=key))
            break  # a venue carries its location too
    return tuple(found)


def _profile(user: dict[str, Any], where: str) -> Profile:
    return Profile(
        platform_user_id=str(fields.integer(user, "id", where)),
        display_name=_full_name(user),
        username=fields.text(user, "username"),
    )


def _full_name(user: Mapping[str, Any]) -> str:
    return " ".join(
        part for part in (fields.text(user, "first_name"), fields.text(user, "last_name")) if part
    )
