"""An in-process OTLP/gRPC trace collector for the benches: the services export their spans to
it (INBETWIN_<SVC>_OTLP_ENDPOINT), and `timeline` prints one trace as offsets from a start."""

from __future__ import annotations

import os
from dataclasses import dataclass

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


@dataclass(frozen=True, slots=True)
class SpanRecord:
    trace_id: str
    service: str
    name: str
    start_ns: int
    end_ns: int


class SpanSink(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.spans: list[SpanRecord] = []
        self._server: grpc.aio.Server | None = None
        self.endpoint = ""

    async def start(self) -> SpanSink:
        self._server = grpc.aio.server()
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self, self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        await self._server.start()
        self.endpoint = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(0)

    async def Export(  # noqa: N802 (the gRPC method name)
        self,
        request: trace_service_pb2.ExportTraceServiceRequest,
        context: grpc.aio.ServicerContext,
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        for resource_spans in request.resource_spans:
            service = next(
                (
                    a.value.string_value
                    for a in resource_spans.resource.attributes
                    if a.key == "service.name"
                ),
                "?",
            )
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(
                        SpanRecord(
                            span.trace_id.hex(),
                            service,
                            span.name,
                            span.start_time_unix_nano,
                            span.end_time_unix_nano,
                        )
                    )
        return trace_service_pb2.ExportTraceServiceResponse()

    def timeline(self, trace_id: str, start_ns: int, marks: dict[str, int]) -> list[str]:
        """One line per span of the trace (and per extra mark), ordered by start, in ms from
        `start_ns`: `+start … +end  service  name`."""
        rows = [
            (s.start_ns, f"{s.service:<7} {s.name}", s.end_ns)
            for s in self.spans
            if s.trace_id == trace_id
        ]
        rows.extend((at, label, at) for label, at in marks.items())
        rows.sort()
        return [
            f"+{(start - start_ns) / 1e6:8.1f} … +{(end - start_ns) / 1e6:8.1f} ms  {label}"
            for start, label, end in rows
        ]


def new_trace() -> tuple[str, str]:
    """A fresh sampled W3C trace: (trace id, `traceparent` header value)."""
    trace_id = os.urandom(16).hex()
    return trace_id, f"00-{trace_id}-{os.urandom(8).hex()}-01"
