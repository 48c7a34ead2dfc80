"""Prometheus metrics: the process-wide registry, the `/metrics` HTTP server, a small API for
services' own counters, gauges and histograms, and gauges measured at scrape time.

What the kit records for every service (besides the client library's `process_*`/`python_*`):

* gRPC server: `grpc_server_started_total`, `grpc_server_handled_total` (by `grpc_code`) and
  the `grpc_server_handling_seconds` histogram, labelled `grpc_type`, `grpc_service`,
  `grpc_method` as in grpc-ecosystem's go-grpc-prometheus, so its dashboards work as they are;
  `grpc_client_handled_total` and `grpc_client_handling_seconds` for calls over `peer_channel`.
* Events: `inbetwin_events_published_total` / `inbetwin_events_publish_errors_total` by
  `subject`; `inbetwin_events_handled_total` by `consumer` (the durable name) and `outcome`
  (`ok`, `failed` = retried with backoff, `deferred` = RetryLaterError, `dead_lettered`);
  `inbetwin_event_handling_seconds` by `consumer`; at scrape time, from JetStream,
  `inbetwin_consumer_pending_messages` (not yet delivered: the lag) and
  `inbetwin_consumer_ack_pending_messages` (delivered, not yet acknowledged) by `consumer`.
* Outbox: `inbetwin_outbox_relayed_total`, `inbetwin_outbox_relay_errors_total`; at scrape time,
  `inbetwin_outbox_backlog_rows` (unpublished rows) and
  `inbetwin_outbox_oldest_unpublished_age_seconds`.

A service's own metric: `counter("inbetwin_<svc>_<what>_total", "What it counts.", ["label"])`
(or `histogram`, `gauge`) once at module level, then `.labels(...).inc()`; asking twice for the
same name returns the same metric.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector

log = logging.getLogger("inbetwin.metrics")

# Seconds; from 1 ms (a cached read) to 30 s (a model call).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
PROBE_TIMEOUT_SECONDS = 2.0

# No `*_created` series next to every counter and histogram: they double the series count and
# Prometheus' text format does not need them.
disable_created_metrics()

M = TypeVar("M", bound=MetricWrapperBase)
_made: dict[str, MetricWrapperBase] = {}
_made_lock = threading.Lock()


def _metric(
    kind: type[M], name: str, documentation: str, labels: Sequence[str], **extra: object
) -> M:
    with _made_lock:
        found = _made.get(name)
        if found is None:
            made = kind(name, documentation, labelnames=tuple(labels), **extra)  # type: ignore[arg-type]
            _made[name] = made
            return made
    if not isinstance(found, kind) or found._labelnames != tuple(labels):
        raise ValueError(f"metric {name} already exists as another kind or with other labels")
    return found


def counter(name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
    """A counter (its name should end in `_total`)."""
    return _metric(Counter, name, documentation, labels)


def gauge(name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
    return _metric(Gauge, name, documentation, labels)


def histogram(
    name: str,
    documentation: str,
    labels: Sequence[str] = (),
    buckets: Sequence[float] = LATENCY_BUCKETS,
) -> Histogram:
    """A histogram (durations in seconds, name ending in `_seconds`)."""
    return _metric(Histogram, name, documentation, labels, buckets=tuple(buckets))


@dataclass(frozen=True, slots=True)
class Reading:
    """What one probe measured at scrape time: gauge values for one set of labels."""

    labels: Mapping[str, str]
    values: Mapping[str, float]


Probe = Callable[[], Awaitable[Reading | None]]


class ScrapeProbes(Collector):
    """Gauges read from their source when Prometheus scrapes (JetStream, the database), so they
    cost nothing in between and are never stale.

    Probes are coroutines run on the event loop that registered them, from the HTTP server's
    thread; one that fails or takes longer than PROBE_TIMEOUT_SECONDS is left out of that scrape
    (and logged), the others are still reported.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._probes: dict[str, tuple[asyncio.AbstractEventLoop, Probe]] = {}
        self._docs: dict[str, str] = {}

    def describe(self) -> list[GaugeMetricFamily]:
        return []  # the families depend on the probes registered when scraped

    def document(self, name: str, documentation: str) -> None:
        with self._lock:
            self._docs[name] = documentation

    def add(self, key: str, probe: Probe) -> Callable[[], None]:
        """Register `probe` under `key` (a later one with the same key replaces it); returns a
        function that removes it. Call from the event loop the probe runs on."""
        entry = (asyncio.get_running_loop(), probe)
        with self._lock:
            self._probes[key] = entry

        def remove() -> None:
            with self._lock:
                if self._probes.get(key) is entry:
                    del self._probes[key]

        return remove

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            entries = list(self._probes.values())
            docs = dict(self._docs)
        by_loop: dict[asyncio.AbstractEventLoop, list[Probe]] = {}
        for loop, probe in entries:
            by_loop.setdefault(loop, []).append(probe)
        families: dict[str, GaugeMetricFamily] = {}
        for loop, probes in by_loop.items():
            for reading in _read(loop, probes):
                for name, value in reading.values.items():
                    family = families.get(name)
                    if family is None:
                        family = GaugeMetricFamily(
                            name, docs.get(name, name), labels=list(reading.labels)
                        )
                        families[name] = family
                    family.add_metric(list(reading.labels.values()), value)
        yield from families.values()


def _read(loop: asyncio.AbstractEventLoop, probes: list[Probe]) -> list[Reading]:
    with contextlib.suppress(RuntimeError):
        if asyncio.get_running_loop() is loop:
            return []  # scraped from the loop's own thread: waiting for it would deadlock
    if loop.is_closed():
        return []

    async def read_all() -> list[Reading]:
        results = await asyncio.gather(
            *(asyncio.wait_for(probe(), PROBE_TIMEOUT_SECONDS) for probe in probes),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                log.warning("metrics probe failed", extra={"error": repr(result)})
        return [r for r in results if isinstance(r, Reading)]

    future = asyncio.run_coroutine_threadsafe(read_all(), loop)
    try:
        return future.result(timeout=PROBE_TIMEOUT_SECONDS + 1.0)
    except Exception as error:
        future.cancel()
        log.warning("metrics probes did not answer", extra={"error": repr(error)})
        return []


PROBES = ScrapeProbes()
REGISTRY.register(PROBES)


@dataclass(frozen=True, slots=True)
class MetricsServer:
    """The `/metrics` endpoint (any path answers) on its own thread."""

    port: int
    _httpd: WSGIServer

    async def close(self) -> None:
        await asyncio.to_thread(self._httpd.shutdown)
        self._httpd.server_close()


def start_metrics_server(host: str, port: int) -> MetricsServer:
    """Serve the process registry over HTTP on host:port (0 picks a free port)."""
    httpd, _thread = start_http_server(port, addr=host, registry=REGISTRY)
    return MetricsServer(httpd.server_port, httpd)
