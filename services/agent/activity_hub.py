"""Fan-out of logged actions to this instance's live subscribers.

Each event is serialized once into the stream's wire bytes and the same bytes are queued for
every matching subscriber of its owner (never another owner's). Queues are bounded: a subscriber
whose queue overflows is dropped from the hub and told so (SUBSCRIBER_TOO_SLOW) by its stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection
from dataclasses import dataclass, field

from google.protobuf import timestamp_pb2
from inbetwin.agent.v1 import action_pb2, agent_service_pb2


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event ready to send: the response bytes and what the stream needs to know of it."""

    payload: bytes
    action_id: str
    status: int
    create_time: timestamp_pb2.Timestamp


@dataclass(eq=False)
class Subscriber:
    owner_id: str
    agent_id: str
    contact_id: str
    kinds: frozenset[int]
    queue: asyncio.Queue[Delivery | None]
    # Set when the stream must end: SUBSCRIBER_TOO_SLOW or SERVER_SHUTDOWN.
    end_reason: str = ""
    delivered: int = field(default=0)

    def matches(self, action: action_pb2.AgentAction) -> bool:
        if self.agent_id and action.agent_id != self.agent_id:
            return False
        if self.contact_id and action.contact_id != self.contact_id:
            return False
        return not self.kinds or int(action.kind) in self.kinds

    def stop(self, reason: str) -> None:
        """Ask the stream to end; clears the backlog so the wake-up always fits."""
        self.end_reason = reason
        while not self.queue.empty():
            self.queue.get_nowait()
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)


TOO_SLOW = "SUBSCRIBER_TOO_SLOW"
SHUTDOWN = "SERVER_SHUTDOWN"


def delivery_of(action: action_pb2.AgentAction) -> Delivery:
    payload = agent_service_pb2.WatchAgentActivityResponse(action=action).SerializeToString()
    return Delivery(payload, action.id, int(action.status), action.create_time)


# How many (action id, status) pairs delivered in-process are remembered, so the copy that comes
# back through NATS is not delivered a second time.
RECENT_LOCAL = 100_000


class ActivityHub:
    def __init__(self, queue_size: int) -> None:
        self._queue_size = queue_size
        self._by_owner: dict[str, set[Subscriber]] = {}
        self._closed = False
        self._recent_local: dict[tuple[str, int], None] = {}

    def subscribe(
        self,
        owner_id: str,
        *,
        agent_id: str = "",
        contact_id: str = "",
        kinds: Collection[int] = (),
    ) -> Subscriber:
        subscriber = Subscriber(
            owner_id, agent_id, contact_id, frozenset(kinds), asyncio.Queue(self._queue_size)
        )
        if self._closed:
            subscriber.stop(SHUTDOWN)
        else:
            self._by_owner.setdefault(owner_id, set()).add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        owners = self._by_owner.get(subscriber.owner_id)
        if owners is None:
            return
        owners.discard(subscriber)
        if not owners:
            del self._by_owner[subscriber.owner_id]

    def subscribers(self, owner_id: str) -> int:
        return len(self._by_owner.get(owner_id, ()))

    def deliver_local(self, owner_id: str, action: action_pb2.AgentAction) -> int:
        """Deliver an action this instance has just committed, without waiting for its trip
        through the outbox and NATS (which still carries it to the other instances)."""
        key = (action.id, int(action.status))
        if key in self._recent_local:
            return 0
        self._recent_local[key] = None
        if len(self._recent_local) > RECENT_LOCAL:
            del self._recent_local[next(iter(self._recent_local))]
        return self._fan_out(owner_id, action)

    def deliver(self, owner_id: str, action: action_pb2.AgentAction) -> int:
        """Queue an action from the bus for the owner's matching subscribers (unless it was
        delivered locally already); returns how many got it."""
        if (action.id, int(action.status)) in self._recent_local:
            return 0
        return self._fan_out(owner_id, action)

    def _fan_out(self, owner_id: str, action: action_pb2.AgentAction) -> int:
        subscribers = self._by_owner.get(owner_id)
        if not subscribers:
            return 0
        delivery: Delivery | None = None
        count = 0
        for subscriber in list(subscribers):
            if not subscriber.matches(action):
                continue
            if delivery is None:
                delivery = delivery_of(action)  # serialized once, shared by every subscriber
            try:
                subscriber.queue.put_nowait(delivery)
            except asyncio.QueueFull:
                self.unsubscribe(subscriber)
                subscriber.stop(TOO_SLOW)
                continue
            count += 1
        return count

    def close(self) -> None:
        """The instance is shutting down: end every stream (SERVER_SHUTDOWN)."""
        self._closed = True
        for owners in list(self._by_owner.values()):
            for subscriber in list(owners):
                subscriber.stop(SHUTDOWN)
        self._by_owner.clear()
