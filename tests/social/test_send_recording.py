"""A message the platform accepted is never queued again because recording it failed: the
recording is retried (Postgres may be restarting), and after the lease it is left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest

from services.social.models import Contact, Message
from services.social.platforms.types import SentMessage
from services.social.sending import OutboundSender, SentButUnrecordedError

MESSAGE = cast(Message, SimpleNamespace(id="message-1", owner_id="owner-1", attempts=0))
CONTACT = cast(Contact, SimpleNamespace(id="contact-1"))
SENT = SentMessage(platform_message_id="42", sent_at=datetime.now(UTC))


class FlakyRecording(OutboundSender):
    """Sends always succeed; recording fails `failures` times first."""

    def __init__(self, failures: int, lease: timedelta) -> None:
        none = cast(Any, None)
        super().__init__(
            engine=none, relay=none, adapters={}, tokens=none, limiter=none, lease=lease
        )
        self.failures = failures
        self.recorded = 0
        self.requeued: list[str] = []

    async def _send(self, message: Message, attempt_id: str) -> None:
        await self._record_accepted(message, CONTACT, SENT)

    async def _record_sent(self, message: Message, contact: Contact, sent: SentMessage) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionRefusedError("postgres is restarting")
        self.recorded += 1

    async def _retry(self, message: Message, attempt_id: str, error: str) -> None:
        self.requeued.append(error)

    async def _defer(
        self, message: Message, attempt_id: str, seconds: float, *, failed_attempt: bool
    ) -> None:
        self.requeued.append(f"deferred {seconds}")


async def test_recording_is_retried_until_it_commits_and_nothing_is_requeued() -> None:
    sender = FlakyRecording(failures=2, lease=timedelta(seconds=60))
    await sender._guarded(MESSAGE, "attempt-1")
    assert sender.recorded == 1
    assert sender.requeued == []


async def test_when_the_lease_ends_first_the_message_is_left_leased_not_requeued() -> None:
    sender = FlakyRecording(failures=1000, lease=timedelta(seconds=0.5))
    with pytest.raises(SentButUnrecordedError):
        await sender._record_accepted(MESSAGE, CONTACT, SENT)
    await sender._guarded(MESSAGE, "attempt-2")
    assert sender.recorded == 0
    assert sender.requeued == []
