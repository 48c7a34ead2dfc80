"""The owner's plan limits, from auth's internal GetEntitlements (called as the owner)."""

from __future__ import annotations

import time

import grpc
from inbetwin.auth.v1 import auth_service_pb2, auth_service_pb2_grpc

from services.agent import errors
from services.kit.errors import ServiceError
from services.kit.identity import USER_ID_HEADER


class Entitlements:
    def __init__(self, auth_addr: str, *, timeout: float, ttl_seconds: float) -> None:
        self._channel = grpc.aio.insecure_channel(auth_addr)
        self._stub = auth_service_pb2_grpc.AuthServiceStub(self._channel)
        self._timeout = timeout
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, auth_service_pb2.PlanLimits]] = {}

    async def limits(self, owner_id: str) -> auth_service_pb2.PlanLimits:
        now = time.monotonic()
        cached = self._cache.get(owner_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            response = await self._stub.GetEntitlements(
                auth_service_pb2.GetEntitlementsRequest(),
                metadata=((USER_ID_HEADER, owner_id),),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                raise ServiceError(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    "ACCOUNT_NOT_FOUND",
                    "the caller has no account with a plan",
                ) from None
            raise errors.unavailable("AUTH_UNAVAILABLE", "plan limits are unavailable") from None
        limits: auth_service_pb2.PlanLimits = response.limits
        self._cache[owner_id] = (now + self._ttl, limits)
        return limits

    async def close(self) -> None:
        await self._channel.close(None)
