"""The event bus: NATS JetStream with typed publish and durable, idempotent-friendly consumers.

Durability: the stream is file-backed and replicated per the deployment (R1 locally, R3 in
production). Publishing waits for the server's ack; the `Nats-Msg-Id` header (the event id)
lets JetStream drop a re-publish inside the duplicate window. Consumers are durable pull
consumers with explicit ack; a handler error is retried with backoff up to `max_deliver`
times, after which the message goes to the dead-letter subject `dlq.<subject>` and is
terminated, so one poison message never blocks the rest.

Tracing: a published message carries the publisher's trace context in its `traceparent`
header, and each delivery runs its handler in a consumer span that continues it, so the
handler's log lines, calls and events belong to the trace of the request that caused them.
Every delivery is logged once (`event`, with its outcome) and counted (see services.kit.metrics).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
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
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from services.kit import tracing
from services.kit.events import event_id_of, subject_of
from services.kit.metrics import PROBES, Reading, counter, histogram

log = logging.getLogger("inbetwin.bus")

EVENTS_PUBLISHED = counter(
    "inbetwin_events_published_total",
    "Events published and acknowledged by JetStream.",
    ["subject"],
)
EVENT_PUBLISH_ERRORS = counter(
    "inbetwin_events_publish_errors_total",
    "Publishes that JetStream did not acknowledge.",
    ["subject"],
)
EVENTS_HANDLED = counter(
    "inbetwin_events_handled_total",
    "Deliveries handled by a durable consumer, by outcome: ok, failed (retried with backoff), "
    "deferred (RetryLaterError) or dead_lettered.",
    ["consumer", "outcome"],
)
EVENT_HANDLING_SECONDS = histogram(
    "inbetwin_event_handling_seconds", "Time a consumer's handler took per delivery.", ["consumer"]
)
CONSUMER_PENDING = "inbetwin_consumer_pending_messages"
CONSUMER_ACK_PENDING = "inbetwin_consumer_ack_pending_messages"
PROBES.document(CONSUMER_PENDING, "Messages a durable consumer has not been delivered yet (lag).")
PROBES.document(CONSUMER_ACK_PENDING, "Messages delivered to a consumer and not acknowledged yet.")

EVENTS_STREAM = "INBETWIN_EVENTS"
DEAD_LETTER_STREAM = "INBETWIN_DLQ"
EVENT_TYPE_HEADER = "Inbetwin-Event-Type"
MSG_ID_HEADER = "Nats-Msg-Id"

E = TypeVar("E", bound=Message)


# A pull waiting for the next message expires after this (then the loop checks for shutdown).
IDLE_PULL_SECONDS = 1.0
# While messages keep coming, how long a pull for more may wait before the consumer goes idle.
BUSY_PULL_SECONDS = 0.002


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
        self._unregister: list[Callable[[], None]] = []

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
        self,
        subject: str,
        payload: bytes,
        *,
        event_id: str,
        event_type: str,
        trace_context: Context | None = None,
    ) -> None:
        """Publish in a producer span, a child of `trace_context` (default: the current one),
        whose context travels in the message's `traceparent` header."""
        span = tracing.start_span(
            f"publish {subject}",
            kind=SpanKind.PRODUCER,
            parent=trace_context,
            attributes=lambda: tracing.messaging_attributes(subject, event_id),
        )
        headers = {MSG_ID_HEADER: event_id, EVENT_TYPE_HEADER: event_type}
        headers.update(tracing.inject(trace.set_span_in_context(span)))
        try:
            await self._js.publish(subject, payload, headers=headers)
        except BaseException as error:
            EVENT_PUBLISH_ERRORS.labels(subject).inc()
            if span.is_recording():
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            raise
        else:
            EVENTS_PUBLISHED.labels(subject).inc()
        finally:
            tracing.end_span(span)

    def consume(
        self,
        spec: ConsumerSpec,
        event_type: type[E],
        handler: Callable[[E], Awaitable[None]],
    ) -> None:
        """Start a background loop that feeds `handler` every event on `spec.subjects`."""
        self._tasks.append(asyncio.create_task(self._consume_loop(spec, event_type, handler)))
        self._unregister.append(PROBES.add(f"consumer:{spec.durable}", self._lag_probe(spec)))

    def _lag_probe(self, spec: ConsumerSpec) -> Callable[[], Awaitable[Reading | None]]:
        async def probe() -> Reading | None:
            try:
                info = await self._js.consumer_info(EVENTS_STREAM, spec.durable)
            except NotFoundError:
                return None  # not created yet
            return Reading(
                {"consumer": spec.durable},
                {
                    CONSUMER_PENDING: float(info.num_pending or 0),
                    CONSUMER_ACK_PENDING: float(info.num_ack_pending or 0),
                },
            )

        return probe

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
        idle = True
        while not self._stopping.is_set():
            # nats-py's fetch(n) keeps its pull open until n messages came or the timeout passed,
            # so a lone message would wait out the whole timeout. When idle, wait for one
            # message; while busy, take whatever is already waiting, up to a batch.
            try:
                if idle:
                    messages = await subscription.fetch(1, timeout=IDLE_PULL_SECONDS)
                else:
                    messages = await subscription.fetch(spec.batch, timeout=BUSY_PULL_SECONDS)
            except (TimeoutError, NatsTimeoutError):
                idle = True
                continue
            except Exception:
                if self._stopping.is_set():
                    break
                log.exception("fetch failed", extra={"consumer": spec.durable})
                await asyncio.sleep(0.5)
                continue
            idle = False
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
        """Handle one delivery inside a consumer span that continues the publisher's trace."""
        headers = msg.headers or {}

        def attributes() -> dict[str, AttributeValue]:
            found = tracing.messaging_attributes(msg.subject, headers.get(MSG_ID_HEADER, ""))
            found["messaging.consumer.group.name"] = spec.durable
            found["inbetwin.delivery_attempt"] = msg.metadata.num_delivered
            return found

        span = tracing.start_span(
            f"process {msg.subject}",
            kind=SpanKind.CONSUMER,
            parent=tracing.extract(headers.items()),
            attributes=attributes,
        )
        token = tracing.activate(span)
        started = time.perf_counter()
        outcome = "failed"  # if acking fails, JetStream redelivers after ack_wait
        try:
            outcome = await self._handle(spec, msg, event_type, handler, span)
        finally:
            elapsed = time.perf_counter() - started
            EVENTS_HANDLED.labels(spec.durable, outcome).inc()
            EVENT_HANDLING_SECONDS.labels(spec.durable).observe(elapsed)
            log.info(
                "event",
                extra={
                    "consumer": spec.durable,
                    "subject": msg.subject,
                    "event_id": headers.get(MSG_ID_HEADER),
                    "attempt": msg.metadata.num_delivered,
                    "outcome": outcome,
                    "latency_ms": round(elapsed * 1000, 3),
                },
            )
            if span.is_recording():
                span.set_attribute("inbetwin.outcome", outcome)
            tracing.end_span(span)
            tracing.deactivate(token)

    async def _handle(
        self,
        spec: ConsumerSpec,
        msg: Msg,
        event_type: type[E],
        handler: Callable[[E], Awaitable[None]],
        span: Span,
    ) -> str:
        delivered = msg.metadata.num_delivered
        try:
            event = event_type.FromString(msg.data)
        except DecodeError:
            await self._dead_letter(msg, spec, "undecodable payload")
            return "dead_lettered"
        try:
            await handler(event)
        except RetryLaterError as later:
            if delivered >= spec.max_deliver:
                await self._dead_letter(msg, spec, f"retries exhausted: {later}")
                return "dead_lettered"
            await msg.nak(delay=max(0.0, later.seconds))
            return "deferred"
        except Exception as error:
            if span.is_recording():
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            if delivered >= spec.max_deliver:
                await self._dead_letter(msg, spec, repr(error))
                return "dead_lettered"
            delay = spec.backoff_seconds[min(delivered - 1, len(spec.backoff_seconds) - 1)]
            log.warning(
                "handler failed, will retry",
                extra={"consumer": spec.durable, "attempt": delivered, "error": repr(error)},
            )
            await msg.nak(delay=delay)
            return "failed"
        await msg.ack()
        return "ok"

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
        for unregister in self._unregister:
            unregister()
        self._stopping.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        # drain() can hang while a subscription still holds queued messages: bound it.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._client.drain(), timeout=5.0)
        if not self._client.is_closed:
            await self._client.close()
