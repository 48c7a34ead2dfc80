"""The owner's plan limits, from auth's internal GetEntitlements (called as the owner)."""

from __future__ import annotations

import grpc
from inbetwin.auth.v1 import auth_service_pb2, auth_service_pb2_grpc

from services.kit.errors import ServiceError
from services.kit.identity import USER_ID_HEADER


class Entitlements:
    def __init__(self, address: str, *, timeout: float) -> None:
        self._channel = grpc.aio.insecure_channel(address)
        self._stub = auth_service_pb2_grpc.AuthServiceStub(self._channel)
        self._timeout = timeout

    async def max_knowledge_base_bytes(self, owner_id: str) -> int:
        """The plan's cap on the owner's knowledge-base bytes; UNAVAILABLE if auth is down."""
        try:
            response = await self._stub.GetEntitlements(
                auth_service_pb2.GetEntitlementsRequest(),
                metadata=((USER_ID_HEADER, owner_id),),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as error:
            raise ServiceError(
                grpc.StatusCode.UNAVAILABLE,
                "ENTITLEMENTS_UNAVAILABLE",
                f"cannot read the plan's limits: {error.code().name}",
            ) from error
        return int(response.limits.max_knowledge_base_bytes)

    async def close(self) -> None:
        await self._channel.close(None)
