"""ReconnectIntegration: credentials checked again, the webhook registered again with a fresh
secret (the old one stops working), per platform, and only for the integration's owner."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import pytest
from inbetwin.events.v1 import social_events_pb2
from inbetwin.social.v1 import integration_pb2, social_service_pb2
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.social.samples import telegram_update
from tests.social.support import (
    Metadata,
    NewOwner,
    Platforms,
    Stub,
    count,
    reason,
    rows,
)
from tests.social.test_max_service import connect as connect_max
from tests.social.test_max_service import deliver as deliver_max
from tests.social.test_max_service import dialog_message
from tests.social.test_telegram_service import connect as connect_telegram
from tests.social.test_telegram_service import deliver as deliver_telegram
from tests.social.test_telegram_service import secret_of as telegram_secret
from tests.social.test_vk_service import active as active_vk
from tests.social.test_vk_service import call as call_vk
from tests.social.test_vk_service import connect as connect_vk
from tests.social.test_vk_service import secret_of as vk_secret
from tests.social.test_vk_service import text_message
from tests.social.test_x_service import connect as connect_x
from tests.social.test_x_service import deliver as deliver_x
from tests.social.test_x_service import dm

Status = integration_pb2.IntegrationStatus


async def reconnect(
    stub: Stub, owner: Metadata, integration_id: str, **credentials: Any
) -> integration_pb2.Integration:
    response: social_service_pb2.ReconnectIntegrationResponse = await stub.ReconnectIntegration(
        social_service_pb2.ReconnectIntegrationRequest(
            integration_id=integration_id, **credentials
        ),
        metadata=owner,
    )
    return response.integration


async def refused(
    stub: Stub, owner: Metadata, integration_id: str, **credentials: Any
) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await reconnect(stub, owner, integration_id, **credentials)
    return error.value


def telegram_message(update_id: int) -> dict[str, Any]:
    update = telegram_update("telegram_text_private_real.json")
    update["update_id"] = update_id
    update["message"]["message_id"] = update_id
    return update


async def stored_updates(engine: AsyncEngine, integration_id: str) -> int:
    return await count(
        engine, "SELECT count(*) FROM webhook_updates WHERE integration_id = :i", i=integration_id
    )


async def connected_events(engine: AsyncEngine, integration_id: str) -> int:
    found = await rows(
        engine,
        "SELECT payload FROM outbox WHERE event_type = 'inbetwin.events.v1.IntegrationConnected'",
    )
    events = [social_events_pb2.IntegrationConnected.FromString(row.payload) for row in found]
    return sum(event.integration.id == integration_id for event in events)


# ---- Telegram --------------------------------------------------------------------------------


async def test_telegram_gets_a_new_secret_and_the_old_one_stops_working(
    stub: Stub, platforms: Platforms, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    token, integration = await connect_telegram(stub, platforms.telegram, owner)
    old_secret = telegram_secret(platforms.telegram, token)
    # The webhook path now remembers the integration with its secret.
    await deliver_telegram(stub, integration.id, telegram_message(1), secret=old_secret)

    repaired = await reconnect(stub, owner, integration.id)

    assert repaired.status == Status.INTEGRATION_STATUS_ACTIVE
    new_secret = telegram_secret(platforms.telegram, token)
    assert new_secret != old_secret
    hook = platforms.telegram.webhook(token)
    assert hook is not None
    assert hook.url == integration.webhook_url
    # Forgotten at once, not after the cache's few seconds.
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await deliver_telegram(stub, integration.id, telegram_message(2), secret=old_secret)
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    await deliver_telegram(stub, integration.id, telegram_message(3), secret=new_secret)
    assert await stored_updates(engine, integration.id) == 2
    assert await connected_events(engine, integration.id) == 2  # the connect and the reconnect


async def test_a_revoked_telegram_token_is_replaced_by_the_bots_new_one(
    stub: Stub, platforms: Platforms, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    token, integration = await connect_telegram(stub, platforms.telegram, owner)
    new_token = platforms.telegram.reissue(token)

    error = await refused(stub, owner, integration.id)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(error) == "PLATFORM_REJECTED_CREDENTIALS"

    repaired = await reconnect(stub, owner, integration.id, telegram={"bot_token": new_token})
    assert repaired.status == Status.INTEGRATION_STATUS_ACTIVE
    [row] = await rows(
        engine, "SELECT credentials_encrypted FROM integrations WHERE id = :i", i=integration.id
    )
    assert new_token.encode() not in row.credentials_encrypted
    await deliver_telegram(
        stub,
        integration.id,
        telegram_message(3),
        secret=telegram_secret(platforms.telegram, new_token),
    )
    assert await stored_updates(engine, integration.id) == 1


async def test_credentials_of_another_bot_or_platform_are_refused_and_nothing_changes(
    stub: Stub, platforms: Platforms, new_owner: NewOwner
) -> None:
    owner = await new_owner(plan="business")
    token, integration = await connect_telegram(stub, platforms.telegram, owner)
    secret = telegram_secret(platforms.telegram, token)
    stranger = platforms.telegram.add_bot(username="other_bot")
    connected_token, _ = await connect_telegram(stub, platforms.telegram, owner)

    error = await refused(stub, owner, integration.id, telegram={"bot_token": stranger})
    assert (error.code(), reason(error)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "PLATFORM_REJECTED_CREDENTIALS",
    )
    error = await refused(stub, owner, integration.id, telegram={"bot_token": connected_token})
    assert (error.code(), reason(error)) == (
        grpc.StatusCode.ALREADY_EXISTS,
        "INTEGRATION_ALREADY_CONNECTED",
    )
    error = await refused(stub, owner, integration.id, max={"bot_token": "max-token"})
    assert (error.code(), reason(error)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "UNSUPPORTED_PLATFORM",
    )
    assert telegram_secret(platforms.telegram, token) == secret


async def test_another_owners_integration_is_not_found_and_left_alone(
    stub: Stub, platforms: Platforms, new_owner: NewOwner
) -> None:
    token, integration = await connect_telegram(stub, platforms.telegram, await new_owner())
    secret = telegram_secret(platforms.telegram, token)
    intruder = await new_owner()

    for target in (integration.id, str(uuid.uuid4())):
        error = await refused(stub, intruder, target)
        assert (error.code(), reason(error)) == (
            grpc.StatusCode.NOT_FOUND,
            "INTEGRATION_NOT_FOUND",
        )
    error = await refused(
        stub, intruder, integration.id, telegram={"bot_token": platforms.telegram.add_bot()}
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert telegram_secret(platforms.telegram, token) == secret


async def test_switching_to_polling_stops_the_webhook_at_once(
    stub: Stub, platforms: Platforms, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    token, integration = await connect_telegram(stub, platforms.telegram, owner)
    secret = telegram_secret(platforms.telegram, token)
    await deliver_telegram(stub, integration.id, telegram_message(1), secret=secret)
    await stub.UpdateIntegration(
        social_service_pb2.UpdateIntegrationRequest(
            integration_id=integration.id,
            integration={"delivery_mode": integration_pb2.DELIVERY_MODE_POLLING},
            update_mask={"paths": ["delivery_mode"]},
        ),
        metadata=owner,
    )
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await deliver_telegram(stub, integration.id, telegram_message(2), secret=secret)
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_polling_bot_stays_in_polling_mode(
    stub: Stub, platforms: Platforms, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    token, integration = await connect_telegram(
        stub, platforms.telegram, owner, delivery_mode=integration_pb2.DELIVERY_MODE_POLLING
    )
    repaired = await reconnect(stub, owner, integration.id)
    assert repaired.status == Status.INTEGRATION_STATUS_ACTIVE
    assert repaired.delivery_mode == integration_pb2.DELIVERY_MODE_POLLING
    assert platforms.telegram.webhook(token) is None


# ---- MAX -------------------------------------------------------------------------------------


async def test_max_subscribes_again_with_a_new_secret(
    stub: Stub, platforms: Platforms, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    owner = await new_owner()
    token, integration = await connect_max(stub, platforms.max, owner)
    old = platforms.max.subscription(token)
    assert old is not None
    new_token = platforms.max.reissue(token)

    repaired = await reconnect(stub, owner, integration.id, max={"bot_token": new_token})

    assert repaired.status == Status.INTEGRATION_STATUS_ACTIVE
    subscriptions = platforms.max.calls("POST /subscriptions")
    assert len(subscriptions) >= 2
    new = platforms.max.subscription(new_token)
    assert new is not None
    assert new.url == old.url
    assert new.secret != old.secret
    update = dialog_message("message_created", "mid.reconnect.1", "hello", 1_700_000_000_000)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await deliver_max(stub, platforms.max, new_token, integration.id, update, secret=old.secret)
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    await deliver_max(stub, platforms.max, new_token, integration.id, update)
    assert await stored_updates(engine, integration.id) == 1


# ---- VK --------------------------------------------------------------------------------------


async def test_vk_replaces_its_callback_server_and_confirms_again(
    stub: Stub, platforms: Platforms, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    vk = platforms.vk
    owner = await new_owner()
    token, integration, old_secret = await active_vk(stub, vk, owner)
    old_server = vk.callback_server(token)
    assert old_server is not None

    repaired = await reconnect(stub, owner, integration.id)

    assert repaired.status == Status.INTEGRATION_STATUS_CONNECTING
    server = vk.callback_server(token)
    assert server is not None
    assert server.server_id != old_server.server_id
    assert len(vk.calls("groups.deleteCallbackServer")) >= 1
    new_secret = vk_secret(vk, token)
    assert new_secret != old_secret
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call_vk(stub, integration, text_message(42, "hi", 1), secret=old_secret)
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    answer = await call_vk(stub, integration, {"type": "confirmation"}, secret=new_secret)
    assert answer.body.data == vk.confirmation_code(token).encode()
    got = await stub.GetIntegration(
        social_service_pb2.GetIntegrationRequest(integration_id=integration.id), metadata=owner
    )
    assert got.integration.status == Status.INTEGRATION_STATUS_ACTIVE
    assert (
        await call_vk(
            stub, integration, text_message(42, "hi", 2), secret=new_secret, event_id="e-r-1"
        )
    ).body.data == b"ok"
    assert await stored_updates(engine, integration.id) >= 1


async def test_vk_with_an_owner_registered_server_takes_the_new_settings(
    stub: Stub, platforms: Platforms, new_owner: NewOwner
) -> None:
    vk = platforms.vk
    owner = await new_owner()
    token, integration = await connect_vk(
        stub,
        vk,
        owner,
        callback_secret="OwnerSecret1",
        confirmation_code="first1",
        rights=("messages",),
    )
    repaired = await reconnect(
        stub,
        owner,
        integration.id,
        vk={
            "community_token": token,
            "group_id": int(integration.platform_account_id),
            "callback_secret": "OwnerSecret2",
            "confirmation_code": "abc123",
        },
    )
    assert repaired.status == Status.INTEGRATION_STATUS_CONNECTING
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call_vk(stub, integration, {"type": "confirmation"}, secret="OwnerSecret1")
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    answer = await call_vk(stub, integration, {"type": "confirmation"}, secret="OwnerSecret2")
    assert answer.body.data == b"abc123"
    other_community = await refused(
        stub,
        owner,
        integration.id,
        vk={"community_token": token, "group_id": int(integration.platform_account_id) + 1},
    )
    assert other_community.code() == grpc.StatusCode.FAILED_PRECONDITION


# ---- X ---------------------------------------------------------------------------------------


async def test_x_subscribes_the_account_again(
    stub: Stub, platforms: Platforms, engine: AsyncEngine, new_owner: NewOwner
) -> None:
    x = platforms.x
    owner = await new_owner()
    user_id, integration = await connect_x(stub, x, owner)
    x.unsubscribe(platforms.x_api_webhook_id, user_id)
    assert user_id not in x.subscribed(platforms.x_api_webhook_id)

    repaired = await reconnect(stub, owner, integration.id)

    assert repaired.status == Status.INTEGRATION_STATUS_ACTIVE
    assert user_id in x.subscribed(platforms.x_api_webhook_id)
    await deliver_x(stub, x, dm(user_id, "3001969357", "1000901"))
    assert await stored_updates(engine, integration.id) == 1
    for access_token in x.access_tokens(user_id):
        x.revoke_access(access_token)
    error = await refused(stub, owner, integration.id)
    # A revoked authorisation is repaired with StartIntegrationOAuth, as the contract says.
    assert (error.code(), reason(error)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "PLATFORM_REJECTED_CREDENTIALS",
    )


async def test_reconnect_needs_a_caller(stub: Stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ReconnectIntegration(
            social_service_pb2.ReconnectIntegrationRequest(integration_id=str(uuid.uuid4()))
        )
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
