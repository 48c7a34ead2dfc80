"""rag's wiring. Its RPCs are not built yet: the generated base servicer answers
UNIMPLEMENTED for each of them, which is the honest answer until they are."""

from __future__ import annotations

import grpc
from inbetwin.rag.v1 import rag_service_pb2, rag_service_pb2_grpc

from services.kit.runtime import Runtime
from services.kit.server import Closer
from services.rag.settings import RagSettings

SERVICE_NAMES = (rag_service_pb2.DESCRIPTOR.services_by_name["RagService"].full_name,)


async def wire(server: grpc.aio.Server, settings: RagSettings) -> list[Closer]:
    runtime = await Runtime.open(settings, name="rag")
    rag_service_pb2_grpc.add_RagServiceServicer_to_server(
        rag_service_pb2_grpc.RagServiceServicer(), server
    )
    return [runtime.close]
