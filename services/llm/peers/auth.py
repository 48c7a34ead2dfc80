"""The auth service: an owner's plan limits."""

from __future__ import annotations

import time

from inbetwin.auth.v1 import auth_service_pb2 as pb

from services.llm.peers.base import Peer


class AuthClient:
    def __init__(self, peer: Peer, *, cache_seconds: float) -> None:
        self._peer = peer
        self._cache_seconds = cache_seconds
        self._limits: dict[str, tuple[float, int | None]] = {}

    async def monthly_message_limit(self, *, owner_id: str) -> int | None:
        """The plan's `max_messages_per_month`; None when auth cannot answer (not enforced)."""
        cached = self._limits.get(owner_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        response = await self._peer.call(
            "GetEntitlements",
            pb.GetEntitlementsRequest(),
            pb.GetEntitlementsResponse,
            owner_id=owner_id,
        )
        limit = int(response.limits.max_messages_per_month) if response is not None else None
        self._limits[owner_id] = (time.monotonic() + self._cache_seconds, limit)
        return limit
