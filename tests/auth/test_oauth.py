"""Sign-in with Google (OIDC) and Yandex through the edge, against provider stand-ins that
check what the real ones check (client, redirect URI, PKCE, single-use expiring codes)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import grpc
import httpx
import jwt
import pytest
from inbetwin.auth.v1 import auth_service_pb2 as pb
from inbetwin.auth.v1 import auth_service_pb2_grpc
from inbetwin.events.v1 import auth_events_pb2
from redis.asyncio import Redis

from services.auth.oauth.flow import OAuthFlow, RedirectPolicy
from services.auth.oauth.state import OAuthStates, state_key
from services.kit.errors import ServiceError
from services.stack import Stack
from tests.auth.conftest import APP_REDIRECT_URI, CLIENT_ID
from tests.auth.helpers import (
    bearer,
    grpc_reason,
    login,
    next_event,
    reason,
    register,
    unique_email,
)
from tests.standins.oidc import Account, OidcStandIn


@pytest.fixture
async def rest(auth_stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=auth_stack.rest_url, timeout=20) as client:
        yield client


async def start(rest: httpx.AsyncClient, provider: str, **body: str) -> dict[str, Any]:
    response = await rest.post(f"/api/v1/auth/oauth/{provider}:start", json=body)
    assert response.status_code == 200, response.text
    started: dict[str, Any] = response.json()
    return started


async def consent(oidc: OidcStandIn, authorization_url: str, account: Account) -> str:
    """The browser at the provider, signed in as `account`: returns where it is sent back."""
    async with httpx.AsyncClient(timeout=20) as browser:
        response = await browser.get(authorization_url, headers=oidc.browser_headers(account))
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def sign_in(rest: httpx.AsyncClient, oidc: OidcStandIn, account: Account) -> httpx.Response:
    started = await start(rest, account.provider)
    return await rest.get(await consent(oidc, started["authorization_url"], account))


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def test_google_first_sign_in_creates_a_verified_account(
    rest: httpx.AsyncClient, oidc: OidcStandIn, auth_stack: Stack
) -> None:
    account = oidc.add_google_user(email=unique_email(), name="Alice Liddell")
    started = await start(rest, "google")
    sent = query(started["authorization_url"])
    callback_url = f"{auth_stack.rest_url}/api/v1/auth/oauth/google/callback"
    assert started["authorization_url"].startswith(f"{oidc.google_issuer}/o/oauth2/v2/auth?")
    assert sent["client_id"] == CLIENT_ID
    assert sent["redirect_uri"] == callback_url
    assert sent["response_type"] == "code"
    assert set(sent["scope"].split()) == {"openid", "email", "profile"}
    assert sent["state"] == started["state"]
    assert sent["code_challenge_method"] == "S256"
    assert len(sent["code_challenge"]) == 43
    assert sent["nonce"]

    back = await consent(oidc, started["authorization_url"], account)
    assert back.startswith(callback_url + "?")
    response = await rest.get(back)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["created"] is True
    user = body["user"]
    assert (user["email"], user["email_verified"], user["display_name"]) == (
        account.email,
        True,
        "Alice Liddell",
    )
    assert user["sign_in_methods"] == ["google"]
    # The code was redeemed with the verifier whose S256 is the challenge sent to the provider.
    redeemed = [r for r in oidc.token_requests if r.get("code") == query(back)["code"]]
    assert s256(redeemed[0]["code_verifier"]) == sent["code_challenge"]
    assert redeemed[0]["redirect_uri"] == callback_url

    token = body["tokens"]["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["plan"] == "free"
    me = await rest.get("/api/v1/auth/me", headers=bearer(token))
    assert me.json()["user"]["id"] == user["id"]
    event = await next_event(
        auth_stack.nats_url,
        "inbetwin.auth.user.registered",
        auth_events_pb2.UserRegistered,
        owner_id=user["id"],
    )
    assert (event.email, event.sign_in_method) == (account.email, "google")

    again = await sign_in(rest, oidc, account)
    assert again.status_code == 200, again.text
    assert again.json()["created"] is False
    assert again.json()["user"]["id"] == user["id"]


async def test_yandex_sign_in_with_a_yandex_mailbox(
    rest: httpx.AsyncClient, oidc: OidcStandIn
) -> None:
    account = oidc.add_yandex_user(email=unique_email("yandex.ru"), name="Vasya Pupkin")
    started = await start(rest, "yandex")
    sent = query(started["authorization_url"])
    assert started["authorization_url"].startswith(oidc.yandex_authorize_url + "?")
    assert (sent["client_id"], sent["code_challenge_method"]) == (CLIENT_ID, "S256")
    back = await consent(oidc, started["authorization_url"], account)
    assert "cid" in query(back)
    first = await rest.get(back)
    assert first.status_code == 200, first.text
    assert first.json()["created"] is True
    assert first.json()["user"]["email_verified"] is True
    assert first.json()["user"]["sign_in_methods"] == ["yandex"]
    redeemed = [r for r in oidc.token_requests if r.get("code") == query(back)["code"]]
    assert s256(redeemed[0]["code_verifier"]) == sent["code_challenge"]
    again = await sign_in(rest, oidc, account)
    assert again.json()["user"]["id"] == first.json()["user"]["id"]
    assert again.json()["created"] is False


async def test_a_verified_email_links_the_existing_account(
    rest: httpx.AsyncClient, oidc: OidcStandIn
) -> None:
    email = unique_email("ya.ru")
    through_yandex = await sign_in(rest, oidc, oidc.add_yandex_user(email=email))
    assert through_yandex.json()["user"]["email_verified"] is True
    google = oidc.add_google_user(email=email.upper())
    through_google = await sign_in(rest, oidc, google)
    assert through_google.status_code == 200, through_google.text
    assert through_google.json()["created"] is False
    assert through_google.json()["user"]["id"] == through_yandex.json()["user"]["id"]
    assert through_google.json()["user"]["sign_in_methods"] == ["google", "yandex"]


async def test_an_unverified_email_is_never_linked(
    rest: httpx.AsyncClient, oidc: OidcStandIn
) -> None:
    registered = await register(rest)
    email = registered["user"]["email"]
    for account in (
        oidc.add_google_user(email=email, email_verified=False),
        # Yandex does not vouch for addresses outside its own mail domains.
        oidc.add_yandex_user(email=email),
    ):
        refused = await sign_in(rest, oidc, account)
        assert refused.status_code == 401, refused.text
        assert reason(refused.json()) == "OAUTH_EMAIL_UNVERIFIED"
    assert (await login(rest, email)).status_code == 200
    me = await rest.get("/api/v1/auth/me", headers=bearer(registered["tokens"]["access_token"]))
    assert me.json()["user"]["sign_in_methods"] == ["password"]


async def test_an_unverified_email_without_an_account_gets_an_unverified_account(
    rest: httpx.AsyncClient, oidc: OidcStandIn
) -> None:
    response = await sign_in(
        rest, oidc, oidc.add_google_user(email=unique_email(), email_verified=False)
    )
    assert response.status_code == 200, response.text
    assert response.json()["created"] is True
    assert response.json()["user"]["email_verified"] is False


async def test_the_verified_owner_takes_over_a_pre_registered_account(
    rest: httpx.AsyncClient, oidc: OidcStandIn
) -> None:
    """An attacker registers the victim's address with a password before the victim arrives."""
    email = unique_email()
    attacker = await register(rest, email, password="attacker knows this")
    victim = await sign_in(rest, oidc, oidc.add_google_user(email=email))
    assert victim.status_code == 200, victim.text
    assert victim.json()["user"]["id"] == attacker["user"]["id"]
    assert victim.json()["user"]["sign_in_methods"] == ["google"]
    assert victim.json()["user"]["email_verified"] is True
    assert (await login(rest, email, "attacker knows this")).status_code == 401
    stolen = await rest.post(
        "/api/v1/auth/token:refresh", json={"refresh_token": attacker["tokens"]["refresh_token"]}
    )
    assert stolen.status_code == 401
    assert reason(stolen.json()) == "REFRESH_TOKEN_INVALID"


async def test_a_replayed_callback_is_refused(rest: httpx.AsyncClient, oidc: OidcStandIn) -> None:
    account = oidc.add_google_user(email=unique_email())
    started = await start(rest, "google")
    back = await consent(oidc, started["authorization_url"], account)
    assert (await rest.get(back)).status_code == 200
    replayed = await rest.get(back)
    assert replayed.status_code == 401
    assert reason(replayed.json()) == "OAUTH_STATE_INVALID"


async def test_a_code_replayed_in_another_sign_in_is_refused(
    rest: httpx.AsyncClient, oidc: OidcStandIn
) -> None:
    account = oidc.add_google_user(email=unique_email())
    first = await start(rest, "google")
    back = await consent(oidc, first["authorization_url"], account)
    assert (await rest.get(back)).status_code == 200
    second = await start(rest, "google")
    replayed = await rest.get(
        "/api/v1/auth/oauth/google/callback",
        params={"code": query(back)["code"], "state": second["state"]},
    )
    assert replayed.status_code == 401
    assert reason(replayed.json()) == "OAUTH_CODE_REJECTED"


async def test_an_intercepted_code_fails_pkce(rest: httpx.AsyncClient, oidc: OidcStandIn) -> None:
    """The attacker steals the victim's code but holds only their own sign-in (state, verifier)."""
    victim = oidc.add_yandex_user(email=unique_email("yandex.ru"))
    victims_flow = await start(rest, "yandex")
    stolen_code = query(await consent(oidc, victims_flow["authorization_url"], victim))["code"]
    attackers_flow = await start(rest, "yandex")
    injected = await rest.get(
        "/api/v1/auth/oauth/yandex/callback",
        params={"code": stolen_code, "state": attackers_flow["state"]},
    )
    assert injected.status_code == 401
    assert reason(injected.json()) == "OAUTH_CODE_REJECTED"
    redeemed = [r for r in oidc.token_requests if r.get("code") == stolen_code]
    assert (
        s256(redeemed[0]["code_verifier"])
        != query(victims_flow["authorization_url"])["code_challenge"]
    )


@pytest.mark.parametrize("provider", ["google", "yandex"])
async def test_wrong_or_foreign_state_is_refused(
    rest: httpx.AsyncClient, oidc: OidcStandIn, provider: str
) -> None:
    unknown = await rest.get(
        f"/api/v1/auth/oauth/{provider}/callback", params={"code": "x", "state": "forged"}
    )
    assert unknown.status_code == 401
    assert reason(unknown.json()) == "OAUTH_STATE_INVALID"
    other = "yandex" if provider == "google" else "google"
    foreign = await start(rest, other)
    crossed = await rest.get(
        f"/api/v1/auth/oauth/{provider}/callback", params={"code": "x", "state": foreign["state"]}
    )
    assert crossed.status_code == 401
    assert reason(crossed.json()) == "OAUTH_STATE_INVALID"


@pytest.mark.parametrize("provider", ["google", "yandex"])
async def test_an_expired_code_is_refused(
    rest: httpx.AsyncClient, oidc: OidcStandIn, provider: str
) -> None:
    account = (
        oidc.add_google_user(email=unique_email())
        if provider == "google"
        else oidc.add_yandex_user(email=unique_email("yandex.ru"))
    )
    started = await start(rest, provider)
    back = await consent(oidc, started["authorization_url"], account)
    oidc.expire_codes()
    response = await rest.get(back)
    assert response.status_code == 401
    assert reason(response.json()) == "OAUTH_CODE_REJECTED"


async def test_an_expired_state_is_refused(
    rest: httpx.AsyncClient, oidc: OidcStandIn, auth_stack: Stack
) -> None:
    account = oidc.add_google_user(email=unique_email())
    started = await start(rest, "google")
    back = await consent(oidc, started["authorization_url"], account)
    redis = Redis.from_url(auth_stack.redis_url)
    try:
        key = state_key(started["state"])
        assert 590 <= await redis.ttl(key) <= 600
        await redis.pexpire(key, 1)
        while await redis.exists(key):
            pass
    finally:
        await redis.aclose()
    response = await rest.get(back)
    assert response.status_code == 401
    assert reason(response.json()) == "OAUTH_STATE_INVALID"


@pytest.mark.parametrize(
    ("overrides", "forge"),
    [
        ({"nonce": "someone-elses-nonce"}, False),
        ({"aud": "another-client"}, False),
        ({"aud": [CLIENT_ID, "another-client"], "azp": "another-client"}, False),
        ({"iss": "https://accounts.evil.example"}, False),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, False),
        ({}, True),
    ],
    ids=["nonce", "audience", "azp", "issuer", "expired", "signature"],
)
async def test_an_id_token_that_fails_verification_is_refused(
    rest: httpx.AsyncClient, oidc: OidcStandIn, overrides: dict[str, Any], forge: bool
) -> None:
    account = oidc.add_google_user(email=unique_email())
    account.id_token_overrides = overrides
    account.forge_signature = forge
    refused = await sign_in(rest, oidc, account)
    assert refused.status_code == 401, refused.text
    assert reason(refused.json()) == "OAUTH_CODE_REJECTED"
    account.id_token_overrides = {}
    account.forge_signature = False
    genuine = await sign_in(rest, oidc, account)
    assert genuine.json()["created"] is True  # the refused attempt created nothing


async def test_a_redirect_naming_another_issuer_is_refused(
    rest: httpx.AsyncClient, oidc: OidcStandIn
) -> None:
    account = oidc.add_google_user(email=unique_email())
    started = await start(rest, "google")
    params = query(await consent(oidc, started["authorization_url"], account))
    params["iss"] = "https://accounts.evil.example"
    response = await rest.get("/api/v1/auth/oauth/google/callback", params=params)
    assert response.status_code == 401
    assert reason(response.json()) == "OAUTH_CODE_REJECTED"


async def test_the_provider_rotating_its_keys_is_followed(
    rest: httpx.AsyncClient, oidc: OidcStandIn
) -> None:
    assert (
        await sign_in(rest, oidc, oidc.add_google_user(email=unique_email()))
    ).status_code == 200
    oidc.rotate_keys()
    after = await sign_in(rest, oidc, oidc.add_google_user(email=unique_email()))
    assert after.status_code == 200, after.text


async def test_declining_at_the_provider_spends_the_state(
    rest: httpx.AsyncClient, oidc: OidcStandIn
) -> None:
    account = oidc.add_google_user(email=unique_email())
    account.denies = True
    started = await start(rest, "google")
    back = await consent(oidc, started["authorization_url"], account)
    assert query(back)["error"] == "access_denied"
    declined = await rest.get(back)
    assert declined.status_code == 401
    assert reason(declined.json()) == "OAUTH_ACCESS_DENIED"
    assert reason((await rest.get(back)).json()) == "OAUTH_STATE_INVALID"


async def test_only_allowed_redirect_uris(rest: httpx.AsyncClient, oidc: OidcStandIn) -> None:
    app_uri = APP_REDIRECT_URI.format(provider="google")
    started = await start(rest, "google", redirect_uri=app_uri)
    assert query(started["authorization_url"])["redirect_uri"] == app_uri
    back = await consent(
        oidc, started["authorization_url"], oidc.add_google_user(email=unique_email())
    )
    assert back.startswith(app_uri + "?")
    # The web app received the redirect and hands code and state to the API.
    completed = await rest.get("/api/v1/auth/oauth/google/callback", params=query(back))
    assert completed.status_code == 200, completed.text

    refused = await rest.post(
        "/api/v1/auth/oauth/google:start", json={"redirect_uri": "https://evil.example/steal"}
    )
    assert refused.status_code == 400
    assert reason(refused.json()) == "REDIRECT_URI_NOT_ALLOWED"
    unknown = await rest.post("/api/v1/auth/oauth/github:start", json={})
    assert unknown.status_code == 400


async def test_sign_in_over_native_grpc(
    rest: httpx.AsyncClient, oidc: OidcStandIn, auth_stack: Stack
) -> None:
    async with grpc.aio.insecure_channel(auth_stack.grpc_address) as channel:
        stub = auth_service_pb2_grpc.AuthServiceStub(channel)
        for account in (
            oidc.add_google_user(email=unique_email()),
            oidc.add_yandex_user(email=unique_email("yandex.ru")),
        ):
            started = await stub.StartOAuth(pb.StartOAuthRequest(provider=account.provider))
            back = query(await consent(oidc, started.authorization_url, account))
            request = pb.CompleteOAuthRequest(provider=account.provider, **back)
            completed = await stub.CompleteOAuth(request)
            assert completed.created
            assert completed.user.email == account.email
            metadata = (("authorization", f"Bearer {completed.tokens.access_token}"),)
            me = await stub.GetMe(pb.GetMeRequest(), metadata=metadata)
            assert me.user.id == completed.user.id
            with pytest.raises(grpc.aio.AioRpcError) as replayed:
                await stub.CompleteOAuth(request)
            assert replayed.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert grpc_reason(replayed.value) == "OAUTH_STATE_INVALID"


async def test_concurrent_first_sign_ins_make_one_account(
    rest: httpx.AsyncClient, oidc: OidcStandIn
) -> None:
    account = oidc.add_google_user(email=unique_email())
    flows = [await start(rest, "google") for _ in range(3)]
    redirects = [await consent(oidc, f["authorization_url"], account) for f in flows]
    results = await asyncio.gather(*(rest.get(url) for url in redirects))
    assert [r.status_code for r in results] == [200, 200, 200]
    assert len({r.json()["user"]["id"] for r in results}) == 1
    assert sorted(r.json()["created"] for r in results) == [False, False, True]


async def test_a_provider_outage_is_503_and_retryable(
    rest: httpx.AsyncClient, oidc: OidcStandIn
) -> None:
    account = oidc.add_yandex_user(email=unique_email("yandex.ru"))
    oidc.fail_token_requests(status=503)
    failed = await sign_in(rest, oidc, account)
    assert failed.status_code == 503, failed.text
    assert reason(failed.json()) == "OAUTH_PROVIDER_UNAVAILABLE"
    assert (await sign_in(rest, oidc, account)).status_code == 200


async def test_a_callback_without_code_or_error_is_400_and_keeps_the_state(
    rest: httpx.AsyncClient, oidc: OidcStandIn
) -> None:
    account = oidc.add_google_user(email=unique_email())
    started = await start(rest, "google")
    back = await consent(oidc, started["authorization_url"], account)
    missing = await rest.get(
        "/api/v1/auth/oauth/google/callback", params={"state": started["state"]}
    )
    assert missing.status_code == 400
    assert (await rest.get(back)).status_code == 200


async def test_an_unconfigured_provider_is_a_failed_precondition(auth_stack: Stack) -> None:
    redis = Redis.from_url(auth_stack.redis_url)
    try:
        flow = OAuthFlow(
            providers={},
            states=OAuthStates(redis, ttl_seconds=600),
            redirects=RedirectPolicy(public_origin=auth_stack.rest_url, allowed=()),
        )
        with pytest.raises(ServiceError) as raised:
            await flow.start(provider="google", redirect_uri="")
    finally:
        await redis.aclose()
    assert raised.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert raised.value.reason == "PROVIDER_NOT_CONFIGURED"
