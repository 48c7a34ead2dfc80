"""Telegram Bot API adapter: check a token, register the webhook, verify and parse updates, send.

One client serves every bot: the token is an argument of each call. Bot API facts used here are
in ../shared/PLATFORMS.md section 1 (secret header, `update_id` as the de-duplication key,
`my_chat_member` `kicked` = blocked, 429 `retry_after`, 403 = blocked by the user).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from services.social.platforms.types import (
    AccountProfile,
    AttachmentKindName,
    AttachmentMeta,
    BlockedError,
    ContactChange,
    ContactEvent,
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
        # httpx logs every request URL at INFO, and Bot API URLs contain the token.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("httpcore").setLevel(logging.WARNING)

    async def get_me(self, token: str) -> AccountProfile:
        bot = _object(await self._call(token, "getMe", {}), "result")
        return AccountProfile(
            platform_account_id=str(_int(bot, "id", "result")),
            username=_str(bot, "username"),
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

    async def send_message(self, token: str, *, chat_id: str, text: str) -> SentMessage:
        chat: int | str = int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id
        message = _object(
            await self._call(token, "sendMessage", {"chat_id": chat, "text": text}), "result"
        )
        return SentMessage(
            platform_message_id=str(_int(message, "message_id", "result")),
            sent_at=_time(message.get("date")),
        )

    async def _call(self, token: str, method: str, params: dict[str, Any]) -> Any:
        url = f"{self._base}/bot{token}/{method}"
        # Exceptions are re-raised without their cause: httpx errors carry the URL, i.e. the token.
        try:
            response = await self._http.post(url, json=params)
        except httpx.TimeoutException:
            raise TransientError("Telegram did not answer in time") from None
        except httpx.HTTPError as error:
            raise TransientError(f"cannot reach Telegram ({type(error).__name__})") from None
        return _result(response)


def _result(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        body = None
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
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidPayloadError("body is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidPayloadError("update is not a JSON object")
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise InvalidPayloadError("update_id must be an integer")
    dedup_key = str(update_id)
    if "message" in data:
        return _message(dedup_key, _object(data["message"], "message"), edited=False)
    if "edited_message" in data:
        return _message(dedup_key, _object(data["edited_message"], "edited_message"), edited=True)
    if "my_chat_member" in data:
        return _member_change(dedup_key, _object(data["my_chat_member"], "my_chat_member"))
    kind = next((key for key in data if key != "update_id"), "empty")
    return Ignored(dedup_key, f"update type {kind!r} is not handled")


def _message(dedup_key: str, message: dict[str, Any], *, edited: bool) -> Update:
    chat = _object(message.get("chat"), "message.chat")
    if chat.get("type") != "private":
        return Ignored(dedup_key, "not a private chat")
    sender_data = message.get("from")
    sender = _profile(sender_data if isinstance(sender_data, dict) else chat, "message.from")
    if isinstance(sender_data, dict) and sender_data.get("is_bot") is True:
        return Ignored(dedup_key, "sent by a bot")
    text = (
        _str(message, "text") if isinstance(message.get("text"), str) else _str(message, "caption")
    )
    attachments = _attachments(message)
    if not text and not attachments:
        return Ignored(dedup_key, "message has no text or supported attachment")
    edit_date = message.get("edit_date")
    return InboundMessage(
        dedup_key=dedup_key,
        chat_id=str(_int(chat, "id", "message.chat")),
        platform_message_id=str(_int(message, "message_id", "message")),
        sender=sender,
        text=text,
        sent_at=_time(message.get("date")),
        attachments=attachments,
        edited=edited,
        edited_at=_time(edit_date) if edited and isinstance(edit_date, int) else None,
    )


def _member_change(dedup_key: str, member: dict[str, Any]) -> Update:
    chat = _object(member.get("chat"), "my_chat_member.chat")
    if chat.get("type") != "private":
        return Ignored(dedup_key, "membership change outside a private chat")
    new_member = _object(member.get("new_chat_member"), "my_chat_member.new_chat_member")
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
        chat_id=str(_int(chat, "id", "my_chat_member.chat")),
        sender=_profile(chat, "my_chat_member.chat"),
        change=change,
        occurred_at=_time(member.get("date")),
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
                platform_file_id=_str(largest, "file_id"),
                size_bytes=_size(largest),
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
                platform_file_id=_str(item, "file_id"),
                mime_type=_str(item, "mime_type"),
                file_name=_str(item, "file_name"),
                size_bytes=_size(item),
            )
        )
        if key == "animation":
            break  # Telegram repeats an animation as `document` for old clients
    for key, kind in _ITEM_ATTACHMENTS:
        if isinstance(message.get(key), dict):
            found.append(AttachmentMeta(kind=kind, platform_type=key))
            break  # a venue carries its location too
    return tuple(found)


def split_text(text: str, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """Cut text into parts of at most `limit` UTF-16 units, preferring line and word breaks."""
    parts: list[str] = []
    remaining = text
    while _utf16_units(remaining) > limit:
        cut = _longest_prefix(remaining, limit)
        window = remaining[:cut]
        brk = max(window.rfind("\n"), window.rfind(" "))
        if brk >= cut // 2:
            cut = brk + 1
        parts.append(remaining[:cut])
        remaining = remaining[cut:]
    if remaining:
        parts.append(remaining)
    return parts


def _utf16_units(text: str) -> int:
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def _longest_prefix(text: str, limit: int) -> int:
    units = 0
    for index, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return max(index, 1)
    return len(text)


def _profile(user: dict[str, Any], where: str) -> Profile:
    return Profile(
        platform_user_id=str(_int(user, "id", where)),
        display_name=_full_name(user),
        username=_str(user, "username"),
    )


def _full_name(user: Mapping[str, Any]) -> str:
    return " ".join(part for part in (_str(user, "first_name"), _str(user, "last_name")) if part)


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidPayloadError(f"{where} must be an object")
    return value


def _int(data: Mapping[str, Any], key: str, where: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidPayloadError(f"{where}.{key} must be an integer")
    return value


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        return ""
    # Postgres text and jsonb refuse NUL, and lone surrogates cannot be encoded as UTF-8.
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _size(data: Mapping[str, Any]) -> int:
    value = data.get("file_size")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _time(value: Any) -> datetime:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return datetime.now(UTC)
