"""leads's wiring. Its RPCs are not built yet: the generated base servicer answers
UNIMPLEMENTED for each of them, which is the honest answer until they are."""

from __future__ import annotations

import grpc
from inbetwin.leads.v1 import leads_service_pb2, leads_service_pb2_grpc

from services.kit.runtime import Runtime
from services.kit.server import Closer
from services.leads.settings import LeadsSettings

SERVICE_NAMES = (leads_service_pb2.DESCRIPTOR.services_by_name["LeadsService"].full_name,)


async def wire(server: grpc.aio.Server, settings: LeadsSettings) -> list[Closer]:
    runtime = await Runtime.open(settings, name="leads")
    leads_service_pb2_grpc.add_LeadsServiceServicer_to_server(
        leads_service_pb2_grpc.LeadsServiceServicer(), server
    )
    return [runtime.close]
