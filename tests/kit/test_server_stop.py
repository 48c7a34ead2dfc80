"""The kit's server shutdown order: `BeforeStop` closers run while the server still answers,
the other closers after it stopped, in reverse order of the wiring's list."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.kit.config import ServiceSettings
from services.kit.server import BeforeStop, Closer, create_server


class Settings(ServiceSettings):
    database_url: str = "postgresql+asyncpg://unused"
    redis_url: str = "redis://unused"
    nats_url: str = "nats://unused"


async def test_before_stop_closers_run_while_the_server_answers_and_the_rest_after() -> None:
    events: list[str] = []
    address: list[str] = []

    async def still_answering() -> None:
        async with grpc.aio.insecure_channel(address[0]) as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=5
            )
        events.append(
            f"before-stop: health {health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)}"
        )

    def recorder(name: str) -> Closer:
        async def close() -> None:
            events.append(name)

        return close

    async def wire(server: grpc.aio.Server, settings: Settings) -> list[Closer]:
        return [recorder("runtime"), BeforeStop(still_answering), recorder("loops")]

    handle = await create_server(Settings(), service_names=(), error_domain="test", wire=wire)
    address.append(f"127.0.0.1:{handle.port}")
    await handle.stop(grace=1)

    assert events == ["before-stop: health NOT_SERVING", "loops", "runtime"]
