"""Helpers for the tracing and metrics tests: scraping a real `/metrics` endpoint with
Prometheus' own text parser, capturing the JSON log lines the kit writes, a database holding
the messaging tables, and W3C `traceparent` values."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import httpx
from inbetwin.auth.v1 import auth_service_pb2 as pb
from inbetwin.auth.v1 import auth_service_pb2_grpc
from inbetwin.events.v1 import auth_events_pb2
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.bus import EventBus
from services.kit.channels import peer_channel
from services.kit.config import ServiceSettings
from services.kit.db import create_engine
from services.kit.errors import not_found
from services.kit.events import new_event
from services.kit.logging import JsonFormatter
from services.kit.outbox import OUTBOX, OutboxRelay, add_event
from services.kit.server import Closer, ServerHandle, create_server
from services.kit.tracing import current_ids
from services.stack import Stack

WAIT_SECONDS = 30.0  # a bound for waiting on something asynchronous, not a performance check


def new_trace() -> tuple[str, str]:
    """A fresh (trace id, span id) in hex."""
    return secrets.token_hex(16), secrets.token_hex(8)


def traceparent(trace_id: str, span_id: str) -> str:
    return f"00-{trace_id}-{span_id}-01"


@dataclass(frozen=True)
class Samples:
    """One scrape: every sample by name and labels."""

    values: dict[tuple[str, frozenset[tuple[str, str]]], float]

    def value(self, name: str, **labels: str) -> float:
        """The sample's value; 0 when absent (a counter not incremented yet)."""
        return self.values.get((name, frozenset(labels.items())), 0.0)

    def has(self, name: str, **labels: str) -> bool:
        return (name, frozenset(labels.items())) in self.values

    def named(self, name: str) -> dict[frozenset[tuple[str, str]], float]:
        return {labels: value for (n, labels), value in self.values.items() if n == name}


async def scrape(url: str) -> Samples:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    values = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    return Samples(values)


async def scrape_until(url: str, condition: Callable[[Samples], bool], what: str) -> Samples:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        samples = await scrape(url)
        if condition(samples):
            return samples
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


class CapturedLogs(logging.Handler):
    """The kit's JSON log lines, as written (through JsonFormatter), parsed back."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter("test"))
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def matching(self, **fields: Any) -> list[dict[str, Any]]:
        return [line for line in self.lines if all(line.get(k) == v for k, v in fields.items())]

    def __enter__(self) -> CapturedLogs:
        root = logging.getLogger()
        self._level = root.level
        root.setLevel(logging.INFO)
        root.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        root = logging.getLogger()
        root.removeHandler(self)
        root.setLevel(self._level)


def log_lines(path: Path) -> list[dict[str, Any]]:
    """A service's JSON log file, parsed (lines that are not JSON are skipped)."""
    lines = []
    for text in path.read_text(errors="replace").splitlines():
        try:
            lines.append(json.loads(text))
        except ValueError:
            continue
    return lines


async def wait_for_log_line(path: Path, what: str, **fields: Any) -> dict[str, Any]:
    found: list[dict[str, Any]] = []

    def seen() -> bool:
        found[:] = [
            line
            for line in log_lines(path)
            if all(line.get(key) == value for key, value in fields.items())
        ]
        return bool(found)

    await eventually(seen, what)
    return found[0]


async def messaging_database(infra: Stack) -> str:
    """A new database with the kit's outbox and inbox tables; returns its SQLAlchemy URL."""
    name = f"kit_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(infra.postgres_dsn())
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = infra.database_url("auth").rsplit("/", 1)[0] + f"/{name}"
    engine = create_engine(url, pool_size=1)
    async with engine.begin() as connection:
        await connection.run_sync(OUTBOX.metadata.create_all)
    await engine.dispose()
    return url


class ObservedAuth(auth_service_pb2_grpc.AuthServiceServicer):
    """A small service on the kit: Register records an event in the outbox and calls GetJwks on
    itself over a peer channel; ListPlans and GetSubscription fail (NOT_FOUND, INTERNAL). Every
    handler remembers the (trace id, span id) current while it ran."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[str, str] | None] = {}
        self.engine: AsyncEngine | None = None
        self.relay: OutboxRelay | None = None
        self.peer: auth_service_pb2_grpc.AuthServiceStub | None = None

    async def Register(
        self, request: pb.RegisterRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterResponse:
        assert self.engine is not None
        assert self.relay is not None
        assert self.peer is not None
        self.seen[f"Register:{request.email}"] = current_ids()
        owner = str(uuid.uuid4())
        async with self.engine.begin() as connection:
            await add_event(
                connection,
                new_event(auth_events_pb2.UserRegistered, owner_id=owner, email=request.email),
            )
        self.relay.notify()
        await self.peer.GetJwks(pb.GetJwksRequest(), metadata=(("x-probe", request.email),))
        return pb.RegisterResponse(user=pb.User(id=owner, email=request.email))

    async def GetJwks(
        self, request: pb.GetJwksRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetJwksResponse:
        probe = dict(context.invocation_metadata() or ()).get("x-probe", "")
        self.seen[f"GetJwks:{probe!s}"] = current_ids()
        return pb.GetJwksResponse()

    async def ListPlans(
        self, request: pb.ListPlansRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPlansResponse:
        raise not_found("USER_NOT_FOUND", "no plans here")

    async def GetSubscription(
        self, request: pb.GetSubscriptionRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSubscriptionResponse:
        raise RuntimeError("boom")


@dataclass
class ObservedServer:
    handle: ServerHandle
    service: ObservedAuth
    stub: auth_service_pb2_grpc.AuthServiceStub
    database_url: str

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.handle.metrics_port}/metrics"


@asynccontextmanager
async def observed_server(infra: Stack) -> AsyncIterator[ObservedServer]:
    """ObservedAuth served by the kit's `create_server` (pipeline, metrics endpoint on a free
    port, outbox relay on real Postgres and NATS)."""
    database_url = await messaging_database(infra)
    settings = ServiceSettings(
        database_url=database_url,
        redis_url="redis://127.0.0.1:9/0",  # not used
        nats_url=infra.nats_url,
        metrics_port=0,
    )
    service = ObservedAuth()

    async def wire(server: grpc.aio.Server, settings: ServiceSettings) -> list[Closer]:
        engine = create_engine(settings.database_url, pool_size=2)
        bus = await EventBus.connect(settings.nats_url, name="kit-observed")
        relay = OutboxRelay(engine, bus, poll_interval=0.1)
        relay.start()
        service.engine, service.relay = engine, relay
        auth_service_pb2_grpc.add_AuthServiceServicer_to_server(service, server)
        return [engine.dispose, bus.close, relay.stop]

    handle = await create_server(
        settings,
        service_names=[pb.DESCRIPTOR.services_by_name["AuthService"].full_name],
        error_domain="auth.inbetwin.app",
        wire=wire,
    )
    address = f"127.0.0.1:{handle.port}"
    try:
        async with peer_channel(address) as own, peer_channel(address) as client:
            service.peer = auth_service_pb2_grpc.AuthServiceStub(own)
            stub = auth_service_pb2_grpc.AuthServiceStub(client)
            yield ObservedServer(handle, service, stub, database_url)
    finally:
        await handle.stop(0)
