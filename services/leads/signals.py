"""What leads knows about one contact: the per-signal state its score is computed from.

Every signal is stored under its own natural key (a message id, a fact snapshot's event id, a
handoff id), so a redelivered event overwrites itself and events arriving in any order build the
same state. The score is always recomputed from this whole state, never incremented.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Author(StrEnum):
    """Who wrote a message."""

    CONTACT = "contact"
    AGENT = "agent"
    OWNER = "owner"


class HandoffRequester(StrEnum):
    """Who or what handed the conversation to a human."""

    AGENT_TOOL = "agent_tool"
    OWNER_MESSAGE = "owner_message"
    OWNER_MANUAL = "owner_manual"
    GUARDRAIL = "guardrail"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Message:
    message_id: str
    inbound: bool
    author: Author
    text: str
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class Assessment:
    """llm's reading of an inbound message."""

    message_id: str
    sentiment: float
    intents: tuple[str, ...]
    assessed_at: datetime


@dataclass(frozen=True, slots=True)
class FactSnapshot:
    """The contact's facts after one `save_user_info` merge."""

    event_id: str
    facts: dict[str, str]
    source_message_id: str
    saved_at: datetime


@dataclass(frozen=True, slots=True)
class Handoff:
    handoff_id: str
    requested_by: HandoffRequester
    reason: str
    opened_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class ContactSignals:
    """Everything recorded about one contact of one owner."""

    messages: tuple[Message, ...] = ()
    assessments: tuple[Assessment, ...] = ()
    fact_snapshots: tuple[FactSnapshot, ...] = ()
    handoffs: tuple[Handoff, ...] = ()
    _by_id: dict[str, Message] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id.update({m.message_id: m for m in self.messages})

    def message(self, message_id: str) -> Message | None:
        return self._by_id.get(message_id)

    @property
    def ordered_messages(self) -> list[Message]:
        """Messages in conversation order (send time, then id for ties)."""
        return sorted(self.messages, key=lambda m: (m.sent_at, m.message_id))
