"""The owner's plan limits, from auth's internal GetEntitlements RPC (called as that owner)."""

from __future__ import annotations

import grpc
from inbetwin.auth.v1 import auth_service_pb2, auth_service_pb2_grpc

from services.kit.errors import ServiceError
from services.kit.identity import USER_ID_HEADER


class Entitlements:
    def __init__(self, channel: grpc.aio.Channel, *, timeout_seconds: float = 5.0) -> None:
        self._stub = auth_service_pb2_grpc.AuthServiceStub(channel)
        self._timeout = timeout_seconds

    async def max_integrations(self, owner_id: str) -> int:
        """How many accounts the owner's plan allows; UNAVAILABLE when auth cannot say."""
        try:
            response = await self._stub.GetEntitlements(
                auth_service_pb2.GetEntitlementsRequest(),
                metadata=((USER_ID_HEADER, owner_id),),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                raise ServiceError(
                    grpc.StatusCode.UNAUTHENTICATED,
                    "UNAUTHENTICATED",
                    "the caller's account no longer exists",
                ) from None
            raise ServiceError(
                grpc.StatusCode.UNAVAILABLE,
                "UNAVAILABLE",
                "plan limits cannot be checked now, retry later",
            ) from None
        return int(response.limits.max_integrations)
