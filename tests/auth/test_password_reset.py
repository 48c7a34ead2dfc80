"""Password reset by email through the edge: the mail goes over SMTP to a real local server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import asyncpg
import grpc
import httpx
import pytest
from inbetwin.auth.v1 import auth_service_pb2 as pb
from inbetwin.auth.v1 import auth_service_pb2_grpc

from services.stack import Stack
from tests.auth.conftest import RESET_URL
from tests.auth.helpers import (
    PASSWORD,
    client_from,
    grpc_reason,
    login,
    reason,
    register,
    unique_email,
)
from tests.auth.mailbox import Mailbox
from tests.standins.oidc import OidcStandIn

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
async def rest(auth_stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    # Each test from its own address, so the per-address limits of one never touch another.
    async with client_from(auth_stack.rest_url) as client:
        yield client


async def request_reset(rest: httpx.AsyncClient, email: str) -> httpx.Response:
    return await rest.post("/api/v1/auth/password:requestReset", json={"email": email})


async def reset(
    rest: httpx.AsyncClient, token: str, password: str = NEW_PASSWORD
) -> httpx.Response:
    return await rest.post(
        "/api/v1/auth/password:reset", json={"token": token, "new_password": password}
    )


def token_in(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    links = [w for w in body.get_content().split() if w.startswith(RESET_URL + "?")]
    assert len(links) == 1, body.get_content()
    return str(dict(parse_qsl(urlsplit(links[0]).query))["token"])


async def test_reset_by_email_sets_the_password_and_ends_every_session(
    rest: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    email = unique_email()
    first_session = await register(rest, email)
    second_session = (await login(rest, email)).json()

    requested = await request_reset(rest, f"  {email.upper()} ")
    assert requested.status_code == 200, requested.text
    assert requested.json() == {}
    message = await mailbox.wait_for(email)
    assert message["To"] == email
    assert message["Subject"] == "Reset your inBeTwin password"
    token = token_in(message)

    done = await reset(rest, token)
    assert done.status_code == 200, done.text
    assert (await login(rest, email)).status_code == 401
    after = await login(rest, email, NEW_PASSWORD)
    assert after.status_code == 200
    assert after.json()["user"]["email_verified"] is True  # the link proved the mailbox
    for session in (first_session, second_session):
        refreshed = await rest.post(
            "/api/v1/auth/token:refresh", json={"refresh_token": session["tokens"]["refresh_token"]}
        )
        assert refreshed.status_code == 401
        assert reason(refreshed.json()) == "REFRESH_TOKEN_INVALID"


async def test_a_reset_token_works_once(rest: httpx.AsyncClient, mailbox: Mailbox) -> None:
    email = (await register(rest))["user"]["email"]
    await request_reset(rest, email)
    token = token_in(await mailbox.wait_for(email))
    assert (await reset(rest, token)).status_code == 200
    reused = await reset(rest, token, "yet another password")
    assert reused.status_code == 401
    assert reason(reused.json()) == "RESET_TOKEN_INVALID"
    assert (await login(rest, email, NEW_PASSWORD)).status_code == 200


async def test_concurrent_resets_with_one_token_one_wins(
    rest: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    email = (await register(rest))["user"]["email"]
    await request_reset(rest, email)
    token = token_in(await mailbox.wait_for(email))
    results = await asyncio.gather(*(reset(rest, token, f"password number {i}") for i in range(4)))
    assert sorted(r.status_code for r in results) == [200, 401, 401, 401]


async def test_an_expired_reset_token_is_refused(
    rest: httpx.AsyncClient, mailbox: Mailbox, auth_stack: Stack
) -> None:
    registered = await register(rest)
    email = registered["user"]["email"]
    await request_reset(rest, email)
    token = token_in(await mailbox.wait_for(email))
    connection = await asyncpg.connect(auth_stack.postgres_dsn("auth"))
    try:
        expires, created = await connection.fetchrow(
            "SELECT expires_at, created_at FROM password_reset_tokens WHERE user_id = $1",
            registered["user"]["id"],
        )
        assert (expires - created).total_seconds() == pytest.approx(1800, abs=5)
        await connection.execute(
            "UPDATE password_reset_tokens SET expires_at = now() - interval '1 second' "
            "WHERE user_id = $1",
            registered["user"]["id"],
        )
    finally:
        await connection.close()
    expired = await reset(rest, token)
    assert expired.status_code == 401
    assert reason(expired.json()) == "RESET_TOKEN_INVALID"
    assert (await login(rest, email)).status_code == 200


async def test_the_token_is_stored_only_hashed(
    rest: httpx.AsyncClient, mailbox: Mailbox, auth_stack: Stack
) -> None:
    registered = await register(rest)
    email = registered["user"]["email"]
    await request_reset(rest, email)
    token = token_in(await mailbox.wait_for(email))
    connection = await asyncpg.connect(auth_stack.postgres_dsn("auth"))
    try:
        stored = await connection.fetchval(
            "SELECT token_hash FROM password_reset_tokens WHERE user_id = $1",
            registered["user"]["id"],
        )
        queued = await connection.fetchval("SELECT count(*) FROM outgoing_mail")
    finally:
        await connection.close()
    assert token.encode() not in stored
    assert len(stored) == 32
    assert queued == 0  # sent mail leaves no copy of the link behind


async def test_a_new_reset_spends_older_links(rest: httpx.AsyncClient, mailbox: Mailbox) -> None:
    email = (await register(rest))["user"]["email"]
    await request_reset(rest, email)
    await request_reset(rest, email)
    older = token_in(await mailbox.wait_for(email, count=1))
    newer = token_in(await mailbox.wait_for(email, count=2))
    assert older != newer
    assert (await reset(rest, newer)).status_code == 200
    assert reason((await reset(rest, older)).json()) == "RESET_TOKEN_INVALID"


async def test_the_answer_does_not_tell_whether_the_account_exists(
    rest: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    known = (await register(rest))["user"]["email"]
    unknown = unique_email()
    for_unknown = await request_reset(rest, unknown)
    for_known = await request_reset(rest, known)
    assert for_unknown.status_code == for_known.status_code == 200
    assert for_unknown.content == for_known.content
    await mailbox.wait_for(known)
    assert mailbox.messages_to(unknown) == []
    # Throttling cannot tell them apart either.
    for _ in range(2):
        await request_reset(rest, unknown)
        await request_reset(rest, known)
    over_unknown = await request_reset(rest, unknown)
    over_known = await request_reset(rest, known)
    assert over_unknown.status_code == over_known.status_code == 429
    assert over_unknown.json()["message"] == over_known.json()["message"]
    assert reason(over_unknown.json()) == reason(over_known.json()) == "TOO_MANY_ATTEMPTS"


async def google_sign_in(rest: httpx.AsyncClient, oidc: OidcStandIn, email: str) -> dict[str, Any]:
    account = oidc.add_google_user(email=email)
    started = (await rest.post("/api/v1/auth/oauth/google:start", json={})).json()
    async with httpx.AsyncClient() as browser:
        at_provider = await browser.get(
            started["authorization_url"], headers=oidc.browser_headers(account)
        )
    response = await rest.get(at_provider.headers["location"])
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_reset_gives_an_oauth_account_a_password(
    rest: httpx.AsyncClient, mailbox: Mailbox, oidc: OidcStandIn
) -> None:
    email = unique_email()
    signed_in = await google_sign_in(rest, oidc, email)
    assert signed_in["user"]["sign_in_methods"] == ["google"]
    await request_reset(rest, email)
    assert (await reset(rest, token_in(await mailbox.wait_for(email)))).status_code == 200
    by_password = await login(rest, email, NEW_PASSWORD)
    assert by_password.status_code == 200
    assert by_password.json()["user"]["id"] == signed_in["user"]["id"]
    assert by_password.json()["user"]["sign_in_methods"] == ["password", "google"]


async def test_a_verified_account_keeps_its_password_when_google_links(
    rest: httpx.AsyncClient, mailbox: Mailbox, oidc: OidcStandIn
) -> None:
    email = (await register(rest))["user"]["email"]
    await request_reset(rest, email)
    assert (await reset(rest, token_in(await mailbox.wait_for(email)))).status_code == 200
    linked = await google_sign_in(rest, oidc, email)
    assert linked["created"] is False
    assert linked["user"]["sign_in_methods"] == ["password", "google"]
    assert (await login(rest, email, NEW_PASSWORD)).status_code == 200


async def test_bad_input_is_400(rest: httpx.AsyncClient) -> None:
    not_email = await rest.post("/api/v1/auth/password:requestReset", json={"email": "nope"})
    assert not_email.status_code == 400
    short = await reset(rest, "whatever", "short")
    assert short.status_code == 400


async def test_reset_over_native_grpc(auth_stack: Stack, mailbox: Mailbox) -> None:
    async with client_from(auth_stack.rest_url) as rest:
        email = (await register(rest))["user"]["email"]
    async with grpc.aio.insecure_channel(auth_stack.grpc_address) as channel:
        stub = auth_service_pb2_grpc.AuthServiceStub(channel)
        await stub.RequestPasswordReset(pb.RequestPasswordResetRequest(email=email))
        await stub.RequestPasswordReset(pb.RequestPasswordResetRequest(email=unique_email()))
        token = token_in(await mailbox.wait_for(email))
        await stub.ResetPassword(pb.ResetPasswordRequest(token=token, new_password=NEW_PASSWORD))
        with pytest.raises(grpc.aio.AioRpcError) as reused:
            await stub.ResetPassword(pb.ResetPasswordRequest(token=token, new_password=PASSWORD))
        assert reused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert grpc_reason(reused.value) == "RESET_TOKEN_INVALID"
        signed_in = await stub.Login(pb.LoginRequest(email=email, password=NEW_PASSWORD))
        assert signed_in.user.email == email
