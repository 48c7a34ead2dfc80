"""The whole platform from the `stack` fixture: every service healthy, Envoy in front."""

from __future__ import annotations

import httpx

from services.stack import Stack
from services.stack.services import serving


def test_every_started_service_is_serving(stack: Stack) -> None:
    assert all(stack.running().values())
    for name in stack.services:
        assert serving(stack.service_address(name)), name


async def test_envoy_serves_the_public_routes(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.rest_url, timeout=10) as client:
        health = await client.get("/healthz")
        assert health.status_code == 200
        if "auth" in stack.services:
            jwks = await client.get("/.well-known/jwks.json")
            assert jwks.status_code == 200
            assert jwks.json()["keys"]
        missing = await client.get("/no/such/route")
        assert missing.status_code == 404
