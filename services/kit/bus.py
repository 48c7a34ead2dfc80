"""The event bus: NATS JetStream with typed publish and durable, idempotent-friendly consumers.

Durability: the stream is file-backed and replicated per the deployment (R1 locally, R3 in
production). Publishing waits for the server's ack; the `Nats-Msg-Id` header (the event id)
lets JetStream drop a re-publish inside the duplicate window. Consumers are durable pull
consumers with explicit ack; a handler error is retried with backoff up to `max_deliver`
times, after which the message goes to the dead-letter subject `dlq.<subject>` and is
terminated, so one poison message never blocks the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import nats
from google.protobuf.message import DecodeError, Message
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from services.kit.events import event_id_of, subject_of

log = logging.getLogger("inbetwin.bus")

EVENTS_STREAM = "INBETWIN_EVENTS"
DEAD_LETTER_STREAM = "INBETWIN_DLQ"
EVENT_TYPE_HEADER = "Inbetwin-Event-Type"
MSG_ID_HEADER = "Nats-Msg-Id"

E = TypeVar("E", bound=Message)


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    """A durable consumer: its name is shared by every instance of the service (work queue)."""

    durable: str
    subjects: Sequence[str]
    max_deliver: int = 6
    ack_wait_seconds: float = 30.0
    backoff_seconds: Sequence[float] = (0.2, 1.0, 5.0, 15.0, 30.0)
    batch: int = 64
    concurrency: int = 16


class RetryLaterError(Exception):
    """Raised by a handler that must be called again after `seconds` (a platform's 429)."""

    def __init__(self, seconds: float, reason: str = "retry later") -> None:
        super().__init__(reason)
        self.seconds = seconds


class EventBus:
    """A JetStream connection with typed publish and consumer loops."""

    def __init__(self, client: Client, js: JetStreamContext, replicas: int = 1) -> None:
        self._client = client
        self._js = js
        self._replicas = replicas
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    @classmethod
    async def connect(cls, url: str, *, name: str, replicas: int = 1) -> EventBus:
        client = await nats.connect(
            url, name=name, max_reconnect_attempts=-1, reconnect_time_wait=0.5
        )
        bus = cls(client, client.jetstream(), replicas)
        await bus.ensure_streams()
        return bus

    @property
    def jetstream(self) -> JetStreamContext:
        return self._js

    async def ensure_streams(self) -> None:
        await self._ensure_stream(
            StreamConfig(
                name=EVENTS_STREAM,
                subjects=["inbetwin.>"],
                storage=StorageType.FILE,
                num_replicas=self._replicas,
                duplicate_window=120.0,
                max_age=7 * 24 * 3600.0,
            )
        )
        await self._ensure_stream(
            StreamConfig(
                name=DEAD_LETTER_STREAM,
                subjects=["dlq.>"],
                storage=StorageType.FILE,
                num_replicas=self._replicas,
                max_age=30 * 24 * 3600.0,
            )
        )

    async def _ensure_stream(self, config: StreamConfig) -> None:
        try:
            await self._js.stream_info(config.name or "")
        except NotFoundError:
            with contextlib.suppress(Exception):
                await self._js.add_stream(config)
            await self._js.stream_info(config.name or "")

    async def publish(self, event: Message) -> None:
        """Publish one event and wait for JetStream's ack (de-duplicated by event id)."""
        await self.publish_raw(
            subject_of(event),
            event.SerializeToString(),
            event_id=event_id_of(event),
            event_type=event.DESCRIPTOR.full_name,
        )

    async def publish_raw(
        self, subject: str, payload: bytes, *, event_id: str, event_type: str
    ) -> None:
        await self._js.publish(
            subject,
            payload,
            headers={MSG_ID_HEADER: event_id, EVENT_TYPE_HEADER: event_type},
        )

    def consume(
        self,
        spec: ConsumerSpec,
        event_type: type[E],
        handler: Callable[[E], Awaitable[None]],
    ) -> None:
        """Start a background loop that feeds `handler` every event on `spec.subjects`."""
        self._tasks.append(asyncio.create_task(self._consume_loop(spec, event_type, handler)))

    async def _consume_loop(
        self, spec: ConsumerSpec, event_type: type[E], handler: Callable[[E], Awaitable[None]]
    ) -> None:
        config = ConsumerConfig(
            durable_name=spec.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_deliver=spec.max_deliver,
            ack_wait=spec.ack_wait_seconds,
            filter_subjects=list(spec.subjects),
            max_ack_pending=max(spec.batch * 4, 256),
        )
        subscription = await self._subscribe(spec, config)
        semaphore = asyncio.Semaphore(spec.concurrency)
        running: set[asyncio.Task[None]] = set()
        while not self._stopping.is_set():
            try:
                messages = await subscription.fetch(spec.batch, timeout=1.0)
            except (TimeoutError, NatsTimeoutError):
                continue
            except Exception:
                if self._stopping.is_set():
                    break
                log.exception("fetch failed", extra={"consumer": spec.durable})
                await asyncio.sleep(0.5)
                continue
            for msg in messages:
                await semaphore.acquire()
                task = asyncio.create_task(self._deliver(spec, msg, event_type, handler))
                running.add(task)
                task.add_done_callback(running.discard)
                task.add_done_callback(lambda _task: semaphore.release())
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        with contextlib.suppress(Exception):
            await subscription.unsubscribe()

    async def _subscribe(self, spec: ConsumerSpec, config: ConsumerConfig) -> Any:
        while True:
            try:
                return (
                    await self._js.pull_subscribe_bind(durable=spec.durable, stream=EVENTS_STREAM)
                    if await self._consumer_exists(spec.durable)
                    else await self._create(spec, config)
                )
            except Exception:
                if self._stopping.is_set():
                    raise
                log.exception("subscribe failed", extra={"consumer": spec.durable})
                await asyncio.sleep(0.5)

    async def _consumer_exists(self, durable: str) -> bool:
        try:
            await self._js.consumer_info(EVENTS_STREAM, durable)
        except NotFoundError:
            return False
        return True

    async def _create(self, spec: ConsumerSpec, config: ConsumerConfig) -> Any:
        with contextlib.suppress(Exception):
            await self._js.add_consumer(EVENTS_STREAM, config)
        return await self._js.pull_subscribe_bind(durable=spec.durable, stream=EVENTS_STREAM)

    async def _deliver(
        self,
        spec: ConsumerSpec,
        msg: Msg,
        event_type: type[E],
        handler: Callable[[E], Awaitable[None]],
    ) -> None:
        delivered = msg.metadata.num_delivered
        try:
            event = event_type.FromString(msg.data)
        except DecodeError:
            await self._dead_letter(msg, spec, "undecodable payload")
            return
        try:
            await handler(event)
        except RetryLaterError as later:
            if delivered >= spec.max_deliver:
                await self._dead_letter(msg, spec, f"retries exhausted: {later}")
                return
            await msg.nak(delay=max(0.0, later.seconds))
            return
        except Exception as error:
            if delivered >= spec.max_deliver:
                await self._dead_letter(msg, spec, repr(error))
                return
            delay = spec.backoff_seconds[min(delivered - 1, len(spec.backoff_seconds) - 1)]
            log.warning(
                "handler failed, will retry",
                extra={"consumer": spec.durable, "attempt": delivered, "error": repr(error)},
            )
            await msg.nak(delay=delay)
            return
        await msg.ack()

    async def _dead_letter(self, msg: Msg, spec: ConsumerSpec, reason: str) -> None:
        headers = dict(msg.headers or {})
        headers.update({"Inbetwin-Dlq-Reason": reason[:500], "Inbetwin-Dlq-Consumer": spec.durable})
        headers.pop(MSG_ID_HEADER, None)
        await self._js.publish(f"dlq.{msg.subject}", msg.data, headers=headers)
        log.error(
            "dead-lettered",
            extra={"consumer": spec.durable, "subject": msg.subject, "reason": reason},
        )
        await msg.term()

    async def close(self) -> None:
        self._stopping.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        # drain() can hang while a subscription still holds queued messages: bound it.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._client.drain(), timeout=5.0)
        if not self._client.is_closed:
            await self._client.close()
