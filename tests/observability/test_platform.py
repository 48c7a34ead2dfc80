"""Observability of the running platform (auth, agent and llm behind Envoy, as `make up` runs
them), with every service exporting spans over OTLP to a real receiver in this process:

* each service's `/metrics` after real REST calls through Envoy, and Envoy's own statistics;
* a client's trace continuing through Envoy into auth, and into the event auth publishes;
* one trace from an RPC into agent, through its outbox and NATS, into llm's consumer, in the
  spans of both services and in both services' log lines.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest
from inbetwin.agent.v1 import action_pb2, agent_service_pb2_grpc
from inbetwin.agent.v1 import agent_service_pb2 as agent_pb
from inbetwin.events.v1 import agent_events_pb2, auth_events_pb2

from services.kit.events import subject_of
from services.stack import Stack
from services.stack.cli import _summary
from services.stack.cli import main as inbetwin
from tests.kit.telemetry import (
    WAIT_SECONDS,
    new_trace,
    scrape,
    scrape_until,
    traceparent,
    wait_for_log_line,
)
from tests.observability.otlp_receiver import OtlpReceiver, ReceivedSpan

TRACED = ("auth", "agent", "llm")
PASSWORD = "correct horse battery"
AUTH = "inbetwin.auth.v1.AuthService"


@dataclass(frozen=True)
class Traced:
    stack: Stack
    otlp: OtlpReceiver

    async def spans(self, trace_id: str, want: int) -> list[ReceivedSpan]:
        """The spans of one trace, once at least `want` of them arrived."""

        def enough(spans: list[ReceivedSpan]) -> bool:
            return sum(span.trace_id == trace_id for span in spans) >= want

        received = await asyncio.to_thread(self.otlp.wait_for, enough, WAIT_SECONDS)
        return [span for span in received if span.trace_id == trace_id]


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Traced]:
    """The receiver outlives the services, so their last spans are flushed at shutdown."""
    with OtlpReceiver() as otlp:
        extra_env = {
            name: {
                f"INBETWIN_{name.upper()}_OTLP_ENDPOINT": otlp.endpoint,
                # The SDK's own setting: export every 50 ms instead of every 5 s.
                "OTEL_BSP_SCHEDULE_DELAY": "50",
            }
            for name in TRACED
        }
        stack = Stack(tmp_path_factory.mktemp("traced"), services=TRACED)
        try:
            stack.start(extra_env)
            yield Traced(stack, otlp)
        finally:
            stack.stop()
            stack.remove_external_data()


@pytest.fixture
async def rest(traced: Traced) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=traced.stack.rest_url, timeout=20) as client:
        yield client


async def _register(rest: httpx.AsyncClient, **headers: str) -> dict[str, Any]:
    response = await rest.post(
        "/api/v1/auth/register",
        json={
            "email": f"obs-{uuid.uuid4().hex[:10]}@example.com",
            "password": PASSWORD,
            "display_name": "Ann",
        },
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_every_service_has_a_metrics_endpoint_listed_with_the_others(
    traced: Traced, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoints = traced.stack.endpoints()
    for name in TRACED:
        assert endpoints[f"metrics.{name}"] == traced.stack.metrics_url(name)
        assert traced.stack.metrics_url(name).endswith("/metrics")
    with pytest.raises(SystemExit) as exited:
        inbetwin(["--state-dir", str(traced.stack.paths.root), "url", "metrics.llm"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == traced.stack.metrics_url("llm")
    summary = _summary(traced.stack, infra_only=False)  # what `make up` prints
    assert traced.stack.topology.envoy_stats_url in summary
    assert all(traced.stack.metrics_url(name) in summary for name in TRACED)


def _handled(samples: Any, method: str, code: str) -> float:
    value: float = samples.value(
        "grpc_server_handled_total",
        grpc_type="unary",
        grpc_service=AUTH,
        grpc_method=method,
        grpc_code=code,
    )
    return value


async def test_services_serve_metrics_after_rest_calls_through_envoy(
    traced: Traced, rest: httpx.AsyncClient
) -> None:
    url = traced.stack.metrics_url("auth")
    before = await scrape(url)
    account = await _register(rest)
    token = account["tokens"]["access_token"]
    me = await rest.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    bad = await rest.post("/api/v1/auth/register", json={"email": "nope", "password": "x"})
    assert bad.status_code == 400
    rejected = await rest.get("/api/v1/auth/me")  # stopped at the edge: auth never sees it
    assert rejected.status_code == 401
    after = await scrape(url)

    def delta(method: str, code: str) -> float:
        return _handled(after, method, code) - _handled(before, method, code)

    assert delta("Register", "OK") == 1
    assert delta("Register", "INVALID_ARGUMENT") == 1
    assert delta("GetMe", "OK") == 1
    assert delta("GetMe", "UNAUTHENTICATED") == 0
    labels = {"grpc_type": "unary", "grpc_service": AUTH, "grpc_method": "GetMe"}
    assert after.value("grpc_server_handling_seconds_count", **labels) > before.value(
        "grpc_server_handling_seconds_count", **labels
    )
    # The outbox is measured at scrape time; registering wrote an event that gets relayed.
    assert after.has("inbetwin_outbox_backlog_rows")
    subject = subject_of(auth_events_pb2.UserRegistered)
    await scrape_until(
        url,
        lambda s: (
            s.value("inbetwin_events_published_total", subject=subject)
            > before.value("inbetwin_events_published_total", subject=subject)
        ),
        "auth's event to be published",
    )
    # Consumers report their lag: llm's facts consumer is idle here.
    llm = await scrape(traced.stack.metrics_url("llm"))
    assert llm.value("inbetwin_consumer_pending_messages", consumer="llm-contact-facts") == 0
    assert llm.has("inbetwin_consumer_ack_pending_messages", consumer="llm-contact-facts")
    assert (await scrape(traced.stack.metrics_url("agent"))).has("process_cpu_seconds_total")


async def test_envoy_serves_its_statistics_for_prometheus(
    traced: Traced, rest: httpx.AsyncClient
) -> None:
    await _register(rest)
    stats = await scrape(traced.stack.topology.envoy_stats_url)
    upstream = stats.named("envoy_cluster_upstream_rq_total")
    by_cluster = {
        dict(labels).get("envoy_cluster_name"): value for labels, value in upstream.items()
    }
    assert by_cluster.get("auth", 0) >= 1
    downstream = stats.named("envoy_http_downstream_rq_total")
    assert any(
        dict(labels).get("envoy_http_conn_manager_prefix") == "edge" for labels in downstream
    )
    assert traced.stack.endpoints()["envoy_stats"] == traced.stack.topology.envoy_stats_url


async def test_a_client_trace_continues_through_envoy_into_auth_and_its_event(
    traced: Traced, rest: httpx.AsyncClient
) -> None:
    trace_id, client_span = new_trace()
    account = await _register(rest, traceparent=traceparent(trace_id, client_span))
    spans = await traced.spans(trace_id, want=2)
    [server] = [s for s in spans if s.kind == "server"]
    assert (server.service, server.name) == ("auth", f"{AUTH}/Register")
    assert server.parent_span_id == client_span
    assert server.attributes["rpc.grpc.status_code"] == 0
    [publish] = [s for s in spans if s.kind == "producer"]
    assert publish.name == f"publish {subject_of(auth_events_pb2.UserRegistered)}"
    assert publish.parent_span_id == server.span_id  # recorded in the RPC, relayed later
    line = await wait_for_log_line(
        traced.stack.logs_dir / "auth.log",
        "auth's log line of the RPC",
        message="rpc",
        rpc=f"/{AUTH}/Register",
        trace_id=trace_id,
    )
    assert line["span_id"] == server.span_id
    assert line["code"] == "OK"
    assert account["user"]["id"]


async def test_a_trace_flows_from_an_rpc_through_nats_into_another_services_consumer(
    traced: Traced, rest: httpx.AsyncClient
) -> None:
    account = await _register(rest)
    owner = account["user"]["id"]
    created = await rest.post(
        "/api/v1/agent/agents",
        json={
            "agent": {
                "display_name": "Observed",
                "system_prompt": "p",
                "builtin_tools": ["BUILTIN_TOOL_SAVE_USER_INFO"],
            }
        },
        headers={"Authorization": f"Bearer {account['tokens']['access_token']}"},
    )
    assert created.status_code == 200, created.text
    trace_id, caller_span = new_trace()
    # llm calls agent's internal ExecuteTool like this, with its trace context as metadata.
    async with grpc.aio.insecure_channel(traced.stack.service_address("agent")) as channel:
        result = await agent_service_pb2_grpc.AgentServiceStub(channel).ExecuteTool(
            agent_pb.ExecuteToolRequest(
                agent_id=created.json()["agent"]["id"],
                integration_id=str(uuid.uuid4()),
                contact_id=str(uuid.uuid4()),
                message_id=str(uuid.uuid4()),
                tool_name="save_user_info",
                arguments_json=json.dumps({"name": "Ivan"}),
                call_id=f"{uuid.uuid4()}:call_1",
            ),
            metadata=(("x-user-id", owner), ("traceparent", traceparent(trace_id, caller_span))),
        )
    assert result.status == action_pb2.ACTION_STATUS_SUCCEEDED, result
    subject = subject_of(agent_events_pb2.UserInfoSaved)

    def consumed(spans: list[ReceivedSpan]) -> bool:
        # Each service exports on its own schedule: wait for both ends of the trace.
        ours = [s for s in spans if s.trace_id == trace_id]
        return any(s.kind == "consumer" and s.service == "llm" for s in ours) and any(
            s.kind == "server" and s.service == "agent" for s in ours
        )

    received = await asyncio.to_thread(traced.otlp.wait_for, consumed, WAIT_SECONDS)
    spans = {s.span_id: s for s in received if s.trace_id == trace_id}
    [server] = [s for s in spans.values() if s.kind == "server"]
    assert (server.service, server.name) == ("agent", "inbetwin.agent.v1.AgentService/ExecuteTool")
    assert server.parent_span_id == caller_span
    [consumer] = [s for s in spans.values() if s.kind == "consumer" and s.service == "llm"]
    assert consumer.name == f"process {subject}"
    assert consumer.attributes["messaging.consumer.group.name"] == "llm-contact-facts"
    publish = spans[consumer.parent_span_id]
    assert (publish.service, publish.kind, publish.name) == (
        "agent",
        "producer",
        f"publish {subject}",
    )
    assert publish.parent_span_id == server.span_id
    # The same trace id in both services' log lines: the RPC in agent's, the delivery in llm's.
    rpc_line = await wait_for_log_line(
        traced.stack.logs_dir / "agent.log",
        "agent's log line of the RPC",
        message="rpc",
        trace_id=trace_id,
    )
    assert rpc_line["rpc"] == "/inbetwin.agent.v1.AgentService/ExecuteTool"
    event_line = await wait_for_log_line(
        traced.stack.logs_dir / "llm.log",
        "llm's log line of the delivery",
        message="event",
        consumer="llm-contact-facts",
        trace_id=trace_id,
    )
    assert event_line["span_id"] == consumer.span_id
    assert event_line["outcome"] == "ok"
