"""social with X, end to end in-process: OAuth 2.0 PKCE connect, CRC, signed webhooks routed by
`for_user_id`, de-duplication, echoes, sending (429, blocked, revoked token), token refresh."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import grpc
import pytest
import sqlalchemy as sa
from google.api import httpbody_pb2
from inbetwin.events.v1 import social_events_pb2
from inbetwin.social.v1 import integration_pb2, social_service_pb2
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.bus import EventBus
from services.kit.events import deterministic_id
from services.social.credentials import Credentials, open_sealed_credentials, seal_credentials
from services.social.crypto import TokenCipher
from tests.social.samples import sample
from tests.social.support import (
    ENCRYPTION_KEYS,
    PUBLIC_URL,
    X_CLIENT_ID,
    X_WEBHOOK_ID,
    Metadata,
    NewOwner,
    Platforms,
    Stub,
    contact_of,
    count,
    eventually,
    outbox_payload,
    owner_id,
    reason,
    reply_command,
    reply_status,
    rows,
    sync_succeeded,
    table_count,
)
from tests.standins.x import XStandIn

SIGNATURE = "x-twitter-webhooks-signature"
_users = iter(range(4_400_000_001, 4_500_000_000))


@pytest.fixture
def x(platforms: Platforms) -> XStandIn:
    return platforms.x


async def start(stub: Stub, owner: Metadata, **fields: Any) -> str:
    started = await stub.StartIntegrationOAuth(
        social_service_pb2.StartIntegrationOAuthRequest(platform="x", **fields), metadata=owner
    )
    return str(started.authorization_url)


async def complete(stub: Stub, **query: str) -> social_service_pb2.CompleteIntegrationOAuthResponse:
    response: social_service_pb2.CompleteIntegrationOAuthResponse = (
        await stub.CompleteIntegrationOAuth(
            social_service_pb2.CompleteIntegrationOAuthRequest(platform="x", **query)
        )
    )
    return response


async def connect(
    stub: Stub, x: XStandIn, owner: Metadata
) -> tuple[str, integration_pb2.Integration]:
    user_id = x.add_user(username="shop", name="Shop", user_id=str(next(_users)))
    answer = x.approve(await start(stub, owner), user_id)
    return user_id, (await complete(stub, **answer)).integration


async def deliver(stub: Stub, x: XStandIn, body: dict[str, Any] | bytes, **kw: Any) -> bytes:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    signature = kw.get("signature", x.signature(raw))
    response: social_service_pb2.HandleWebhookResponse = await stub.HandleWebhook(
        social_service_pb2.HandleWebhookRequest(
            platform="x",
            integration_id=kw.get("path_id", X_WEBHOOK_ID),
            body=httpbody_pb2.HttpBody(content_type="application/json", data=raw),
        ),
        metadata=((SIGNATURE, signature),),
    )
    return bytes(response.body.data)


def dm(for_user: str, sender: str, event_id: str, text: str = "Hello World!") -> dict[str, Any]:
    body = sample("x_aaa_direct_message_events.json")
    body["for_user_id"] = for_user
    event = body["direct_message_events"][0]
    event["id"] = event_id
    event["created_timestamp"] = str(int(datetime.now(UTC).timestamp() * 1000))
    event["message_create"]["target"]["recipient_id"] = for_user
    event["message_create"]["sender_id"] = sender
    event["message_create"]["message_data"]["text"] = text
    body["users"][sender] = body["users"]["3001969357"] | {"id": sender}
    return body


async def test_start_gives_an_authorization_url_with_pkce_and_state(
    stub: Stub, new_owner: NewOwner
) -> None:
    started = await stub.StartIntegrationOAuth(
        social_service_pb2.StartIntegrationOAuthRequest(platform="x"), metadata=await new_owner()
    )
    url = urlsplit(started.authorization_url)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["client_id"] == X_CLIENT_ID
    assert query["redirect_uri"] == f"{PUBLIC_URL}/api/v1/social/oauth/x/callback"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert query["state"] == started.state
    assert set(query["scope"].split()) == {
        "dm.read",
        "dm.write",
        "tweet.read",
        "users.read",
        "offline.access",
    }
    lifetime = started.expire_time.ToDatetime(UTC) - datetime.now(UTC)
    assert timedelta(minutes=9) < lifetime <= timedelta(minutes=10)


async def test_an_unknown_redirect_or_platform_is_refused(stub: Stub, new_owner: NewOwner) -> None:
    owner = await new_owner()
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await start(stub, owner, redirect_uri="https://evil.example/cb")
    assert reason(error.value) == "REDIRECT_URI_NOT_ALLOWED"
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.StartIntegrationOAuth(
            social_service_pb2.StartIntegrationOAuthRequest(platform="vk", vk_group_id=1),
            metadata=owner,
        )
    assert reason(error.value) == "UNSUPPORTED_PLATFORM"


async def test_completing_connects_the_account_and_subscribes_it(
    stub: Stub, x: XStandIn, platforms: Platforms, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    user_id = x.add_user(username="shop", name="Shop", user_id=str(next(_users)))
    answer = x.approve(await start(stub, owner, display_name="My X"), user_id)
    response = await complete(stub, **answer)
    integration = response.integration
    assert response.created
    assert integration.platform == integration_pb2.PLATFORM_X
    assert integration.status == integration_pb2.INTEGRATION_STATUS_ACTIVE
    assert integration.platform_account_id == user_id
    assert integration.platform_username == "shop"
    assert integration.display_name == "My X"
    assert integration.webhook_url == f"{PUBLIC_URL}/webhooks/x/{X_WEBHOOK_ID}"
    assert user_id in x.subscribed(platforms.x_api_webhook_id)
    listed = await stub.ListIntegrations(
        social_service_pb2.ListIntegrationsRequest(), metadata=owner
    )
    assert [i.id for i in listed.integrations] == [integration.id]
    [row] = await rows(
        engine,
        "SELECT credentials_encrypted, credentials_expire_at FROM integrations WHERE id = :i",
        i=integration.id,
    )
    for token in x.access_tokens(user_id):
        assert token.encode() not in row.credentials_encrypted
    assert row.credentials_expire_at > datetime.now(UTC) + timedelta(hours=1)
    # The state works once.
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await complete(stub, **answer)
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert reason(error.value) == "OAUTH_STATE_INVALID"


async def test_refusals_and_bad_codes(stub: Stub, x: XStandIn, new_owner: NewOwner) -> None:
    owner = await new_owner()
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await complete(stub, code="c", state="never-issued")
    assert reason(error.value) == "OAUTH_STATE_INVALID"
    state = parse_qs(urlsplit(await start(stub, owner)).query)["state"][0]
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await complete(stub, state=state, error="access_denied", error_description="no")
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert reason(error.value) == "OAUTH_DENIED"
    state = parse_qs(urlsplit(await start(stub, owner)).query)["state"][0]
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await complete(stub, state=state, code="not-a-code-x-issued")
    assert reason(error.value) == "OAUTH_CODE_REJECTED"
    user_id = x.add_user(username="u", name="U", user_id=str(next(_users)))
    answer = x.approve(await start(stub, owner), user_id, scopes=("tweet.read", "users.read"))
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await complete(stub, **answer)
    assert reason(error.value) == "PLATFORM_PERMISSION_MISSING"


async def test_the_plan_limit_applies_before_sending_the_browser(
    stub: Stub, x: XStandIn, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    await connect(stub, x, owner)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await start(stub, owner)
    assert reason(error.value) == "INTEGRATION_LIMIT_REACHED"


async def test_reauthorising_keeps_the_integration(
    stub: Stub, x: XStandIn, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    user_id, integration = await connect(stub, x, owner)
    answer = x.approve(await start(stub, owner, integration_id=integration.id), user_id)
    response = await complete(stub, **answer)
    assert not response.created
    assert response.integration.id == integration.id


async def test_crc_challenge_answers_the_hmac(stub: Stub, x: XStandIn) -> None:
    response = await stub.HandleWebhookChallenge(
        social_service_pb2.HandleWebhookChallengeRequest(
            platform="x", integration_id=X_WEBHOOK_ID, crc_token="challenge-1"
        )
    )
    assert response.body.content_type == "application/json"
    assert json.loads(response.body.data) == {"response_token": x.expected_crc("challenge-1")}
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.HandleWebhookChallenge(
            social_service_pb2.HandleWebhookChallengeRequest(
                platform="x", integration_id=str(uuid.uuid4()), crc_token="c"
            )
        )
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_signed_dm_reaches_the_accounts_integration_once(
    stub: Stub, x: XStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    user_id, integration = await connect(stub, x, await new_owner())
    body = json.dumps(dm(user_id, "3001969357", "1000001")).encode()
    answers = await asyncio.gather(*(deliver(stub, x, body) for _ in range(3)))
    assert set(answers) == {b""}
    assert await table_count(engine, "messages", integration.id) == 1
    event = social_events_pb2.MessageReceived.FromString(
        await outbox_payload(engine, deterministic_id(integration.id, "1000001"))
    )
    assert event.platform == integration_pb2.PLATFORM_X
    assert event.message.text == "Hello World!"
    assert event.contact.username == "furiouscamper"
    assert not event.stale


async def test_the_activity_api_envelope_is_received_too(
    stub: Stub, x: XStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    user_id, integration = await connect(stub, x, await new_owner())
    body = sample("x_xaa_dm_received.json")
    body["data"]["filter"]["user_id"] = user_id
    await deliver(stub, x, body)
    contact = await contact_of(engine, integration.id)
    assert contact.platform_user_id == "2222222222222222222"
    assert await table_count(engine, "messages", integration.id) == 1


async def test_the_owner_writing_from_another_app_pauses_the_agent(
    stub: Stub, x: XStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    user_id, integration = await connect(stub, x, await new_owner())
    await deliver(stub, x, dm(user_id, "3001969357", "1000020", text="question"))
    by_hand = dm(user_id, user_id, "1000021", text="answered by the owner")
    create = by_hand["direct_message_events"][0]["message_create"]
    create["target"]["recipient_id"] = "3001969357"
    create["source_app_id"] = "268278"  # the X app itself, not this service's
    await deliver(stub, x, by_hand)
    contact = await contact_of(engine, integration.id)
    assert contact.agent_paused
    found = await rows(
        engine,
        "SELECT author_kind, text FROM messages WHERE integration_id = :i ORDER BY created_at",
        i=integration.id,
    )
    assert [(m.author_kind, m.text) for m in found] == [
        ("contact", "question"),
        ("owner", "answered by the owner"),
    ]


async def test_echoes_typing_and_strangers_are_acknowledged_and_dropped(
    stub: Stub, x: XStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    user_id, integration = await connect(stub, x, await new_owner())
    await deliver(stub, x, dm(user_id, user_id, "1000002"))  # our own DM, echoed back
    typing = sample("x_aaa_dm_indicate_typing.json") | {"for_user_id": user_id}
    await deliver(stub, x, typing)
    await deliver(stub, x, dm("999", "3001969357", "1000003"))  # an account not connected
    assert await table_count(engine, "messages", integration.id) == 0
    assert await table_count(engine, "webhook_updates", integration.id) == 2
    assert (
        await count(engine, "SELECT count(*) FROM messages WHERE platform_message_id = '1000003'")
        == 0
    )


async def test_a_revocation_disconnects_the_integration(
    stub: Stub, x: XStandIn, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    user_id, integration = await connect(stub, x, owner)
    revoke = {"user_event": {"revoke": {"target": {"app_id": "1"}, "source": {"user_id": user_id}}}}
    await deliver(stub, x, revoke)
    got = await stub.GetIntegration(
        social_service_pb2.GetIntegrationRequest(integration_id=integration.id), metadata=owner
    )
    assert got.integration.status == integration_pb2.INTEGRATION_STATUS_DISCONNECTED
    assert "withdrew" in got.integration.last_error
    await deliver(stub, x, dm(user_id, "3001969357", "1000009"))  # acknowledged, not stored
    assert await table_count(engine, "messages", integration.id) == 0


@pytest.mark.parametrize(
    "kw",
    [{"signature": "sha256=AAAA"}, {"signature": ""}, {"path_id": str(uuid.uuid4())}],
    ids=["forged", "missing", "unknown-webhook"],
)
async def test_forged_or_misaddressed_calls_store_nothing(
    stub: Stub, x: XStandIn, engine: AsyncEngine, new_owner: NewOwner, kw: dict[str, str]
) -> None:
    user_id, integration = await connect(stub, x, await new_owner())
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await deliver(stub, x, dm(user_id, "3001969357", "1000004"), **kw)
    expected = grpc.StatusCode.NOT_FOUND if "path_id" in kw else grpc.StatusCode.UNAUTHENTICATED
    assert error.value.code() == expected
    assert await table_count(engine, "webhook_updates", integration.id) == 0


async def _conversation(
    stub: Stub, x: XStandIn, engine: AsyncEngine, owner: Metadata, partner: str
) -> tuple[str, str, str]:
    user_id, integration = await connect(stub, x, owner)
    await deliver(stub, x, dm(user_id, partner, str(next(_users))))
    return user_id, integration.id, str((await contact_of(engine, integration.id)).id)


async def _send(
    bus: EventBus, engine: AsyncEngine, owner: Metadata, integration_id: str, contact_id: str
) -> str:
    reply_id = str(uuid.uuid4())
    await bus.publish(reply_command(owner_id(owner), integration_id, contact_id, "Hi!", reply_id))
    return reply_id


async def test_a_reply_waits_out_429_until_the_reset_and_is_sent_once(
    stub: Stub, x: XStandIn, engine: AsyncEngine, bus: EventBus, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    partner = str(next(_users))
    _, integration_id, contact_id = await _conversation(stub, x, engine, owner, partner)
    x.fail_next_send(status=429, reset_in=1)
    reply_id = await _send(bus, engine, owner, integration_id, contact_id)

    async def sent() -> bool:
        return await reply_status(engine, reply_id) == ["sent"]

    await eventually(sent)
    assert [d.text for d in x.sent(partner)] == ["Hi!"]


async def test_a_partner_who_blocked_the_account_fails_the_reply(
    stub: Stub, x: XStandIn, engine: AsyncEngine, bus: EventBus, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    partner = str(next(_users))
    user_id, integration_id, contact_id = await _conversation(stub, x, engine, owner, partner)
    x.block(user_id, partner)
    reply_id = await _send(bus, engine, owner, integration_id, contact_id)

    async def failed() -> bool:
        return await reply_status(engine, reply_id) == ["failed"]

    await eventually(failed)
    assert (await contact_of(engine, integration_id)).reachable is False


async def test_a_revoked_access_token_is_refreshed_and_the_reply_sent_once(
    stub: Stub, x: XStandIn, engine: AsyncEngine, bus: EventBus, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    partner = str(next(_users))
    user_id, integration_id, contact_id = await _conversation(stub, x, engine, owner, partner)
    for token in x.access_tokens(user_id):
        x.revoke_access(token)
    reply_id = await _send(bus, engine, owner, integration_id, contact_id)

    async def sent() -> bool:
        return await reply_status(engine, reply_id) == ["sent"]

    await eventually(sent)
    assert [d.text for d in x.sent(partner)] == ["Hi!"]
    assert len(x.access_tokens(user_id)) == 1  # a fresh one, from the rotated refresh token


async def test_a_token_about_to_expire_is_refreshed_before_use(
    stub: Stub, x: XStandIn, engine: AsyncEngine, bus: EventBus, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    partner = str(next(_users))
    _user_id, integration_id, contact_id = await _conversation(stub, x, engine, owner, partner)
    refreshes = len([c for c in x.token_calls() if c["grant_type"] == "refresh_token"])
    await _expire_soon(engine, integration_id)
    reply_id = await _send(bus, engine, owner, integration_id, contact_id)

    async def sent() -> bool:
        return await reply_status(engine, reply_id) == ["sent"]

    await eventually(sent)
    # Refreshed before the send, not after a refusal: X never answered 401 here.
    after = len([c for c in x.token_calls() if c["grant_type"] == "refresh_token"])
    assert after == refreshes + 1
    [row] = await rows(
        engine, "SELECT credentials_expire_at FROM integrations WHERE id = :i", i=integration_id
    )
    assert row.credentials_expire_at > datetime.now(UTC) + timedelta(hours=1)


async def _expire_soon(engine: AsyncEngine, integration_id: str) -> None:
    """Re-seal the stored credentials with an expiry two minutes away, as time would."""
    cipher = TokenCipher.from_spec(ENCRYPTION_KEYS)
    [row] = await rows(
        engine, "SELECT credentials_encrypted FROM integrations WHERE id = :i", i=integration_id
    )
    current = open_sealed_credentials(
        cipher, integration_id=integration_id, sealed=bytes(row.credentials_encrypted)
    )
    soon = datetime.now(UTC) + timedelta(minutes=2)
    renewed = Credentials(token=current.token, refresh_token=current.refresh_token, expires_at=soon)
    async with engine.begin() as connection:
        await connection.execute(
            sa.text(
                "UPDATE integrations SET credentials_encrypted = :c, credentials_expire_at = :e"
                " WHERE id = :i"
            ),
            {
                "c": seal_credentials(cipher, integration_id=integration_id, credentials=renewed),
                "e": soon,
                "i": integration_id,
            },
        )


async def test_contact_sync_reads_dm_events(stub: Stub, x: XStandIn, new_owner: NewOwner) -> None:
    owner = await new_owner()
    user_id, integration = await connect(stub, x, owner)
    friend = x.add_user(username="friend", name="Friend", user_id=str(next(_users)))
    event = sample("x_v2_dm_event_message_create.json")
    event["sender_id"] = friend
    event["dm_conversation_id"] = "-".join(sorted((user_id, friend), key=int))
    x.add_dm_event(user_id, event)
    x.add_dm_event(user_id, sample("x_v2_dm_event_participants_join.json"))
    await stub.SyncContacts(
        social_service_pb2.SyncContactsRequest(integration_id=integration.id), metadata=owner
    )

    await eventually(lambda: sync_succeeded(stub, owner, integration.id))
    listed = await stub.ListContacts(
        social_service_pb2.ListContactsRequest(integration_id=integration.id), metadata=owner
    )
    assert [(c.platform_user_id, c.username) for c in listed.contacts] == [(friend, "friend")]
