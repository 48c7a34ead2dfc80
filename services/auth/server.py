"""auth's wiring: resources, servicer, and what to close on shutdown."""

from __future__ import annotations

import grpc
from inbetwin.auth.v1 import auth_service_pb2, auth_service_pb2_grpc

from services.auth.service import AuthServicer
from services.auth.settings import AuthSettings
from services.kit.runtime import Runtime
from services.kit.server import Closer

SERVICE_NAMES = (auth_service_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name,)


async def wire(server: grpc.aio.Server, settings: AuthSettings) -> list[Closer]:
    runtime = await Runtime.open(settings, name="auth")
    servicer = AuthServicer(settings, runtime)
    await servicer.ensure_signing_key()
    auth_service_pb2_grpc.add_AuthServiceServicer_to_server(servicer, server)
    return [runtime.close]
