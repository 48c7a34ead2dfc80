"""Transactional outbox: an event is stored in the same transaction as the change it
describes, and a relay publishes it to JetStream afterwards, so a commit and its event are
never split. Publishing is at-least-once; the event id as `Nats-Msg-Id` and idempotent
consumers make the effect exactly-once.

Tracing without a schema change: `add_event` remembers the current span's context in memory,
by event id, and the relay publishes the event as a child of it, so the consumer's span joins
the trace of the request that made the change. The relay of the same process publishes nearly
every event (`notify()` after the commit), so that is the common case. An event published by
another process's relay, or after a restart, starts a trace of its own at the relay (its
consumers still join that one); the memory holds at most MAX_REMEMBERED_TRACES contexts, so
rolled-back events cannot make it grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import timedelta

import asyncpg
import sqlalchemy as sa
from google.protobuf.message import Message
from opentelemetry import trace
from opentelemetry.context import Context
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.kit import tracing
from services.kit.bus import EventBus
from services.kit.events import event_id_of, subject_of
from services.kit.metrics import PROBES, Reading, counter
from services.kit.tables import inbox_table, outbox_table

log = logging.getLogger("inbetwin.outbox")

PUBLISHED_RETENTION = timedelta(days=1)
PRUNE_INTERVAL_SECONDS = 300.0
MAX_REMEMBERED_TRACES = 10_000
# A pass that starts within BUSY_GAP_SECONDS of the previous one first waits COALESCE_SECONDS.
BUSY_GAP_SECONDS = 0.01
COALESCE_SECONDS = 0.002

OUTBOX_RELAYED = counter(
    "inbetwin_outbox_relayed_total", "Outbox rows this process's relay published."
)
OUTBOX_RELAY_ERRORS = counter(
    "inbetwin_outbox_relay_errors_total", "Relay passes that failed (retried after a pause)."
)
OUTBOX_BACKLOG = "inbetwin_outbox_backlog_rows"
OUTBOX_OLDEST_AGE = "inbetwin_outbox_oldest_unpublished_age_seconds"
PROBES.document(OUTBOX_BACKLOG, "Outbox rows not published yet.")
PROBES.document(OUTBOX_OLDEST_AGE, "Age of the oldest unpublished outbox row (0 when none).")


class _ProducerTraces:
    """The span context each event was recorded in, by event id, until it is published (used
    from the event loop's thread only)."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._contexts: OrderedDict[str, trace.SpanContext] = OrderedDict()

    def remember(self, event_id: str) -> None:
        span_context = trace.get_current_span().get_span_context()
        if not span_context.is_valid:
            return
        self._contexts[event_id] = span_context
        while len(self._contexts) > self._limit:
            self._contexts.popitem(last=False)

    def recall(self, event_id: str) -> Context:
        """The parent for the event's publish span: its producer's, or none (a new trace)."""
        span_context = self._contexts.get(event_id)
        return Context() if span_context is None else tracing.context_of(span_context)

    def forget(self, event_ids: Iterable[str]) -> None:
        for event_id in event_ids:
            self._contexts.pop(event_id, None)


_traces = _ProducerTraces(MAX_REMEMBERED_TRACES)

_metadata = sa.MetaData()
OUTBOX = outbox_table(_metadata)
INBOX = inbox_table(_metadata)


async def add_event(connection: AsyncConnection, event: Message) -> None:
    """Record an event inside the caller's open transaction (ignored if already recorded)."""
    _traces.remember(event_id_of(event))
    statement = (
        sa.dialects.postgresql.insert(OUTBOX)
        .values(
            event_id=event_id_of(event),
            subject=subject_of(event),
            event_type=event.DESCRIPTOR.full_name,
            payload=event.SerializeToString(),
        )
        .on_conflict_do_nothing(index_elements=["event_id"])
    )
    await connection.execute(statement)


_INSERT_ON_ASYNCPG = """
INSERT INTO outbox (event_id, subject, event_type, payload) VALUES ($1, $2, $3, $4)
ON CONFLICT (event_id) DO NOTHING
"""


async def add_event_on_asyncpg(connection: asyncpg.Connection, event: Message) -> None:
    """`add_event` for a hot path that runs on a plain asyncpg connection (no SQLAlchemy
    statement to build and compile per call): the same row, inside the connection's open
    transaction, ignored if already recorded."""
    event_id = event_id_of(event)
    _traces.remember(event_id)
    await connection.execute(
        _INSERT_ON_ASYNCPG,
        event_id,
        subject_of(event),
        event.DESCRIPTOR.full_name,
        event.SerializeToString(),
    )


async def claim_event(connection: AsyncConnection, consumer: str, event_id: str) -> bool:
    """Mark an event processed by `consumer` inside the caller's transaction.

    Returns False when it was already processed: the caller then skips its effects. Because the
    mark commits together with the effects, a crash before commit leaves the event unprocessed
    and the redelivery does the work once.
    """
    statement = (
        sa.dialects.postgresql.insert(INBOX)
        .values(consumer=consumer, event_id=event_id)
        .on_conflict_do_nothing()
        .returning(INBOX.c.event_id)
    )
    result = await connection.execute(statement)
    return result.first() is not None


class OutboxRelay:
    """Publishes unpublished outbox rows in order; wakes on `notify()` or every poll interval.

    Several instances may run against one database: rows are claimed with
    `FOR UPDATE SKIP LOCKED`, so each is published by one relay at a time.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        bus: EventBus,
        *,
        batch_size: int = 200,
        poll_interval: float = 0.5,
    ) -> None:
        self._engine = engine
        self._bus = bus
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._unregister_probe: Callable[[], None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        self._unregister_probe = PROBES.add("outbox", self.backlog)

    async def backlog(self) -> Reading:
        """Unpublished rows and the age of the oldest, read when metrics are scraped."""
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(
                        sa.func.count(),
                        sa.func.coalesce(
                            sa.func.extract(
                                "epoch", sa.func.now() - sa.func.min(OUTBOX.c.created_at)
                            ),
                            0,
                        ),
                    ).where(OUTBOX.c.published_at.is_(None))
                )
            ).one()
        return Reading({}, {OUTBOX_BACKLOG: float(row[0]), OUTBOX_OLDEST_AGE: float(row[1])})

    def notify(self) -> None:
        """Call after committing a transaction that added events, to publish them now."""
        self._wakeup.set()

    async def stop(self) -> None:
        if self._unregister_probe is not None:
            self._unregister_probe()
        self._stopping = True
        self._wakeup.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        next_prune = 0.0
        last_pass = 0.0
        while not self._stopping:
            try:
                if time.monotonic() >= next_prune:
                    await self.prune_published()
                    next_prune = time.monotonic() + PRUNE_INTERVAL_SECONDS
                if time.monotonic() - last_pass < BUSY_GAP_SECONDS:
                    # Under load every commit wakes the relay: a short wait lets one pass
                    # publish many events instead of paying a pass (two statements) for each.
                    await asyncio.sleep(COALESCE_SECONDS)
                # Cleared before publishing, so a notify() that arrives meanwhile is not lost.
                self._wakeup.clear()
                published = await self.publish_pending()
                last_pass = time.monotonic()
            except Exception:
                OUTBOX_RELAY_ERRORS.inc()
                log.exception("outbox relay failed; retrying")
                published = 0
                await asyncio.sleep(self._poll_interval)
            if published >= self._batch_size:
                continue
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._poll_interval)

    async def prune_published(self) -> int:
        """Delete rows published more than PUBLISHED_RETENTION ago (kept a while for audits)."""
        async with self._engine.begin() as connection:
            result = await connection.execute(
                sa.delete(OUTBOX).where(OUTBOX.c.published_at < sa.func.now() - PUBLISHED_RETENTION)
            )
        return int(result.rowcount)

    async def publish_pending(self) -> int:
        """Publish one batch of pending events; returns how many were published."""
        async with self._engine.begin() as connection:
            rows = (
                await connection.execute(
                    sa.select(
                        OUTBOX.c.seq,
                        OUTBOX.c.event_id,
                        OUTBOX.c.subject,
                        OUTBOX.c.event_type,
                        OUTBOX.c.payload,
                    )
                    .where(OUTBOX.c.published_at.is_(None))
                    .order_by(OUTBOX.c.seq)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            # Publish concurrently: awaiting each ack in turn caps the relay at ~3k events/s.
            await asyncio.gather(
                *(
                    self._bus.publish_raw(
                        row.subject,
                        row.payload,
                        event_id=str(row.event_id),
                        event_type=row.event_type,
                        trace_context=_traces.recall(str(row.event_id)),
                    )
                    for row in rows
                )
            )
            await connection.execute(
                sa.update(OUTBOX)
                .where(OUTBOX.c.seq.in_([row.seq for row in rows]))
                .values(published_at=sa.func.now())
            )
        _traces.forget(str(row.event_id) for row in rows)
        OUTBOX_RELAYED.inc(len(rows))
        return len(rows)
