"""leads's wiring: the bus consumers, the trainer, the recency sweeper, the watch hub and the
RPC servicer, and what to close on shutdown."""

from __future__ import annotations

from datetime import timedelta

import grpc
from inbetwin.leads.v1 import leads_service_pb2, leads_service_pb2_grpc

from services.kit.runtime import Runtime
from services.kit.server import BeforeStop, Closer
from services.leads.ingest import SignalIngest, utc_now
from services.leads.recency import RecencySweeper
from services.leads.service import LeadsServicer
from services.leads.settings import LeadsSettings
from services.leads.trainer import ModelTrainer
from services.leads.training import TrainingPolicy
from services.leads.watch import WatchHub, WatchTiming
from services.leads.watch_slots import WatchSlots

SERVICE_NAMES = (leads_service_pb2.DESCRIPTOR.services_by_name["LeadsService"].full_name,)


async def wire(server: grpc.aio.Server, settings: LeadsSettings) -> list[Closer]:
    runtime = await Runtime.open(settings, name="leads")
    trainer = ModelTrainer(
        runtime.engine,
        runtime.relay,
        policy=TrainingPolicy(
            min_labels=settings.model_min_labels,
            min_per_class=settings.model_min_labels_per_class,
            regularisation=settings.model_regularisation,
        ),
        poll_interval=settings.trainer_poll_seconds,
        clock=utc_now,
    )
    sweeper = RecencySweeper(
        runtime.engine, runtime.relay, interval=settings.recency_sweep_seconds, clock=utc_now
    )
    hub = WatchHub(runtime.engine, runtime.bus.jetstream)
    await hub.start()
    heartbeat = timedelta(seconds=settings.watch_heartbeat_seconds)
    servicer = LeadsServicer(
        engine=runtime.engine,
        relay=runtime.relay,
        trainer=trainer,
        hub=hub,
        slots=WatchSlots(
            runtime.redis,
            limit=settings.watch_limit_per_owner,
            lease_seconds=3 * settings.watch_heartbeat_seconds,
        ),
        timing=WatchTiming(
            heartbeat=heartbeat,
            max_duration=timedelta(seconds=settings.watch_max_seconds),
            resume_margin=timedelta(seconds=settings.watch_resume_margin_seconds),
        ),
        replay_window=timedelta(hours=settings.watch_replay_max_hours),
        clock=utc_now,
    )
    leads_service_pb2_grpc.add_LeadsServiceServicer_to_server(servicer, server)
    SignalIngest(runtime.engine, runtime.relay, clock=utc_now).subscribe(runtime.bus)
    trainer.start()
    sweeper.start()

    async def close_streams() -> None:
        hub.close_streams()

    # Closed in reverse: background loops first, the runtime (bus, relay, database) last. Open
    # watch streams get their `end` (SERVER_SHUTDOWN) before the server stops.
    return [BeforeStop(close_streams), runtime.close, hub.stop, sweeper.stop, trainer.stop]
