"""The server's request pipeline: trace, measure, log, identify the caller, validate, map errors.

Each RPC's access level (public, authenticated, internal) and request type come from the
contracts' descriptors, so the rules live in one place: the .proto files.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import grpc
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import DecodeError
from grpc_status import rpc_status
from inbetwin.common.v1 import options_pb2
from opentelemetry.trace import SpanKind
from prometheus_client.metrics import Counter, Histogram

from services.kit import tracing
from services.kit.errors import ServiceError, invalid_argument
from services.kit.identity import caller_from_metadata, reset_caller, set_caller
from services.kit.metrics import counter, histogram
from services.kit.options import method_access
from services.kit.validation import validate_request

log = logging.getLogger("inbetwin.rpc")

_RPC_LABELS = ("grpc_type", "grpc_service", "grpc_method")
RPC_STARTED = counter("grpc_server_started_total", "RPCs started on the server.", _RPC_LABELS)
RPC_HANDLED = counter(
    "grpc_server_handled_total",
    "RPCs completed on the server, whatever their status code.",
    (*_RPC_LABELS, "grpc_code"),
)
RPC_SECONDS = histogram(
    "grpc_server_handling_seconds",
    "Time from the start of an RPC until its status (for streams: until the stream ends).",
    _RPC_LABELS,
)


class RpcName:
    """One RPC's names for spans and metrics, from its full method `/pkg.Service/Method`, and
    its metric series (looked up once, not per call)."""

    __slots__ = (
        "_handled",
        "full",
        "grpc_type",
        "method",
        "seconds",
        "service",
        "span_name",
        "started",
    )

    def __init__(self, full_method: str, grpc_type: str) -> None:
        self.full = full_method
        self.grpc_type = grpc_type
        self.service, _, self.method = full_method.lstrip("/").partition("/")
        self.span_name = f"{self.service}/{self.method}"
        labels = (grpc_type, self.service, self.method)
        self.started: Counter = RPC_STARTED.labels(*labels)
        self.seconds: Histogram = RPC_SECONDS.labels(*labels)
        self._handled: dict[grpc.StatusCode, Counter] = {}

    def handled(self, code: grpc.StatusCode) -> Counter:
        found = self._handled.get(code)
        if found is None:
            found = RPC_HANDLED.labels(self.grpc_type, self.service, self.method, code.name)
            self._handled[code] = found
        return found


@cache
def rpc_name(full_method: str, grpc_type: str) -> RpcName:
    return RpcName(full_method, grpc_type)


@dataclass(frozen=True, slots=True)
class MethodPolicy:
    """What the pipeline needs to know about one RPC."""

    needs_caller: bool
    validate: bool


@cache
def _method_descriptor(full_method: str) -> MethodDescriptor | None:
    service_name, _, method_name = full_method.lstrip("/").partition("/")
    if not service_name.startswith("inbetwin."):
        return None  # health, reflection: infrastructure with no caller
    try:
        service = descriptor_pool.Default().FindServiceByName(service_name)
    except KeyError:
        return None
    return service.methods_by_name.get(method_name)


@cache
def method_policy(full_method: str) -> MethodPolicy:
    method = _method_descriptor(full_method)
    if method is None:
        return MethodPolicy(needs_caller=False, validate=False)
    access = method_access(method)
    return MethodPolicy(needs_caller=access != options_pb2.ACCESS_PUBLIC, validate=True)


class RequestPipeline(grpc.aio.ServerInterceptor):
    """Wraps every handler: a server span (continuing the caller's `traceparent`), metrics,
    access log, caller identity, contract validation, rich errors."""

    def __init__(self, error_domain: str) -> None:
        self._domain = error_domain

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        policy = method_policy(method)
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(rpc_name(method, "unary"), policy, handler.unary_unary),
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(rpc_name(method, "server_stream"), policy, handler.unary_stream),
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
        return handler

    def _enter(
        self, policy: MethodPolicy, request: Any, metadata: Iterable[tuple[str, str | bytes]]
    ) -> Any:
        if isinstance(request, UndecodableRequest):
            raise ServiceError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "MALFORMED_REQUEST",
                f"the request is not a valid message: {request.reason}",
            )
        caller = caller_from_metadata(metadata)
        if policy.needs_caller and caller is None:
            raise ServiceError(
                grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED", "missing or invalid x-user-id"
            )
        if policy.validate:
            violations = validate_request(request)
            if violations:
                raise invalid_argument(violations)
        return set_caller(caller)

    @contextlib.asynccontextmanager
    async def _call(
        self, name: RpcName, policy: MethodPolicy, request: Any, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[None]:
        """One RPC's scope: a span and metrics around it; identity and validation on entry;
        errors mapped; one log line (inside the span, so it carries the trace id)."""
        started = time.perf_counter()
        metadata = _metadata(context)
        name.started.inc()
        span = tracing.start_rpc_span(
            name.span_name,
            kind=SpanKind.SERVER,
            service=name.service,
            method=name.method,
            parent=tracing.extract(metadata),
        )
        span_token = tracing.activate(span)
        token = None
        code = grpc.StatusCode.OK
        try:
            token = self._enter(policy, request, metadata)
            yield
        except ServiceError as error:
            code = error.code
            await _abort(context, error, self._domain)
        except grpc.aio.AbortError:
            code = context.code() or grpc.StatusCode.UNKNOWN
            raise
        except (asyncio.CancelledError, GeneratorExit):
            code = grpc.StatusCode.CANCELLED  # the caller went away (or a stream was closed)
            raise
        except NotImplementedError:
            # The generated base servicer's answer for an RPC not built yet.
            code = grpc.StatusCode.UNIMPLEMENTED
            await context.abort(code, f"{name.full} is not implemented yet")
        except Exception as error:
            code = grpc.StatusCode.INTERNAL
            span.record_exception(error)
            log.exception("unhandled error", extra={"rpc": name.full})
            await context.abort(grpc.StatusCode.INTERNAL, "internal error")
        finally:
            if token is not None:
                reset_caller(token)
            if code == grpc.StatusCode.OK:  # a handler may set a code without raising
                code = context.code() or code
            elapsed = time.perf_counter() - started
            name.handled(code).inc()
            name.seconds.observe(elapsed)
            self._log(name.full, code, elapsed, metadata)
            tracing.end_rpc_span(span, code, server=True)
            tracing.deactivate(span_token)

    def _wrap_unary(self, name: RpcName, policy: MethodPolicy, behavior: Any) -> Any:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
            async with self._call(name, policy, request, context):
                return await behavior(request, context)

        return wrapped

    def _wrap_stream(self, name: RpcName, policy: MethodPolicy, behavior: Any) -> Any:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            async with self._call(name, policy, request, context):
                responses = behavior(request, context)
                if inspect.isawaitable(responses):  # writes with context.write() (health Watch)
                    await responses
                    return
                async for response in responses:
                    yield response

        return wrapped

    @staticmethod
    def _log(
        method: str,
        code: grpc.StatusCode,
        elapsed: float,
        metadata: Iterable[tuple[str, str | bytes]],
    ) -> None:
        caller = caller_from_metadata(metadata)
        log.info(
            "rpc",
            extra={
                "rpc": method,
                "code": code.name,
                "latency_ms": round(elapsed * 1000, 3),
                "user": caller.user_id if caller else None,
            },
        )


def _metadata(context: grpc.aio.ServicerContext) -> tuple[tuple[str, str | bytes], ...]:
    return tuple((item[0], item[1]) for item in context.invocation_metadata() or ())


async def _abort(context: Any, error: ServiceError, domain: str) -> None:
    # grpc-stubs lacks aio's abort_with_status; it exists at runtime since grpcio 1.38.
    await context.abort_with_status(rpc_status.to_status(error.to_status(domain)))


@dataclass(frozen=True, slots=True)
class UndecodableRequest:
    """Bytes that do not parse as the request type (e.g. a string that is not UTF-8)."""

    reason: str


def _tolerant(deserialize: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """A deserializer that never raises: gRPC would answer a parse error with UNKNOWN (a 500 at
    the edge) before the pipeline runs; the pipeline answers INVALID_ARGUMENT instead."""
    if deserialize is None:
        return None

    def parse(data: bytes) -> Any:
        try:
            return deserialize(data)
        except DecodeError as error:
            return UndecodableRequest(str(error))

    return parse
