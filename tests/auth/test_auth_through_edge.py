"""auth through the real Envoy edge (REST) and natively (gRPC), against real Postgres/NATS."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import grpc
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from inbetwin.auth.v1 import auth_service_pb2 as pb
from inbetwin.auth.v1 import auth_service_pb2_grpc

from services.auth.keys import KeyCipher, load_private
from services.stack import Stack


@pytest.fixture(scope="module")
def platform(auth_stack: Stack) -> Stack:
    return auth_stack


@pytest.fixture
async def rest(platform: Stack) -> Any:
    async with httpx.AsyncClient(base_url=platform.rest_url, timeout=20) as client:
        yield client


def _email() -> str:
    return f"user-{uuid.uuid4().hex[:12]}@example.com"


async def register(rest: httpx.AsyncClient, email: str | None = None) -> dict[str, Any]:
    response = await rest.post(
        "/api/v1/auth/register",
        json={
            "email": email or _email(),
            "password": "correct horse battery",
            "display_name": "Ann",
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _reason(body: dict[str, Any]) -> str | None:
    for detail in body.get("details", []):
        if detail.get("@type", "").endswith("google.rpc.ErrorInfo"):
            return str(detail["reason"])
    return None


async def test_register_then_get_me_with_the_access_token(rest: httpx.AsyncClient) -> None:
    email = _email()
    body = await register(rest, f"  {email.upper()} ")
    assert body["user"]["email"] == email
    assert body["tokens"]["token_type"] == "Bearer"
    me = await rest.get("/api/v1/auth/me", headers=_bearer(body["tokens"]["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["user"]["id"] == body["user"]["id"]


async def test_access_token_is_es256_with_kid_in_jwks(rest: httpx.AsyncClient) -> None:
    body = await register(rest)
    token = body["tokens"]["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    jwks = (await rest.get("/.well-known/jwks.json")).json()
    assert header["kid"] in {key["kid"] for key in jwks["keys"]}
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == body["user"]["id"]
    assert claims["plan"] == "free"
    assert {"iss", "aud", "exp", "iat", "jti"} <= set(claims)


async def test_no_token_gives_401_json(rest: httpx.AsyncClient) -> None:
    response = await rest.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()


async def test_forged_token_is_rejected(rest: httpx.AsyncClient) -> None:
    body = await register(rest)
    real = jwt.decode(body["tokens"]["access_token"], options={"verify_signature": False})
    kid = jwt.get_unverified_header(body["tokens"]["access_token"])["kid"]
    forged = jwt.encode(
        real, ec.generate_private_key(ec.SECP256R1()), "ES256", headers={"kid": kid}
    )
    response = await rest.get("/api/v1/auth/me", headers=_bearer(forged))
    assert response.status_code == 401


async def _platform_key(platform: Stack) -> tuple[str, ec.EllipticCurvePrivateKey]:
    """The active signing key, read the way auth does: from its database, decrypted."""
    connection = await asyncpg.connect(platform.postgres_dsn("auth"))
    try:
        row = await connection.fetchrow(
            "SELECT kid, private_key_encrypted FROM signing_keys WHERE activate_at <= now() "
            "ORDER BY activate_at DESC LIMIT 1"
        )
    finally:
        await connection.close()
    assert row is not None
    cipher = KeyCipher(platform.topology.secrets.key_encryption_key)
    pem = cipher.decrypt(row["private_key_encrypted"], row["kid"].encode())
    return row["kid"], load_private(pem)


async def test_expired_and_foreign_issuer_tokens_are_rejected(
    rest: httpx.AsyncClient, platform: Stack
) -> None:
    body = await register(rest)
    claims = jwt.decode(body["tokens"]["access_token"], options={"verify_signature": False})
    kid, key = await _platform_key(platform)

    def sign(**changes: Any) -> str:
        return jwt.encode({**claims, **changes}, key, "ES256", headers={"kid": kid})

    assert (await rest.get("/api/v1/auth/me", headers=_bearer(sign()))).status_code == 200
    expired = sign(exp=int(time.time()) - 120, iat=int(time.time()) - 1000)
    assert (await rest.get("/api/v1/auth/me", headers=_bearer(expired))).status_code == 401
    foreign = sign(iss="https://evil.example.com")
    assert (await rest.get("/api/v1/auth/me", headers=_bearer(foreign))).status_code == 401
    # Envoy answers a wrong audience with 403 (the token is genuine, just not for us).
    wrong_audience = sign(aud="someone-else")
    response = await rest.get("/api/v1/auth/me", headers=_bearer(wrong_audience))
    assert response.status_code == 403
    assert response.json()["reason"] == "TOKEN_AUDIENCE_INVALID"


async def test_client_cannot_set_x_user_id(rest: httpx.AsyncClient) -> None:
    ann = await register(rest)
    bob = await register(rest)
    headers = {**_bearer(ann["tokens"]["access_token"]), "x-user-id": bob["user"]["id"]}
    me = await rest.get("/api/v1/auth/me", headers=headers)
    assert me.json()["user"]["id"] == ann["user"]["id"]
    no_token = await rest.get("/api/v1/auth/me", headers={"x-user-id": bob["user"]["id"]})
    assert no_token.status_code == 401


async def test_bad_input_is_400_with_field_violations(rest: httpx.AsyncClient) -> None:
    response = await rest.post(
        "/api/v1/auth/register", json={"email": "not-an-email", "password": "x", "display_name": ""}
    )
    assert response.status_code == 400
    body = response.json()
    violations = [
        v
        for d in body["details"]
        if d["@type"].endswith("BadRequest")
        for v in d["fieldViolations" if "fieldViolations" in d else "field_violations"]
    ]
    assert {v["field"] for v in violations} == {"email", "password", "display_name"}


async def test_malformed_json_is_400(rest: httpx.AsyncClient) -> None:
    response = await rest.post(
        "/api/v1/auth/register", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


async def test_duplicate_email_is_409(rest: httpx.AsyncClient) -> None:
    email = _email()
    await register(rest, email)
    again = await rest.post(
        "/api/v1/auth/register",
        json={"email": email.upper(), "password": "another password", "display_name": "B"},
    )
    assert again.status_code == 409
    assert _reason(again.json()) == "EMAIL_TAKEN"


async def test_wrong_password_and_unknown_email_look_the_same(rest: httpx.AsyncClient) -> None:
    email = _email()
    await register(rest, email)
    wrong = await rest.post("/api/v1/auth/login", json={"email": email, "password": "nope nope"})
    unknown = await rest.post(
        "/api/v1/auth/login", json={"email": _email(), "password": "nope nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert _reason(wrong.json()) == _reason(unknown.json()) == "INVALID_CREDENTIALS"
    assert wrong.json()["message"] == unknown.json()["message"]
    ok = await rest.post(
        "/api/v1/auth/login", json={"email": email, "password": "correct horse battery"}
    )
    assert ok.status_code == 200


async def test_refresh_rotates_and_reuse_revokes_the_session(rest: httpx.AsyncClient) -> None:
    first = (await register(rest))["tokens"]["refresh_token"]
    rotated = await rest.post("/api/v1/auth/token:refresh", json={"refresh_token": first})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["tokens"]["refresh_token"]
    assert second != first
    reused = await rest.post("/api/v1/auth/token:refresh", json={"refresh_token": first})
    assert reused.status_code == 401
    assert _reason(reused.json()) == "REFRESH_TOKEN_REUSED"
    after = await rest.post("/api/v1/auth/token:refresh", json={"refresh_token": second})
    assert after.status_code == 401
    assert _reason(after.json()) == "REFRESH_TOKEN_INVALID"


async def test_concurrent_refreshes_one_succeeds(rest: httpx.AsyncClient) -> None:
    token = (await register(rest))["tokens"]["refresh_token"]
    results = await asyncio.gather(
        *(rest.post("/api/v1/auth/token:refresh", json={"refresh_token": token}) for _ in range(5))
    )
    assert sorted(r.status_code for r in results).count(200) == 1


async def test_plans_and_subscription(rest: httpx.AsyncClient) -> None:
    plans = (await rest.get("/api/v1/auth/plans")).json()["plans"]
    assert [p["tier"] for p in plans] == ["PLAN_TIER_FREE", "PLAN_TIER_PRO", "PLAN_TIER_BUSINESS"]
    body = await register(rest)
    subscription = await rest.get(
        "/api/v1/auth/subscription", headers=_bearer(body["tokens"]["access_token"])
    )
    assert subscription.json()["subscription"]["plan"]["tier"] == "PLAN_TIER_FREE"


async def test_native_grpc_through_the_edge(rest: httpx.AsyncClient, platform: Stack) -> None:
    body = await register(rest)
    async with grpc.aio.insecure_channel(platform.grpc_address) as channel:
        stub = auth_service_pb2_grpc.AuthServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.GetMe(pb.GetMeRequest())
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
        metadata = (("authorization", f"Bearer {body['tokens']['access_token']}"),)
        me = await stub.GetMe(pb.GetMeRequest(), metadata=metadata)
        assert me.user.id == body["user"]["id"]
        with pytest.raises(grpc.aio.AioRpcError) as internal:
            await stub.GetEntitlements(pb.GetEntitlementsRequest(), metadata=metadata)
        assert internal.value.code() in (
            grpc.StatusCode.UNIMPLEMENTED,
            grpc.StatusCode.NOT_FOUND,
            grpc.StatusCode.PERMISSION_DENIED,
        )


async def test_key_rotation_needs_no_edge_restart(rest: httpx.AsyncClient, platform: Stack) -> None:
    before = await register(rest)
    old_token = before["tokens"]["access_token"]
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    async with grpc.aio.insecure_channel(platform.service_address("auth")) as channel:
        stub = auth_service_pb2_grpc.AuthServiceStub(channel)
        rotated = await stub.RotateSigningKey(
            pb.RotateSigningKeyRequest(activate_after_seconds=7),
            metadata=(("x-user-id", before["user"]["id"]),),
        )
    jwks = (await rest.get("/.well-known/jwks.json")).json()
    assert {old_kid, rotated.key_id} <= {key["kid"] for key in jwks["keys"]}
    activate = rotated.activate_time.ToDatetime(tzinfo=UTC)
    await asyncio.sleep(
        max(0.0, (activate - datetime.now(UTC) + timedelta(seconds=0.5)).total_seconds())
    )
    login = await rest.post(
        "/api/v1/auth/login",
        json={"email": before["user"]["email"], "password": "correct horse battery"},
    )
    new_token = login.json()["tokens"]["access_token"]
    assert jwt.get_unverified_header(new_token)["kid"] == rotated.key_id
    for token in (old_token, new_token):
        me = await rest.get("/api/v1/auth/me", headers=_bearer(token))
        assert me.status_code == 200, me.text


async def test_logout_ends_this_session_only(rest: httpx.AsyncClient) -> None:
    email = _email()
    first = await register(rest, email)
    second = (
        await rest.post(
            "/api/v1/auth/login", json={"email": email, "password": "correct horse battery"}
        )
    ).json()
    out = await rest.post(
        "/api/v1/auth/logout", json={}, headers=_bearer(first["tokens"]["access_token"])
    )
    assert out.status_code == 200, out.text
    assert out.json()["revoked_sessions"] == 1
    dead = await rest.post(
        "/api/v1/auth/token:refresh", json={"refresh_token": first["tokens"]["refresh_token"]}
    )
    assert dead.status_code == 401
    alive = await rest.post(
        "/api/v1/auth/token:refresh", json={"refresh_token": second["tokens"]["refresh_token"]}
    )
    assert alive.status_code == 200


async def test_logout_everywhere(rest: httpx.AsyncClient) -> None:
    email = _email()
    first = await register(rest, email)
    second = (
        await rest.post(
            "/api/v1/auth/login", json={"email": email, "password": "correct horse battery"}
        )
    ).json()
    out = await rest.post(
        "/api/v1/auth/logout",
        json={"all_sessions": True},
        headers=_bearer(first["tokens"]["access_token"]),
    )
    assert out.json()["revoked_sessions"] == 2
    for tokens in (first["tokens"], second["tokens"]):
        refreshed = await rest.post(
            "/api/v1/auth/token:refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 401


async def test_wrong_json_types_are_400_naming_the_field(rest: httpx.AsyncClient) -> None:
    response = await rest.post(
        "/api/v1/auth/register",
        json={"email": "a@example.com", "password": "12345678", "display_name": {"first": "A"}},
    )
    assert response.status_code == 400
    assert "display_name" in response.json()["message"]
    numbers = await rest.get("/api/v1/auth/plans?page_size=many")
    assert numbers.status_code == 400
    assert "page_size" in numbers.json()["message"]


async def test_update_me_with_a_field_mask(rest: httpx.AsyncClient) -> None:
    body = await register(rest)
    headers = _bearer(body["tokens"]["access_token"])
    updated = await rest.patch(
        "/api/v1/auth/me?update_mask=display_name,time_zone",
        json={"display_name": "Anna", "time_zone": "Europe/Moscow", "locale": "ignored"},
        headers=headers,
    )
    assert updated.status_code == 200, updated.text
    user = updated.json()["user"]
    assert (user["display_name"], user["time_zone"], user["locale"]) == (
        "Anna",
        "Europe/Moscow",
        "",
    )
    refused = await rest.patch(
        "/api/v1/auth/me?update_mask=email", json={"email": "x@y.z"}, headers=headers
    )
    assert refused.status_code == 400
