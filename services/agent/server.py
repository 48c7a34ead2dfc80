"""agent's wiring. Its RPCs are not built yet: the generated base servicer answers
UNIMPLEMENTED for each of them, which is the honest answer until they are."""

from __future__ import annotations

import grpc
from inbetwin.agent.v1 import agent_service_pb2, agent_service_pb2_grpc

from services.agent.settings import AgentSettings
from services.kit.runtime import Runtime
from services.kit.server import Closer

SERVICE_NAMES = (agent_service_pb2.DESCRIPTOR.services_by_name["AgentService"].full_name,)


async def wire(server: grpc.aio.Server, settings: AgentSettings) -> list[Closer]:
    runtime = await Runtime.open(settings, name="agent")
    agent_service_pb2_grpc.add_AgentServiceServicer_to_server(
        agent_service_pb2_grpc.AgentServiceServicer(), server
    )
    return [runtime.close]
