"""The shared resources of one service process: database, Redis, event bus, outbox relay."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.bus import EventBus
from services.kit.config import ServiceSettings
from services.kit.db import create_engine
from services.kit.outbox import OutboxRelay


@dataclass
class Runtime:
    engine: AsyncEngine
    redis: Redis
    bus: EventBus
    relay: OutboxRelay

    @classmethod
    async def open(cls, settings: ServiceSettings, *, name: str) -> Runtime:
        engine = create_engine(settings.database_url, pre_ping=settings.database_pool_pre_ping)
        redis = Redis.from_url(settings.redis_url)
        bus = await EventBus.connect(
            settings.nats_url, name=name, replicas=settings.nats_stream_replicas
        )
        relay = OutboxRelay(engine, bus)
        relay.start()
        return cls(engine=engine, redis=redis, bus=bus, relay=relay)

    async def close(self) -> None:
        await self.relay.stop()
        await self.bus.close()
        await self.redis.aclose()
        await self.engine.dispose()
