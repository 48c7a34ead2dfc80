"""The one interface every platform adapter (Telegram, VK, X, MAX) implements.

An adapter knows its platform's wire format and nothing about storage: it verifies and parses
webhook bodies into normalised updates, sends a text message, lists contacts where the platform
can, and says how fast it may be called. Connecting an account differs too much between
platforms (bot token, community token, OAuth) to share a signature and lives in `connect.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from services.social.platforms.types import Delivery, Profile, SentMessage


@dataclass(frozen=True, slots=True)
class SendLimits:
    """Token buckets for outgoing messages: per conversation and per connected account."""

    per_chat_rate: float
    per_chat_burst: int
    per_account_rate: float
    per_account_burst: int


@dataclass(frozen=True, slots=True)
class WebhookAck:
    """The body the platform expects back on success."""

    content_type: str
    body: bytes


class PlatformAdapter(Protocol):
    @property
    def platform(self) -> str:
        """Lower-case platform name as in URL paths and storage: telegram, vk, x, max."""

    @property
    def max_text_units(self) -> int:
        """Longest text one message may carry, in UTF-16 code units."""

    @property
    def idempotent_send(self) -> bool:
        """Whether a repeated send with the same idempotency key is dropped by the platform."""

    @property
    def limits(self) -> SendLimits: ...

    @property
    def ack(self) -> WebhookAck: ...

    def verify(
        self, headers: Mapping[str, str], body: bytes, *, secret: str, account_id: str
    ) -> bool:
        """Whether the call is genuine, compared in constant time. `secret` is the integration's
        webhook secret (or, for X, the app's consumer secret); `account_id` the connected
        account's platform id (VK checks `group_id` against it)."""

    def parse(self, body: bytes) -> Delivery:
        """Normalise a verified body; raises InvalidPayloadError when it is not the platform's."""

    async def send_text(
        self, token: str, *, recipient_id: str, text: str, idempotency_key: str
    ) -> SentMessage:
        """Send one message of at most `max_text_units`; raises a PlatformError subclass."""

    def contacts(
        self, token: str, *, account_id: str, known_user_ids: Sequence[str]
    ) -> AsyncIterator[Profile]:
        """The account's one-to-one contacts as the platform lists them (or, where it cannot list
        them, the known ones refreshed)."""
