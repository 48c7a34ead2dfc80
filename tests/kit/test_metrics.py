"""Prometheus metrics scraped from a real kit server's `/metrics` endpoint: RPCs by method and
code, peer calls, outbox backlog and relay errors, consumer outcomes and lag, and the API for a
service's own metrics. The registry is process-wide, so every check compares two scrapes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from inbetwin.auth.v1 import auth_service_pb2 as pb
from inbetwin.events.v1 import auth_events_pb2
from prometheus_client import Counter, Histogram

from services.kit import metrics
from services.kit.bus import ConsumerSpec, EventBus
from services.kit.channels import peer_channel
from services.kit.db import create_engine
from services.kit.events import new_event
from services.kit.outbox import OutboxRelay, add_event
from services.stack import Stack
from tests.kit.telemetry import (
    WAIT_SECONDS,
    ObservedServer,
    Samples,
    eventually,
    messaging_database,
    observed_server,
    scrape,
    scrape_until,
)

AUTH = "inbetwin.auth.v1.AuthService"
USER = "5f0c6f5e-1d2b-4c3a-9e8f-0a1b2c3d4e5f"
SUBJECT = "inbetwin.auth.user.registered"


@pytest.fixture(scope="module")
async def observed(infra: Stack) -> AsyncIterator[ObservedServer]:
    async with observed_server(infra) as server:
        yield server


@pytest.fixture
async def bus(infra: Stack) -> AsyncIterator[EventBus]:
    bus = await EventBus.connect(infra.nats_url, name=f"metrics-{uuid.uuid4().hex[:6]}")
    yield bus
    await bus.close()


def _handled(samples: Samples, side: str, method: str, code: str) -> float:
    return samples.value(
        f"grpc_{side}_handled_total",
        grpc_type="unary",
        grpc_service=AUTH,
        grpc_method=method,
        grpc_code=code,
    )


async def test_rpcs_are_counted_by_method_and_code_with_latency(observed: ObservedServer) -> None:
    before = await scrape(observed.metrics_url)
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    await observed.stub.Register(
        pb.RegisterRequest(email=email, password="correct horse", display_name="Ann")
    )
    failures = [
        (observed.stub.Register(pb.RegisterRequest(email="x", password="1")), "INVALID_ARGUMENT"),
        (observed.stub.ListPlans(pb.ListPlansRequest()), "NOT_FOUND"),
        (observed.stub.GetSubscription(pb.GetSubscriptionRequest()), "UNAUTHENTICATED"),
        (
            observed.stub.GetSubscription(
                pb.GetSubscriptionRequest(), metadata=(("x-user-id", USER),)
            ),
            "INTERNAL",
        ),
    ]
    for call, code in failures:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await call
        assert raised.value.code().name == code
    after = await scrape(observed.metrics_url)

    def delta(side: str, method: str, code: str) -> float:
        return _handled(after, side, method, code) - _handled(before, side, method, code)

    assert delta("server", "Register", "OK") == 1
    assert delta("server", "Register", "INVALID_ARGUMENT") == 1
    assert delta("server", "ListPlans", "NOT_FOUND") == 1
    assert delta("server", "GetSubscription", "UNAUTHENTICATED") == 1
    assert delta("server", "GetSubscription", "INTERNAL") == 1
    # Register called GetJwks over a peer channel: counted on both sides.
    assert delta("server", "GetJwks", "OK") == 1
    assert delta("client", "GetJwks", "OK") == 1
    assert delta("client", "ListPlans", "NOT_FOUND") == 1
    labels = {"grpc_type": "unary", "grpc_service": AUTH, "grpc_method": "Register"}
    started = "grpc_server_started_total"
    assert after.value(started, **labels) - before.value(started, **labels) == 2
    count = "grpc_server_handling_seconds_count"
    assert after.value(count, **labels) - before.value(count, **labels) == 2
    assert after.value("grpc_server_handling_seconds_sum", **labels) > before.value(
        "grpc_server_handling_seconds_sum", **labels
    )
    # Buckets are cumulative: the +Inf bucket holds every call.
    inf = after.value("grpc_server_handling_seconds_bucket", **labels, le="+Inf")
    assert inf == after.value(count, **labels)
    assert after.has("process_cpu_seconds_total")


async def test_outbox_backlog_and_relay_errors_are_measured_at_scrape_time(
    infra: Stack, observed: ObservedServer
) -> None:
    engine = create_engine(await messaging_database(infra), pool_size=2)
    broken = await EventBus.connect(infra.nats_url, name="broken")
    await broken.close()  # publishing fails from now on
    stuck = OutboxRelay(engine, broken, poll_interval=0.05)
    async with engine.begin() as connection:
        for _ in range(3):
            await add_event(
                connection, new_event(auth_events_pb2.UserRegistered, owner_id=str(uuid.uuid4()))
            )
    errors_before = (await scrape(observed.metrics_url)).value("inbetwin_outbox_relay_errors_total")
    stuck.start()  # replaces the observed server's relay as this process's outbox probe
    try:
        stalled = await scrape_until(
            observed.metrics_url,
            lambda s: s.value("inbetwin_outbox_relay_errors_total") > errors_before,
            "a failed relay pass",
        )
        assert stalled.value("inbetwin_outbox_backlog_rows") == 3
        assert stalled.value("inbetwin_outbox_oldest_unpublished_age_seconds") > 0
    finally:
        await stuck.stop()
    working = await EventBus.connect(infra.nats_url, name="working")
    relayed_before = stalled.value("inbetwin_outbox_relayed_total")
    relay = OutboxRelay(engine, working, poll_interval=0.05)
    relay.start()
    try:
        drained = await scrape_until(
            observed.metrics_url,
            lambda s: s.value("inbetwin_outbox_backlog_rows") == 0,
            "the backlog to drain",
        )
        assert drained.value("inbetwin_outbox_relayed_total") - relayed_before == 3
        assert drained.value("inbetwin_outbox_oldest_unpublished_age_seconds") == 0
    finally:
        await relay.stop()
        await working.close()
        await engine.dispose()
    # A stopped relay is no longer probed.
    assert not (await scrape(observed.metrics_url)).has("inbetwin_outbox_backlog_rows")


async def test_consumer_outcomes_and_lag(observed: ObservedServer, bus: EventBus) -> None:
    durable = f"lag-{uuid.uuid4().hex[:8]}"
    ours = {str(uuid.uuid4()) for _ in range(5)}
    failed_once: set[str] = set()
    succeeded: set[str] = set()
    release = asyncio.Event()

    async def handle(event: auth_events_pb2.UserRegistered) -> None:
        if event.owner_id not in ours:
            return
        await release.wait()
        if event.owner_id not in failed_once:
            failed_once.add(event.owner_id)
            raise RuntimeError("fails once")
        succeeded.add(event.owner_id)

    bus.consume(
        ConsumerSpec(
            durable=durable, subjects=[SUBJECT], batch=1, concurrency=1, backoff_seconds=(0.01,)
        ),
        auth_events_pb2.UserRegistered,
        handle,
    )
    url = observed.metrics_url
    pending = "inbetwin_consumer_pending_messages"
    try:
        # The stream's earlier events (other tests') are handled first.
        await scrape_until(
            url,
            lambda s: s.has(pending, consumer=durable) and s.value(pending, consumer=durable) == 0,
            "the consumer to catch up",
        )
        for owner in sorted(ours):
            await bus.publish(new_event(auth_events_pb2.UserRegistered, owner_id=owner))
        # The first handler waits and concurrency is 1: the rest wait in the stream, as lag.
        lagging = await scrape_until(
            url,
            lambda s: s.value("inbetwin_consumer_ack_pending_messages", consumer=durable) >= 1,
            "a delivery waiting for its ack",
        )
        assert 1 <= lagging.value(pending, consumer=durable) <= len(ours) - 1
    finally:
        release.set()
    await eventually(lambda: succeeded == ours, "every event to be handled")
    done = await scrape_until(
        url,
        lambda s: (
            s.value(pending, consumer=durable) == 0
            and s.value("inbetwin_consumer_ack_pending_messages", consumer=durable) == 0
        ),
        "the consumer to be idle",
    )
    handled = "inbetwin_events_handled_total"
    assert done.value(handled, consumer=durable, outcome="ok") >= len(ours)
    assert done.value(handled, consumer=durable, outcome="failed") == len(ours)
    assert done.value(handled, consumer=durable, outcome="dead_lettered") == 0
    assert done.value("inbetwin_event_handling_seconds_count", consumer=durable) >= 2 * len(ours)
    assert done.value("inbetwin_events_published_total", subject=SUBJECT) >= len(ours)
    await bus.close()
    # A closed bus's consumers are no longer probed.
    assert not (await scrape(url)).has(pending, consumer=durable)


def test_services_define_their_own_metrics_once() -> None:
    sends = metrics.counter(
        "inbetwin_test_sends_throttled_total", "Sends held back by a rate limit.", ["platform"]
    )
    assert isinstance(sends, Counter)
    assert (
        metrics.counter(
            "inbetwin_test_sends_throttled_total", "Sends held back by a rate limit.", ["platform"]
        )
        is sends
    )
    with pytest.raises(ValueError, match="already exists"):
        metrics.counter("inbetwin_test_sends_throttled_total", "Other labels.", ["channel"])
    with pytest.raises(ValueError, match="already exists"):
        metrics.histogram("inbetwin_test_sends_throttled_total", "Another kind.", ["platform"])
    waits = metrics.histogram("inbetwin_test_send_wait_seconds", "Time held back.", ["platform"])
    assert isinstance(waits, Histogram)
    sends.labels("telegram").inc()
    waits.labels("telegram").observe(0.2)


async def test_own_metrics_are_served(observed: ObservedServer) -> None:
    sends = metrics.counter(
        "inbetwin_test_sends_throttled_total", "Sends held back by a rate limit.", ["platform"]
    )
    before = (await scrape(observed.metrics_url)).value(
        "inbetwin_test_sends_throttled_total", platform="vk"
    )
    sends.labels("vk").inc(2)
    after = await scrape(observed.metrics_url)
    assert after.value("inbetwin_test_sends_throttled_total", platform="vk") - before == 2


async def test_a_slow_probe_is_left_out_not_waited_for(observed: ObservedServer) -> None:
    async def slow() -> metrics.Reading:
        await asyncio.sleep(WAIT_SECONDS)
        return metrics.Reading({}, {"inbetwin_test_slow": 1.0})

    async def failing() -> metrics.Reading:
        raise RuntimeError("store down")

    async def fast() -> metrics.Reading:
        return metrics.Reading({"store": "a"}, {"inbetwin_test_fast": 7.0})

    removers = [
        metrics.PROBES.add("test-slow", slow),
        metrics.PROBES.add("test-failing", failing),
        metrics.PROBES.add("test-fast", fast),
    ]
    try:
        samples = await scrape(observed.metrics_url)
    finally:
        for remove in removers:
            remove()
    assert not samples.has("inbetwin_test_slow")
    assert samples.value("inbetwin_test_fast", store="a") == 7
    assert samples.has(
        "grpc_server_started_total", grpc_type="unary", grpc_service=AUTH, grpc_method="Register"
    )


async def test_streams_are_measured_until_they_end(observed: ObservedServer) -> None:
    health = "grpc.health.v1.Health"
    labels = {"grpc_type": "server_stream", "grpc_service": health, "grpc_method": "Watch"}
    before = await scrape(observed.metrics_url)
    address = f"127.0.0.1:{observed.handle.port}"
    async with peer_channel(address) as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest())
        first = await watch.read()
        assert first.status == health_pb2.HealthCheckResponse.SERVING
        watch.cancel()

    def cancelled(samples: Samples, side: str) -> float:
        return samples.value(f"grpc_{side}_handled_total", **labels, grpc_code="CANCELLED")

    # A write-style handler (health's Watch) streams through the pipeline too.
    after = await scrape_until(
        observed.metrics_url,
        lambda s: all(
            cancelled(s, side) > cancelled(before, side) for side in ("server", "client")
        ),
        "both sides to count the cancelled stream",
    )
    assert cancelled(after, "client") - cancelled(before, "client") == 1
    assert after.value("grpc_server_handled_total", **labels, grpc_code="OK") == before.value(
        "grpc_server_handled_total", **labels, grpc_code="OK"
    )
