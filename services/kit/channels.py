"""Channels to peer services: `peer_channel(address)` is `grpc.aio.insecure_channel` plus a client
interceptor that sends the current trace context (`traceparent`) with every call, opens a client
span when tracing is on, and counts calls in `grpc_client_handled_total` /
`grpc_client_handling_seconds`. Use it for every service-to-service channel."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, cast

import grpc
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind
from prometheus_client.metrics import Counter, Histogram

from services.kit import tracing
from services.kit.metrics import counter, histogram

_RPC_LABELS = ("grpc_type", "grpc_service", "grpc_method")
CLIENT_HANDLED = counter(
    "grpc_client_handled_total",
    "RPCs to peer services completed, whatever their status code.",
    (*_RPC_LABELS, "grpc_code"),
)
CLIENT_SECONDS = histogram(
    "grpc_client_handling_seconds",
    "Time from the start of an RPC to a peer until its status (streams: until they end).",
    _RPC_LABELS,
)


def peer_channel(
    address: str,
    *,
    options: Sequence[tuple[str, Any]] | None = None,
    interceptors: Sequence[grpc.aio.ClientInterceptor] = (),
) -> grpc.aio.Channel:
    """An insecure channel to a peer (host:port) that carries the trace context."""
    ours = [
        cast(grpc.aio.ClientInterceptor, UnaryPeerInterceptor()),
        cast(grpc.aio.ClientInterceptor, StreamPeerInterceptor()),
    ]
    return grpc.aio.insecure_channel(address, options=options, interceptors=[*ours, *interceptors])


class _PeerMethod:
    """A peer RPC's names and metric series, looked up once."""

    def __init__(self, full_method: str, grpc_type: str) -> None:
        self.service, _, self.method = full_method.lstrip("/").partition("/")
        self.span_name = f"{self.service}/{self.method}"
        self._labels = (grpc_type, self.service, self.method)
        self.seconds: Histogram = CLIENT_SECONDS.labels(*self._labels)
        self._handled: dict[grpc.StatusCode, Counter] = {}

    def handled(self, code: grpc.StatusCode) -> Counter:
        found = self._handled.get(code)
        if found is None:
            found = self._handled[code] = CLIENT_HANDLED.labels(*self._labels, code.name)
        return found


@cache
def _peer_method(method: str | bytes, grpc_type: str) -> _PeerMethod:
    return _PeerMethod(method.decode() if isinstance(method, bytes) else method, grpc_type)


class _Call:
    """One outgoing RPC: its client span and when it started."""

    def __init__(self, method: str | bytes, grpc_type: str) -> None:
        self.peer = _peer_method(method, grpc_type)
        self.span: Span = tracing.start_rpc_span(
            self.peer.span_name,
            kind=SpanKind.CLIENT,
            service=self.peer.service,
            method=self.peer.method,
        )
        self.started = time.perf_counter()

    def details(self, original: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        if not self.span.get_span_context().is_valid:
            return original  # no trace to pass on
        headers = tracing.inject(trace.set_span_in_context(self.span))
        metadata = grpc.aio.Metadata(*(original.metadata or ()))
        for key, value in headers.items():
            metadata[key] = value
        return grpc.aio.ClientCallDetails(
            original.method,
            original.timeout,
            metadata,
            original.credentials,
            original.wait_for_ready,
        )

    def finish(self, code: grpc.StatusCode) -> None:
        self.peer.handled(code).inc()
        self.peer.seconds.observe(time.perf_counter() - self.started)
        tracing.end_rpc_span(self.span, code, server=False)


class UnaryPeerInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    """Trace context, client span and metrics for unary calls."""

    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        call = _Call(client_call_details.method, "unary")
        code = grpc.StatusCode.UNKNOWN
        rpc = None
        try:
            rpc = await continuation(call.details(client_call_details), request)
            code = await rpc.code()  # the caller still awaits `rpc` for its answer or error
            return rpc
        except asyncio.CancelledError:
            code = grpc.StatusCode.CANCELLED
            if rpc is not None:
                rpc.cancel()
            raise
        finally:
            call.finish(code)


class StreamPeerInterceptor(grpc.aio.UnaryStreamClientInterceptor):
    """The same for server-streaming calls, finished when the stream ends. (grpc.aio files an
    interceptor under one kind only, hence two classes.)"""

    def __init__(self) -> None:
        self._finishing: set[asyncio.Task[None]] = set()

    async def intercept_unary_stream(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        call = _Call(client_call_details.method, "server_stream")
        try:
            rpc = await continuation(call.details(client_call_details), request)
        except BaseException:
            call.finish(grpc.StatusCode.UNKNOWN)
            raise
        # The caller reads the stream after this returns: finish when it ends.
        task = asyncio.create_task(self._finish_stream(call, rpc))
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)
        return rpc

    @staticmethod
    async def _finish_stream(call: _Call, rpc: Any) -> None:
        code = grpc.StatusCode.CANCELLED
        try:
            code = await rpc.code()
        finally:
            call.finish(code)
