"""OpenTelemetry tracing: W3C trace context (`traceparent`) across gRPC calls and NATS messages,
and spans exported over OTLP when `otlp_endpoint` is set.

Without an endpoint only the OpenTelemetry API runs: no span is recorded or exported, but a
context that arrives with a call or a message becomes current, so log lines, outgoing calls and
published events carry the caller's trace id (a few microseconds per RPC).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from contextvars import Token
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from services.kit.config import ServiceSettings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

# A proxy: it follows the provider `configure_tracing` installs, or stays a no-op without one.
TRACER = trace.get_tracer("inbetwin")


class _Exporting:
    """Whether `configure_tracing` installed the SDK in this process."""

    on = False


_PROPAGATOR = TraceContextTextMapPropagator()
TRACE_HEADERS = frozenset(_PROPAGATOR.fields)  # traceparent, tracestate

# The server's fault, not the caller's (OpenTelemetry's rule for gRPC server spans).
_SERVER_ERRORS = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)


@dataclass(frozen=True, slots=True)
class Tracing:
    """The installed SDK provider, or None when nothing is exported."""

    provider: TracerProvider | None

    def shutdown(self) -> None:
        """Export what is still buffered (call once, when the process stops)."""
        if self.provider is not None:
            self.provider.shutdown()


def configure_tracing(service: str, settings: ServiceSettings) -> Tracing:
    """Install the SDK with a batching OTLP/gRPC exporter when `settings.otlp_endpoint` is set.

    Process-wide (OpenTelemetry has one global provider): call once, from `main`.
    """
    if not settings.otlp_endpoint:
        return Tracing(None)
    # Imported here: a service that exports nothing does not load the SDK (~80 ms).
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    provider = TracerProvider(
        resource=Resource.create({"service.name": service, "service.namespace": "inbetwin"}),
        sampler=ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)),
    )
    exporter = OTLPSpanExporter(
        endpoint=settings.otlp_endpoint, insecure=settings.otlp_endpoint.startswith("http://")
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _Exporting.on = True
    return Tracing(provider)


def extract(headers: Iterable[tuple[str, str | bytes]]) -> Context:
    """The remote parent carried by gRPC metadata or message headers (empty when absent)."""
    carrier = {
        key.lower(): value
        for key, value in headers
        if isinstance(value, str) and key.lower() in TRACE_HEADERS
    }
    return _PROPAGATOR.extract(carrier, context=Context()) if carrier else Context()


def inject(context: Context | None = None) -> dict[str, str]:
    """The `traceparent`/`tracestate` headers of `context` (default: the current one); empty
    when it holds no valid span."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=context)
    return carrier


def context_of(span_context: trace.SpanContext) -> Context:
    """A context whose parent is `span_context` (e.g. remembered from another task)."""
    return trace.set_span_in_context(trace.NonRecordingSpan(span_context), Context())


def start_span(
    name: str,
    *,
    kind: SpanKind,
    parent: Context | None = None,
    attributes: Callable[[], Mapping[str, AttributeValue]] | None = None,
) -> Span:
    """A span, child of `parent` (default: the current context).

    When nothing is exported this is the parent's span itself (what OpenTelemetry's no-op
    tracer returns too), without building names, attributes or contexts: the parent's trace
    context is all there is to pass on."""
    if not _Exporting.on:
        return trace.get_current_span(parent)
    return TRACER.start_span(
        name, context=parent, kind=kind, attributes=attributes() if attributes else None
    )


def activate(span: Span) -> Token[Context] | None:
    """Make `span` current until `deactivate` (nothing to do for an empty span)."""
    if not span.get_span_context().is_valid:
        return None
    return otel_context.attach(trace.set_span_in_context(span))


def deactivate(token: Token[Context] | None) -> None:
    """Undo `activate`, tolerating a streaming handler's generator that is finished from another
    context (as `reset_caller` does): that context never had the span, so there is nothing to
    undo there, and OpenTelemetry's own `detach` would log an error."""
    if token is not None:
        with contextlib.suppress(ValueError):
            token.var.reset(token)


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the current span in hex, or None when there is none."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


def start_rpc_span(
    name: str, *, kind: SpanKind, service: str, method: str, parent: Context | None = None
) -> Span:
    return start_span(
        name,
        kind=kind,
        parent=parent,
        attributes=lambda: {"rpc.system": "grpc", "rpc.service": service, "rpc.method": method},
    )


def end_span(span: Span) -> None:
    """End a span from `start_span` (without an exporter that is the parent's: left alone)."""
    if _Exporting.on:
        span.end()


def end_rpc_span(span: Span, code: grpc.StatusCode, *, server: bool) -> None:
    if span.is_recording():
        span.set_attribute("rpc.grpc.status_code", code.value[0])
        if (code in _SERVER_ERRORS) if server else code != grpc.StatusCode.OK:
            span.set_status(Status(StatusCode.ERROR, code.name))
    end_span(span)


def messaging_attributes(subject: str, message_id: str) -> dict[str, AttributeValue]:
    return {
        "messaging.system": "nats",
        "messaging.destination.name": subject,
        "messaging.message.id": message_id,
    }
