"""A span around one step of the reply pipeline (free when nothing is exported), so a trace
shows where a reply's time goes between the peer calls: the model, the safety check, the
emitting transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.trace import SpanKind

from services.kit import tracing


@contextmanager
def step(name: str) -> Iterator[None]:
    span = tracing.start_span(f"llm {name}", kind=SpanKind.INTERNAL)
    token = tracing.activate(span)
    try:
        yield
    finally:
        tracing.deactivate(token)
        tracing.end_span(span)
