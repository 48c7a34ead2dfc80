"""One WatchAgentActivity stream: heartbeat first, an optional replay from the log, then live
actions from the hub, heartbeats in silences, and always an explicit `end` (after an `error`
when the stream failed). Yields wire bytes: live events are shared, serialized once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from google.protobuf import timestamp_pb2
from google.rpc import code_pb2
from inbetwin.agent.v1 import agent_service_pb2 as pb
from sqlalchemy.ext.asyncio import AsyncEngine

from services.agent import action_log
from services.agent.activity_hub import TOO_SLOW, ActivityHub, Delivery, delivery_of

END_REASONS = {
    TOO_SLOW: pb.STREAM_END_REASON_ERROR,
    "SERVER_SHUTDOWN": pb.STREAM_END_REASON_SERVER_SHUTDOWN,
}


@dataclass(frozen=True, slots=True)
class WatchLimits:
    heartbeat_seconds: float
    max_duration_seconds: float
    replay_max_actions: int
    replay_max_age_seconds: float


def _heartbeat() -> bytes:
    beat = pb.StreamHeartbeat()
    beat.time.GetCurrentTime()
    return pb.WatchAgentActivityResponse(heartbeat=beat).SerializeToString()


def _end(reason: int, last: timestamp_pb2.Timestamp | None) -> bytes:
    end = pb.StreamEnd(reason=reason)  # type: ignore[arg-type,unused-ignore]
    if last is not None:
        end.last_action_time.CopyFrom(last)
    return pb.WatchAgentActivityResponse(end=end).SerializeToString()


def _error(code: int, reason: str, message: str) -> bytes:
    error = pb.StreamError(code=code, reason=reason, message=message)  # type: ignore[arg-type,unused-ignore]
    return pb.WatchAgentActivityResponse(error=error).SerializeToString()


# Queued by the stream's own timer: time to check for a heartbeat or the end of the stream. The
# stream waits on its queue alone (no timeout per event), so an event costs one queue hop.
TICK = Delivery(b"", "", 0, timestamp_pb2.Timestamp())


async def watch(
    *,
    hub: ActivityHub,
    engine: AsyncEngine,
    limits: WatchLimits,
    owner_id: str,
    request: pb.WatchAgentActivityRequest,
    before: Callable[[], Awaitable[object]] | None = None,
) -> AsyncIterator[bytes]:
    """`before` runs first (a check that may raise) and belongs to the stream's scope."""
    if before is not None:
        await before()
    subscriber = hub.subscribe(
        owner_id,
        agent_id=request.agent_id,
        contact_id=request.contact_id,
        kinds=[int(kind) for kind in request.kinds],
    )
    loop = asyncio.get_running_loop()
    timer: asyncio.TimerHandle | None = None

    def tick() -> None:
        nonlocal timer
        try:
            subscriber.queue.put_nowait(TICK)
        except asyncio.QueueFull:  # try again once the backlog has had time to drain
            timer = loop.call_later(limits.heartbeat_seconds, tick)

    last: timestamp_pb2.Timestamp | None = None
    try:
        yield _heartbeat()  # the subscription is live: nothing logged from now on is missed
        replayed: set[tuple[str, int]] = set()
        if request.HasField("replay_since"):
            floor = datetime.now(UTC) - timedelta(seconds=limits.replay_max_age_seconds)
            since = max(request.replay_since.ToDatetime(tzinfo=UTC), floor)
            async with engine.connect() as conn:
                history = await action_log.changed_since(
                    conn, owner_id=owner_id, since=since, limit=limits.replay_max_actions
                )
            for action in history:
                if subscriber.matches(action):
                    delivery = delivery_of(action)
                    replayed.add((delivery.action_id, delivery.status))
                    last = delivery.create_time
                    yield delivery.payload
        deadline = loop.time() + limits.max_duration_seconds
        sent_at = loop.time()
        timer = loop.call_at(min(sent_at + limits.heartbeat_seconds, deadline), tick)
        while True:
            if subscriber.end_reason:
                if subscriber.end_reason == TOO_SLOW:
                    yield _error(
                        code_pb2.RESOURCE_EXHAUSTED,
                        TOO_SLOW,
                        "the stream fell behind; reconnect with replay_since",
                    )
                yield _end(END_REASONS[subscriber.end_reason], last)
                return
            queued = await subscriber.queue.get()
            if queued is TICK:
                now = loop.time()
                if now >= deadline:
                    yield _end(pb.STREAM_END_REASON_MAX_DURATION, last)
                    return
                if now - sent_at >= limits.heartbeat_seconds:
                    sent_at = now
                    yield _heartbeat()
                timer = loop.call_at(min(sent_at + limits.heartbeat_seconds, deadline), tick)
                continue
            if queued is None or (queued.action_id, queued.status) in replayed:
                continue
            last = queued.create_time
            sent_at = loop.time()
            yield queued.payload
    finally:
        if timer is not None:
            timer.cancel()
        hub.unsubscribe(subscriber)
