"""The X client against the local X API stand-in: OAuth with PKCE, sending, errors, DM events."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlencode

import httpx
import pytest

from services.social.platforms.types import (
    BlockedError,
    InvalidCredentialsError,
    PermanentError,
    Profile,
    RetryLaterError,
    TransientError,
)
from services.social.platforms.x import OAuthClient, XAdapter, XClient, conversation_id
from tests.standins.x import XStandIn

CLIENT = OAuthClient(client_id="cid", client_secret="csecret")
REDIRECT = "https://edge.test/api/v1/social/oauth/x/callback"


@pytest.fixture
def x_api() -> Iterator[XStandIn]:
    with XStandIn(client_id="cid", client_secret="csecret", consumer_secret="api") as standin:
        yield standin


@pytest.fixture
async def client(x_api: XStandIn) -> AsyncIterator[XClient]:
    async with httpx.AsyncClient(timeout=5.0) as http:
        yield XClient(http, api_base=x_api.base_url)


def _authorize(x_api: XStandIn, user_id: str, verifier: str, scopes: str) -> str:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = urlencode(
        {
            "response_type": "code",
            "client_id": "cid",
            "redirect_uri": REDIRECT,
            "scope": scopes,
            "state": "s",
            "code_challenge": challenge.decode().rstrip("="),
            "code_challenge_method": "S256",
        }
    )
    return x_api.approve(f"{x_api.authorize_url}?{query}", user_id)["code"]


async def _tokens(client: XClient, x_api: XStandIn, user_id: str) -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    code = _authorize(
        x_api, user_id, verifier, "dm.read dm.write tweet.read users.read offline.access"
    )
    tokens = await client.exchange_code(
        CLIENT, code=code, code_verifier=verifier, redirect_uri=REDIRECT
    )
    return tokens.access_token, tokens.refresh_token


async def test_code_exchange_with_pkce_and_refresh_rotation(
    client: XClient, x_api: XStandIn
) -> None:
    user = x_api.add_user(username="shop", name="Shop")
    verifier = secrets.token_urlsafe(48)
    code = _authorize(
        x_api, user, verifier, "dm.read dm.write tweet.read users.read offline.access"
    )
    tokens = await client.exchange_code(
        CLIENT, code=code, code_verifier=verifier, redirect_uri=REDIRECT
    )
    assert tokens.scopes == ("dm.read", "dm.write", "tweet.read", "users.read", "offline.access")
    assert tokens.refresh_token
    assert tokens.expires_at is not None
    me = await client.me(tokens.access_token)
    assert (me.platform_account_id, me.username, me.display_name) == (user, "shop", "Shop")
    renewed = await client.refresh(CLIENT, refresh_token=tokens.refresh_token)
    assert renewed.refresh_token != tokens.refresh_token
    with pytest.raises(PermanentError, match="invalid"):  # refresh tokens are single use
        await client.refresh(CLIENT, refresh_token=tokens.refresh_token)


async def test_a_wrong_verifier_or_reused_code_is_rejected(
    client: XClient, x_api: XStandIn
) -> None:
    user = x_api.add_user(username="u", name="U")
    code = _authorize(x_api, user, "right-verifier-" + "a" * 40, "dm.read")
    with pytest.raises(PermanentError, match="code_verifier"):
        await client.exchange_code(
            CLIENT, code=code, code_verifier="wrong-verifier-" + "a" * 40, redirect_uri=REDIRECT
        )
    with pytest.raises(PermanentError):
        await client.exchange_code(
            CLIENT, code=code, code_verifier="right-verifier-" + "a" * 40, redirect_uri=REDIRECT
        )


async def test_a_wrong_client_secret_is_invalid_credentials(
    client: XClient, x_api: XStandIn
) -> None:
    with pytest.raises(InvalidCredentialsError):
        await client.refresh(OAuthClient("cid", "wrong"), refresh_token="r")


async def test_send_a_dm(client: XClient, x_api: XStandIn) -> None:
    me = x_api.add_user(username="shop", name="Shop")
    access, _ = await _tokens(client, x_api, me)
    sent = await XAdapter(client).send_text(
        access, recipient_id="3001969357", text="Hello!", idempotency_key="m1"
    )
    [dm] = x_api.sent("3001969357")
    assert (dm.sender_id, dm.text, dm.dm_event_id) == (me, "Hello!", sent.platform_message_id)


async def test_429_waits_until_the_rate_limit_reset(client: XClient, x_api: XStandIn) -> None:
    me = x_api.add_user(username="shop", name="Shop")
    access, _ = await _tokens(client, x_api, me)
    x_api.fail_next_send(status=429, reset_in=30)
    with pytest.raises(RetryLaterError) as error:
        await client.send_dm(access, participant_id="1", text="hi")
    assert 28 <= error.value.retry_after <= 31  # x-rate-limit-reset is epoch seconds
    assert error.value.description == "Too Many Requests"


async def test_a_user_who_blocked_the_account_is_403(client: XClient, x_api: XStandIn) -> None:
    me = x_api.add_user(username="shop", name="Shop")
    access, _ = await _tokens(client, x_api, me)
    x_api.block(me, "3001969357")
    with pytest.raises(BlockedError, match="not permitted"):
        await client.send_dm(access, participant_id="3001969357", text="hi")


async def test_a_revoked_token_is_401_and_5xx_is_transient(
    client: XClient, x_api: XStandIn
) -> None:
    me = x_api.add_user(username="shop", name="Shop")
    access, _ = await _tokens(client, x_api, me)
    x_api.fail_next_send(status=503, title="Service Unavailable")
    with pytest.raises(TransientError, match="Service Unavailable"):
        await client.send_dm(access, participant_id="1", text="hi")
    x_api.revoke_access(access)
    with pytest.raises(InvalidCredentialsError):
        await client.send_dm(access, participant_id="1", text="hi")


async def test_dm_events_give_the_one_to_one_partners(client: XClient, x_api: XStandIn) -> None:
    me = x_api.add_user(username="shop", name="Shop")
    friend = x_api.add_user(username="friend", name="Friend")
    access, _ = await _tokens(client, x_api, me)
    for index in range(150):
        x_api.add_dm_event(
            me,
            {
                "id": str(10_000 + index),
                "event_type": "MessageCreate",
                "text": "hi",
                "sender_id": friend,
                "dm_conversation_id": conversation_id(me, friend),
                "created_at": "2026-01-01T00:00:00.000Z",
            },
        )
    x_api.add_dm_event(
        me,
        {
            "id": "1",
            "event_type": "MessageCreate",
            "sender_id": "17200003",
            "dm_conversation_id": "1578398451921985538",  # a group conversation
        },
    )
    found = [p async for p in XAdapter(client).contacts(access, account_id=me, known_user_ids=[])]
    assert found == [
        Profile(
            platform_user_id=friend,
            display_name="Friend",
            username="friend",
            avatar_url=f"https://pbs.twimg.com/profile_images/{friend}_normal.jpg",
        )
    ]
