"""gRPC server bootstrap shared by every service: health, reflection, the request pipeline,
the Prometheus `/metrics` endpoint, tracing, graceful shutdown, and the
`python -m services.<svc> [serve|migrate]` entry point."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import grpc
import uvloop
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.kit.config import ServiceSettings
from services.kit.db import upgrade_to_head
from services.kit.interceptors import RequestPipeline
from services.kit.logging import configure_logging
from services.kit.metrics import start_metrics_server
from services.kit.tracing import configure_tracing

log = logging.getLogger("inbetwin.server")

S = TypeVar("S", bound=ServiceSettings)
Closer = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class BeforeStop:
    """A closer that runs before the server stops, while in-flight RPCs may still finish: e.g.
    telling open streams to send their explicit end event instead of being cut by the grace
    period. Return it among the wiring's closers; the plain closers run after the server stops."""

    run: Closer

    async def __call__(self) -> None:
        await self.run()


@dataclass
class ServerHandle:
    """A started server: its port, health servicer, metrics port (None when metrics are not
    served) and what to close on shutdown."""

    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer  # type: ignore[name-defined]
    closers: list[Closer] = field(default_factory=list)
    metrics_port: int | None = None

    async def stop(self, grace: float) -> None:
        await self.health.enter_graceful_shutdown()
        first = [close for close in self.closers if isinstance(close, BeforeStop)]
        await _close_each(first)
        await self.server.stop(grace)
        await _close_each([close for close in reversed(self.closers) if close not in first])


async def _close_each(closers: Sequence[Closer]) -> None:
    for close in closers:
        try:
            await close()
        except Exception:
            log.exception("error while closing")


# A service's wiring: registers servicers on the server, returns what to close on shutdown.
Wiring = Callable[[grpc.aio.Server, S], Awaitable[list[Closer]]]


async def create_server(
    settings: S,
    *,
    service_names: Sequence[str],
    error_domain: str,
    wire: Wiring[S],
) -> ServerHandle:
    """Build and start a server on settings.grpc_host:grpc_port (0 picks a free port), and the
    metrics endpoint on settings.grpc_host:metrics_port when that is set."""
    server = grpc.aio.server(
        interceptors=[RequestPipeline(error_domain)],
        options=[
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", settings.max_receive_message_bytes),
            ("grpc.max_send_message_length", settings.max_receive_message_bytes),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.min_ping_interval_without_data_ms", 5000),
        ],
    )
    health_servicer = health.aio.HealthServicer()  # type: ignore[attr-defined]
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    closers = await wire(server, settings)
    # Everything built so far lives as long as the process: keep it out of the collector's
    # generations so full collections stay short on the request path.
    gc.collect()
    gc.freeze()
    reflection.enable_server_reflection(
        [
            *service_names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ],
        server,
    )
    port = server.add_insecure_port(f"{settings.grpc_host}:{settings.grpc_port}")
    if port == 0:
        raise RuntimeError(f"cannot bind {settings.grpc_host}:{settings.grpc_port}")
    metrics_port = None
    if settings.metrics_port is not None:
        try:
            metrics = start_metrics_server(settings.grpc_host, settings.metrics_port)
        except OSError as error:
            raise RuntimeError(
                f"cannot serve metrics on {settings.grpc_host}:{settings.metrics_port}: {error}"
            ) from error
        metrics_port = metrics.port
        closers.insert(0, metrics.close)  # closed last
    await server.start()
    for name in ("", *service_names):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return ServerHandle(server, port, health_servicer, closers, metrics_port)


async def serve(
    settings: S, *, service_names: Sequence[str], error_domain: str, wire: Wiring[S]
) -> None:
    """Run until SIGTERM/SIGINT, then drain in-flight RPCs and close resources."""
    handle = await create_server(
        settings, service_names=service_names, error_domain=error_domain, wire=wire
    )
    log.info(
        "serving",
        extra={
            "port": handle.port,
            "metrics_port": handle.metrics_port,
            "tracing": bool(settings.otlp_endpoint),
            "services": list(service_names),
        },
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("shutting down")
    await handle.stop(settings.shutdown_grace_seconds)


def service_main(
    *,
    name: str,
    settings_type: type[S],
    service_names: Sequence[str],
    wire: Wiring[S],
    migrations_dir: Path,
    argv: Sequence[str] | None = None,
) -> None:
    """`python -m services.<name> serve|migrate`."""
    parser = argparse.ArgumentParser(prog=f"python -m services.{name}")
    parser.add_argument("command", choices=["serve", "migrate"], nargs="?", default="serve")
    args = parser.parse_args(argv)
    settings = settings_type()  # type: ignore[call-arg]
    configure_logging(name, settings.log_level)
    if args.command == "migrate":
        upgrade_to_head(settings.database_url, migrations_dir)
        log.info("migrated")
        return
    tracing = configure_tracing(name, settings)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            uvloop.run(
                serve(
                    settings,
                    service_names=service_names,
                    error_domain=f"{name}.inbetwin.app",
                    wire=wire,
                )
            )
    finally:
        tracing.shutdown()
