"""Small helpers shared by auth's tests: accounts, error details, clients, events."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

import grpc
import httpx
import nats
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from nats.js.api import DeliverPolicy

PASSWORD = "correct horse battery"
M = TypeVar("M", bound=Message)


def unique_email(domain: str = "example.com") -> str:
    return f"user-{uuid.uuid4().hex[:12]}@{domain}"


async def register(
    rest: httpx.AsyncClient, email: str | None = None, password: str = PASSWORD
) -> dict[str, Any]:
    response = await rest.post(
        "/api/v1/auth/register",
        json={"email": email or unique_email(), "password": password, "display_name": "Ann"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def login(rest: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await rest.post("/api/v1/auth/login", json={"email": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def reason(body: dict[str, Any]) -> str | None:
    """The ErrorInfo reason of a REST error body."""
    for detail in body.get("details", []):
        if detail.get("@type", "").endswith("google.rpc.ErrorInfo"):
            return str(detail["reason"])
    return None


def retry_delay(body: dict[str, Any]) -> float | None:
    """RetryInfo's delay in seconds from a REST error body."""
    for detail in body.get("details", []):
        if detail.get("@type", "").endswith("google.rpc.RetryInfo"):
            delay = detail.get("retryDelay", detail.get("retry_delay"))
            return float(str(delay).rstrip("s"))
    return None


def grpc_status(error: grpc.aio.AioRpcError) -> status_pb2.Status:
    """The rich status (google.rpc.Status) a gRPC error carries in its trailers."""
    trailers = cast("Iterable[tuple[str, str | bytes]]", error.trailing_metadata() or ())
    for key, value in trailers:
        if key == "grpc-status-details-bin" and isinstance(value, bytes):
            return status_pb2.Status.FromString(value)
    raise AssertionError(f"no rich status in {error!r}")


def grpc_detail(error: grpc.aio.AioRpcError, kind: type[M]) -> M | None:
    for packed in grpc_status(error).details:
        if packed.Is(kind.DESCRIPTOR):
            detail = kind()
            packed.Unpack(detail)
            return detail
    return None


def grpc_reason(error: grpc.aio.AioRpcError) -> str | None:
    info = grpc_detail(error, error_details_pb2.ErrorInfo)
    return info.reason if info else None


def loopback_address() -> str:
    """A fresh loopback address (127.0.0.0/8 all reaches this host): a distinct client."""
    return f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


@asynccontextmanager
async def client_from(
    base_url: str, address: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A REST client whose connections come from `address` (default: a fresh one)."""
    transport = httpx.AsyncHTTPTransport(local_address=address or loopback_address())
    async with httpx.AsyncClient(base_url=base_url, timeout=20, transport=transport) as client:
        yield client


async def next_event(
    nats_url: str, subject: str, kind: type[M], *, owner_id: str, within: float = 15.0
) -> M:
    """The first event of `kind` on `subject` for `owner_id`, reading the stream from the start."""
    connection = await nats.connect(nats_url)
    try:
        subscription = await connection.jetstream().subscribe(
            subject, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
        )
        deadline = asyncio.get_running_loop().time() + within
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no {kind.__name__} for {owner_id} on {subject}")
            try:
                message = await subscription.next_msg(timeout=remaining)
            except nats.errors.TimeoutError:
                continue
            event = kind.FromString(message.data)
            if getattr(event, "owner_id") == owner_id:  # noqa: B009 - every event has it
                return event
    finally:
        await connection.close()
