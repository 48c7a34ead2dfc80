"""WatchLeads: live lead changes, fanned out to every instance through lead.updated.

Whichever instance changes a lead, the change reaches the bus through the outbox. Every instance
reads lead.updated with its own ordered JetStream consumer (not the shared durable ones: each
instance must see every change) and hands each change to the local streams of that owner. A
stream loads the lead once per change, drops changes it already sent (by the lead's version, so
replay and live changes may overlap safely) and coalesces rapid changes of one lead into its
latest state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import code_pb2, status_pb2
from inbetwin.events.v1 import leads_events_pb2
from inbetwin.leads.v1 import lead_pb2
from inbetwin.leads.v1 import leads_service_pb2 as pb
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.bus import EVENTS_STREAM
from services.kit.errors import ServiceError
from services.kit.events import subject_of
from services.leads import repository
from services.leads.mapping import CAUSE_TO_PROTO, lead_to_proto, stage_proto

log = logging.getLogger("inbetwin.leads.watch")

LEAD_UPDATED_SUBJECT = subject_of(leads_events_pb2.LeadUpdated)
REPLAY_BATCH = 200


@dataclass(frozen=True, slots=True)
class WatchFilter:
    stages: frozenset[str]
    min_score: int
    integration_id: str

    def matches(self, *, stage: str, score: int, integration_id: str) -> bool:
        if not stage:
            return False  # the lead did not exist
        if self.stages and stage not in self.stages:
            return False
        if self.integration_id and integration_id != self.integration_id:
            return False
        return score >= self.min_score


@dataclass(slots=True)
class _Pending:
    row: Row[Any]
    previous_score: int
    previous_stage: str
    cause: str


@dataclass(eq=False)
class Watcher:
    """One open stream's mailbox: the latest pending change of each lead, in arrival order."""

    owner_id: str
    filter: WatchFilter
    full: bool
    pending: dict[str, _Pending] = field(default_factory=dict)
    sent_versions: dict[str, int] = field(default_factory=dict)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, row: Row[Any], *, previous_score: int, previous_stage: str, cause: str) -> None:
        if row.version <= self.sent_versions.get(row.id, 0):
            return
        earlier = self.pending.pop(row.id, None)
        if earlier is not None:  # coalesce: keep where the lead started from
            previous_score, previous_stage = earlier.previous_score, earlier.previous_stage
            if earlier.row.version > row.version:
                row = earlier.row
        self.pending[row.id] = _Pending(row, previous_score, previous_stage, cause)
        self.wakeup.set()

    def take(self) -> list[pb.WatchLeadsResponse]:
        """The pending changes that concern this stream, as messages; marks them sent."""
        out = []
        for pending in self.pending.values():
            message = self.message(pending)
            if message is not None:
                out.append(message)
            self.sent_versions[pending.row.id] = pending.row.version
        self.pending.clear()
        self.wakeup.clear()
        return out

    def message(self, pending: _Pending) -> pb.WatchLeadsResponse | None:
        row = pending.row
        after = self.filter.matches(
            stage=row.stage, score=row.score, integration_id=row.integration_id
        )
        before = self.filter.matches(
            stage=pending.previous_stage,
            score=pending.previous_score,
            integration_id=row.integration_id,
        )
        if not (after or before):
            return None
        return pb.WatchLeadsResponse(
            lead_updated=pb.LeadUpdated(
                lead=lead_to_proto(row, full=self.full),
                previous_score=pending.previous_score,
                previous_stage=stage_proto(pending.previous_stage),
                cause=CAUSE_TO_PROTO.get(pending.cause, lead_pb2.LEAD_CHANGE_CAUSE_UNSPECIFIED),
                matches_filter=after,
            )
        )


class WatchHub:
    """This instance's reader of lead.updated, and the registry of its open streams."""

    def __init__(self, engine: AsyncEngine, jetstream: JetStreamContext) -> None:
        self._engine = engine
        self._js = jetstream
        self._watchers: dict[str, set[Watcher]] = {}
        self._subscription: Any = None
        self.closing = asyncio.Event()

    async def start(self) -> None:
        self._subscription = await self._js.subscribe(
            LEAD_UPDATED_SUBJECT,
            stream=EVENTS_STREAM,
            cb=self._on_message,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
            idle_heartbeat=5.0,
        )

    def close_streams(self) -> None:
        """Tell every open stream to end (SERVER_SHUTDOWN)."""
        self.closing.set()

    async def stop(self) -> None:
        self.closing.set()
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                await self._subscription.unsubscribe()

    def register(self, watcher: Watcher) -> None:
        self._watchers.setdefault(watcher.owner_id, set()).add(watcher)

    def unregister(self, watcher: Watcher) -> None:
        watchers = self._watchers.get(watcher.owner_id)
        if watchers is not None:
            watchers.discard(watcher)
            if not watchers:
                del self._watchers[watcher.owner_id]

    async def _on_message(self, msg: Any) -> None:
        try:
            event = leads_events_pb2.LeadUpdated.FromString(msg.data)
        except Exception:
            log.warning("undecodable lead.updated skipped")
            return
        if not self._watchers.get(event.owner_id):
            return
        try:
            async with self._engine.connect() as conn:
                row = await repository.lead_by_id(
                    conn, owner_id=event.owner_id, lead_id=event.lead_id
                )
        except Exception:
            log.exception(
                "cannot load a changed lead for its watchers", extra={"lead": event.lead_id}
            )
            return
        if row is None:
            return
        for watcher in list(self._watchers.get(event.owner_id, ())):
            watcher.offer(
                row,
                previous_score=event.previous_score,
                previous_stage=event.previous_stage,
                cause=event.cause,
            )


@dataclass(frozen=True, slots=True)
class WatchTiming:
    heartbeat: timedelta
    max_duration: timedelta
    resume_margin: timedelta


class WatchStream:
    """One WatchLeads call: replay, then live changes, heartbeats, and a final end or error."""

    def __init__(
        self,
        *,
        hub: WatchHub,
        engine: AsyncEngine,
        timing: WatchTiming,
        renew: Callable[[], Awaitable[None]],
    ) -> None:
        self._hub = hub
        self._engine = engine
        self._timing = timing
        self._renew = renew

    async def run(
        self, watcher: Watcher, since: datetime | None
    ) -> AsyncIterator[pb.WatchLeadsResponse]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timing.max_duration.total_seconds()
        self._hub.register(watcher)  # before the replay, so nothing falls in between
        try:
            if since is not None:
                async for message in self._replay(watcher, since):
                    yield message
            last_sent = renewed = loop.time()
            while True:
                if loop.time() - renewed >= self._timing.heartbeat.total_seconds():
                    await self._renew()  # keep this stream's slot, busy or idle
                    renewed = loop.time()
                if self._hub.closing.is_set():
                    yield await self._end(pb.STREAM_END_REASON_SERVER_SHUTDOWN)
                    return
                remaining = deadline - loop.time()
                if remaining <= 0:
                    yield await self._end(pb.STREAM_END_REASON_MAX_DURATION)
                    return
                idle_for = self._timing.heartbeat.total_seconds() - (loop.time() - last_sent)
                if idle_for <= 0:
                    yield pb.WatchLeadsResponse(
                        heartbeat=pb.StreamHeartbeat(time=_ts(await self._watermark()))
                    )
                    last_sent = loop.time()
                    continue
                await _wait_any(watcher.wakeup, self._hub.closing, min(idle_for, remaining))
                for message in watcher.take():
                    yield message
                    last_sent = loop.time()
        except Exception as error:
            log.exception("watch stream failed")
            yield pb.WatchLeadsResponse(error=pb.StreamError(status=_status_of(error)))
        finally:
            self._hub.unregister(watcher)

    async def _replay(
        self, watcher: Watcher, since: datetime
    ) -> AsyncIterator[pb.WatchLeadsResponse]:
        after: tuple[datetime, str] | None = None
        while True:
            async with self._engine.connect() as conn:
                rows = await repository.leads_changed_since(
                    conn, owner_id=watcher.owner_id, since=since, after=after, limit=REPLAY_BATCH
                )
                before = await repository.points_before(
                    conn, lead_ids=[r.id for r in rows], at=since
                )
            for row in rows:
                point = before.get(row.id)
                watcher.offer(
                    row,
                    previous_score=point.score if point is not None else 0,
                    previous_stage=point.stage if point is not None else "",
                    cause=row.last_cause,
                )
                # Deliver in update order: take this lead alone before offering the next one.
                pending = watcher.pending.pop(row.id, None)
                if pending is not None:
                    watcher.sent_versions[row.id] = row.version
                    message = watcher.message(pending)
                    if message is not None:
                        yield message
            if len(rows) < REPLAY_BATCH:
                return
            after = (rows[-1].updated_at, rows[-1].id)

    async def _watermark(self) -> datetime:
        """A safe `since_time` to resume from: every change committed before it has been sent.

        Changes reach this instance through the outbox and the bus; one still waiting in the
        outbox holds the mark back, and `resume_margin` covers the bus's delivery delay.
        """
        mark = datetime.now(UTC) - self._timing.resume_margin
        async with self._engine.connect() as conn:
            oldest = await repository.oldest_unpublished(conn, subject=LEAD_UPDATED_SUBJECT)
        return min(mark, oldest - timedelta(microseconds=1)) if oldest is not None else mark

    async def _end(self, reason: int) -> pb.WatchLeadsResponse:
        return pb.WatchLeadsResponse(
            end=pb.StreamEnd(reason=reason, resume_time=_ts(await self._watermark()))  # type: ignore[arg-type]
        )


async def _wait_any(first: asyncio.Event, second: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(first.wait()), asyncio.ensure_future(second.wait())]
    try:
        await asyncio.wait(waiters, timeout=max(0.0, seconds), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


def _status_of(error: Exception) -> status_pb2.Status:
    if isinstance(error, ServiceError):
        return error.to_status("leads.inbetwin.app")
    return status_pb2.Status(
        code=code_pb2.UNAVAILABLE, message="the stream failed; watch again with since_time"
    )


def _ts(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp
