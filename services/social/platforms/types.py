"""What every platform adapter returns: normalised updates, send results and typed errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

AttachmentKindName = Literal[
    "photo", "video", "audio", "voice", "document", "sticker", "location", "contact", "other"
]
ContactChange = Literal["blocked", "unblocked"]


@dataclass(frozen=True, slots=True)
class Profile:
    """A platform user as the platform describes them."""

    platform_user_id: str
    display_name: str
    username: str
    avatar_url: str = ""


@dataclass(frozen=True, slots=True)
class AttachmentMeta:
    """Metadata of one attachment; the content itself is never downloaded."""

    kind: AttachmentKindName
    platform_type: str
    platform_file_id: str = ""
    mime_type: str = ""
    file_name: str = ""
    size_bytes: int = 0
    url: str = ""


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A message a contact wrote (or edited) in a one-to-one conversation."""

    dedup_key: str
    chat_id: str
    platform_message_id: str
    sender: Profile
    text: str
    sent_at: datetime
    attachments: tuple[AttachmentMeta, ...] = ()
    edited: bool = False
    edited_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OwnerMessage:
    """A message the account's owner wrote to a contact in the platform's own app (a VK
    community admin, the X user from another app): history, and the agent steps aside."""

    dedup_key: str
    chat_id: str
    platform_message_id: str
    recipient: Profile
    text: str
    sent_at: datetime
    attachments: tuple[AttachmentMeta, ...] = ()


@dataclass(frozen=True, slots=True)
class ContactEvent:
    """A change in whether the contact can be written to (blocked or unblocked the account)."""

    dedup_key: str
    chat_id: str
    sender: Profile
    change: ContactChange
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class MessageRemoved:
    """The platform reports that a message was removed (MAX `message_removed`)."""

    dedup_key: str
    chat_id: str
    platform_message_id: str


@dataclass(frozen=True, slots=True)
class ConfirmationRequest:
    """VK's `confirmation` call: answer with the community's confirmation string."""

    dedup_key: str


@dataclass(frozen=True, slots=True)
class AccountRevoked:
    """The account withdrew the app's access (X `user_event.revoke`): nothing more arrives."""

    dedup_key: str


@dataclass(frozen=True, slots=True)
class Ignored:
    """A verified update the service deliberately does nothing with (stored raw, not handled)."""

    dedup_key: str
    reason: str


Update = (
    InboundMessage
    | OwnerMessage
    | ContactEvent
    | MessageRemoved
    | ConfirmationRequest
    | AccountRevoked
    | Ignored
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook body, parsed: its updates (X may batch several) and, for X, whose they are."""

    updates: tuple[Update, ...]
    # The connected account the body is addressed to, when the body says so (X `for_user_id`).
    account_id: str = ""


@dataclass(frozen=True, slots=True)
class AccountProfile:
    """The connected account (the bot, community or user) as the platform reports it."""

    platform_account_id: str
    username: str
    display_name: str


@dataclass(frozen=True, slots=True)
class SentMessage:
    platform_message_id: str
    sent_at: datetime


class InvalidPayloadError(Exception):
    """The body is not the platform's JSON or lacks the fields every update has."""


class PlatformError(Exception):
    """A platform API call failed; `description` is the platform's own text, never a credential."""

    def __init__(self, description: str, *, status: int = 0) -> None:
        super().__init__(description)
        self.description = description
        self.status = status


class InvalidCredentialsError(PlatformError):
    """The platform refused the token (Telegram 401, VK error 5, MAX `verify.token`, X 401)."""


class PermissionMissingError(PlatformError):
    """The token is valid but lacks rights the service needs; `missing` names them."""

    def __init__(self, description: str, *, missing: tuple[str, ...], status: int = 0) -> None:
        super().__init__(description, status=status)
        self.missing = missing


class BlockedError(PlatformError):
    """The contact blocked the account or cannot be written to: permanent for that contact."""


class PermanentError(PlatformError):
    """The request is wrong and retrying it cannot help."""


class TransientError(PlatformError):
    """Network failure or a server error: retry with backoff."""


class RetryLaterError(PlatformError):
    """Rate limited: the platform says how many seconds to wait before repeating the request."""

    def __init__(self, description: str, *, retry_after: float, status: int = 429) -> None:
        super().__init__(description, status=status)
        self.retry_after = retry_after
