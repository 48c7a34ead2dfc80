"""Trace context through the kit without an OTLP endpoint (the default): an incoming
`traceparent` reaches the handler, the log lines, a peer called over `peer_channel`, the outbox
relay's NATS message and the consumer's handler; nothing is recorded. The exporting side is
tested on the running platform (tests/observability)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from inbetwin.auth.v1 import auth_service_pb2 as pb
from inbetwin.events.v1 import auth_events_pb2
from opentelemetry import trace

from services.kit.bus import ConsumerSpec, EventBus
from services.kit.tracing import current_ids, extract, inject
from services.stack import Stack
from tests.kit.telemetry import (
    WAIT_SECONDS,
    CapturedLogs,
    ObservedServer,
    eventually,
    new_trace,
    observed_server,
    traceparent,
)

SUBJECT = "inbetwin.auth.user.registered"


@pytest.fixture(scope="module")
async def observed(infra: Stack) -> AsyncIterator[ObservedServer]:
    async with observed_server(infra) as server:
        yield server


@pytest.fixture
async def consumer_bus(infra: Stack) -> AsyncIterator[EventBus]:
    bus = await EventBus.connect(infra.nats_url, name=f"consumer-{uuid.uuid4().hex[:6]}")
    yield bus
    await bus.close()


def _register(email: str) -> pb.RegisterRequest:
    return pb.RegisterRequest(email=email, password="correct horse", display_name="Ann")


async def test_a_trace_flows_from_an_rpc_through_nats_into_the_consumer_and_its_logs(
    observed: ObservedServer, consumer_bus: EventBus
) -> None:
    trace_id, caller_span = new_trace()
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    handled: dict[str, tuple[str, str] | None] = {}
    done = asyncio.Event()

    async def handle(event: auth_events_pb2.UserRegistered) -> None:
        if event.email == email:
            handled["ids"] = current_ids()
            done.set()

    durable = f"trace-{uuid.uuid4().hex[:8]}"
    with CapturedLogs() as logs:
        consumer_bus.consume(
            ConsumerSpec(durable=durable, subjects=[SUBJECT]),
            auth_events_pb2.UserRegistered,
            handle,
        )
        await observed.stub.Register(
            _register(email), metadata=(("traceparent", traceparent(trace_id, caller_span)),)
        )
        await asyncio.wait_for(done.wait(), WAIT_SECONDS)
        await eventually(
            lambda: any(line.get("consumer") == durable for line in logs.matching(message="event")),
            "the consumer's event log line",
        )

    # The handler, its call to a peer, and the consumer all ran inside the caller's trace.
    for ids in (
        observed.service.seen[f"Register:{email}"],
        observed.service.seen[f"GetJwks:{email}"],
        handled["ids"],
    ):
        assert ids is not None
        assert ids[0] == trace_id
    # Nothing is recorded without an OTLP endpoint, so no span ids are made up on the way.
    assert handled["ids"] == (trace_id, caller_span)
    # Every log line of the request carries the trace id: both RPCs and the delivery.
    register_lines = logs.matching(rpc="/inbetwin.auth.v1.AuthService/Register")
    jwks_lines = logs.matching(rpc="/inbetwin.auth.v1.AuthService/GetJwks")
    [delivery] = [
        line
        for line in logs.matching(message="event", consumer=durable)
        if line.get("trace_id") == trace_id
    ]
    assert [line["trace_id"] for line in register_lines] == [trace_id]
    assert trace_id in [line.get("trace_id") for line in jwks_lines]
    assert delivery["outcome"] == "ok"
    assert delivery["subject"] == SUBJECT


async def test_without_a_caller_trace_nothing_is_invented(observed: ObservedServer) -> None:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    with CapturedLogs() as logs:
        await observed.stub.Register(_register(email))
    assert observed.service.seen[f"Register:{email}"] is None
    assert observed.service.seen[f"GetJwks:{email}"] is None
    [line] = logs.matching(rpc="/inbetwin.auth.v1.AuthService/Register")
    assert "trace_id" not in line
    assert not trace.get_current_span().is_recording()


def test_trace_headers_round_trip() -> None:
    trace_id, span_id = new_trace()
    context = extract([("TraceParent", traceparent(trace_id, span_id)), ("x-other", "1")])
    assert inject(context) == {"traceparent": traceparent(trace_id, span_id)}
    assert inject(extract([("traceparent", "garbage")])) == {}
    assert inject(extract([])) == {}
