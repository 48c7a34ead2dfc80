"""Typed events: subject and identity of a proto event message, read from its descriptor."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import cache
from typing import TypeVar

from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message

from services.kit.options import event_subject

E = TypeVar("E", bound=Message)


@cache
def _subject(descriptor: Descriptor) -> str:
    subject = event_subject(descriptor)
    if not subject:
        raise TypeError(f"{descriptor.full_name} has no (inbetwin.common.v1.event_subject)")
    return subject


def subject_of(event: Message | type[Message]) -> str:
    return _subject(event.DESCRIPTOR)


def event_id_of(event: Message) -> str:
    event_id: str = getattr(event, "event_id")  # noqa: B009 - every event has it (contract test)
    if not event_id:
        raise ValueError(f"{event.DESCRIPTOR.full_name} has no event_id")
    return event_id


def new_event(
    event_type: type[E], *, owner_id: str, event_id: str | None = None, **fields: object
) -> E:
    """Build an event with a fresh (or given, for deterministic keys) id and the current time."""
    event = event_type(event_id=event_id or str(uuid.uuid4()), owner_id=owner_id, **fields)
    event.occur_time.FromDatetime(datetime.now(UTC))  # type: ignore[attr-defined]
    return event


def deterministic_id(*parts: str) -> str:
    """A UUID derived from a natural key, so a retried producer emits the same event id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "inbetwin:" + ":".join(parts)))
