"""llm's wiring: the reply pipeline consumes message.received. Its RPCs (playground Chat,
GetUsage) are not built yet and answer UNIMPLEMENTED through the generated base servicer."""

from __future__ import annotations

import grpc
from inbetwin.events.v1 import social_events_pb2
from inbetwin.llm.v1 import llm_service_pb2, llm_service_pb2_grpc

from services.kit.bus import ConsumerSpec
from services.kit.events import subject_of
from services.kit.runtime import Runtime
from services.kit.server import Closer
from services.llm.replies import CONSUMER, ReplyPipeline
from services.llm.settings import LlmSettings

SERVICE_NAMES = (llm_service_pb2.DESCRIPTOR.services_by_name["LlmService"].full_name,)


async def wire(server: grpc.aio.Server, settings: LlmSettings) -> list[Closer]:
    runtime = await Runtime.open(settings, name="llm")
    pipeline = ReplyPipeline(runtime.engine, runtime.relay)
    runtime.bus.consume(
        ConsumerSpec(durable=CONSUMER, subjects=[subject_of(social_events_pb2.MessageReceived)]),
        social_events_pb2.MessageReceived,
        pipeline.handle,
    )
    llm_service_pb2_grpc.add_LlmServiceServicer_to_server(
        llm_service_pb2_grpc.LlmServiceServicer(), server
    )
    return [runtime.close]
