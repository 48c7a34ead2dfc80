"""The VK client against the local VK API stand-in: success and each error family."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from services.social.platforms.types import (
    AccountProfile,
    BlockedError,
    InvalidCredentialsError,
    PermanentError,
    PermissionMissingError,
    Profile,
    RetryLaterError,
    TransientError,
)
from services.social.platforms.vk import VkAdapter, VkClient, random_id
from tests.standins.vk import VkStandIn

GROUP = 200982061


@pytest.fixture
def vk_api() -> Iterator[VkStandIn]:
    with VkStandIn() as standin:
        yield standin


@pytest.fixture
async def client(vk_api: VkStandIn) -> AsyncIterator[VkClient]:
    async with httpx.AsyncClient(timeout=5.0) as http:
        yield VkClient(http, api_base=vk_api.base_url)


async def test_the_token_names_its_community(client: VkClient, vk_api: VkStandIn) -> None:
    token = vk_api.add_community(group_id=GROUP, name="Shop", screen_name="shop")
    assert await client.own_community(token) == AccountProfile(str(GROUP), "shop", "Shop")
    await client.require_rights(token, ("messages", "manage"))


async def test_missing_rights_are_named(client: VkClient, vk_api: VkStandIn) -> None:
    token = vk_api.add_community(group_id=GROUP, rights=("photos",))
    with pytest.raises(PermissionMissingError) as error:
        await client.require_rights(token, ("messages", "manage"))
    assert error.value.missing == ("messages", "manage")


async def test_an_invalid_token_is_error_5(client: VkClient, vk_api: VkStandIn) -> None:
    token = vk_api.add_community(group_id=GROUP)
    vk_api.revoke(token)
    with pytest.raises(InvalidCredentialsError, match=r"error 5"):
        await client.own_community(token)


async def test_callback_server_registration(client: VkClient, vk_api: VkStandIn) -> None:
    token = vk_api.add_community(group_id=GROUP, confirmation_code="abc123")
    server_id = await client.add_callback_server(
        token, group_id=str(GROUP), url="https://edge/webhooks/vk/1", secret_key="k"
    )
    await client.set_callback_settings(token, group_id=str(GROUP), server_id=server_id)
    server = vk_api.callback_server(token)
    assert server is not None
    assert (server.url, server.secret_key) == ("https://edge/webhooks/vk/1", "k")
    assert server.settings["message_new"] == "1"
    assert server.settings["message_deny"] == "1"
    assert await client.confirmation_code(token, group_id=str(GROUP)) == "abc123"
    await client.delete_callback_server(token, group_id=str(GROUP), server_id=server_id)
    assert vk_api.callback_server(token) is None


async def test_send_is_idempotent_on_random_id(client: VkClient, vk_api: VkStandIn) -> None:
    adapter = VkAdapter(client)
    token = vk_api.add_community(group_id=GROUP)
    first = await adapter.send_text(token, recipient_id="418618", text="hi", idempotency_key="m1")
    again = await adapter.send_text(token, recipient_id="418618", text="hi", idempotency_key="m1")
    other = await adapter.send_text(token, recipient_id="418618", text="hi", idempotency_key="m2")
    assert first.platform_message_id == again.platform_message_id != other.platform_message_id
    sent = vk_api.sent_messages(418618)
    assert [s.random_id for s in sent] == [random_id("m1"), random_id("m2")]
    assert vk_api.calls("messages.send")[0]["v"] == "5.199"


@pytest.mark.parametrize(("code", "wait"), [(6, 1.0), (9, 10.0)])
async def test_rate_errors_ask_to_retry_later(
    client: VkClient, vk_api: VkStandIn, code: int, wait: float
) -> None:
    token = vk_api.add_community(group_id=GROUP)
    vk_api.fail_next("messages.send", error_code=code)
    with pytest.raises(RetryLaterError) as error:
        await client.send_message(token, peer_id="1", text="hi", random_id=1)
    assert error.value.retry_after == wait


async def test_internal_error_is_transient(client: VkClient, vk_api: VkStandIn) -> None:
    token = vk_api.add_community(group_id=GROUP)
    vk_api.fail_next("messages.send", error_code=10)
    with pytest.raises(TransientError, match="Internal server error"):
        await client.send_message(token, peer_id="1", text="hi", random_id=1)


@pytest.mark.parametrize("code", [900, 901, 902])
async def test_a_user_who_cannot_be_written_to_is_blocked(
    client: VkClient, vk_api: VkStandIn, code: int
) -> None:
    token = vk_api.add_community(group_id=GROUP)
    vk_api.fail_next("messages.send", error_code=code)
    with pytest.raises(BlockedError, match=f"error {code}"):
        await client.send_message(token, peer_id="1", text="hi", random_id=1)


async def test_other_errors_are_permanent(client: VkClient, vk_api: VkStandIn) -> None:
    token = vk_api.add_community(group_id=GROUP)
    with pytest.raises(PermanentError, match="error 914"):
        await client.send_message(token, peer_id="1", text="x" * 5000, random_id=1)


async def test_conversations_list_the_users(client: VkClient, vk_api: VkStandIn) -> None:
    token = vk_api.add_community(group_id=GROUP)
    for user in range(1, 206):
        vk_api.add_conversation(token, peer_id=user, first_name=f"U{user}", screen_name=f"u{user}")
    vk_api.add_conversation(token, peer_id=2_000_000_001)  # a group chat: not a contact
    found = [
        p async for p in VkAdapter(client).contacts(token, account_id=str(GROUP), known_user_ids=[])
    ]
    assert len(found) == 205  # two pages of 200
    assert found[0] == Profile(
        platform_user_id="1",
        display_name="U1",
        username="u1",
        avatar_url="https://sun9-1.userapi.com/1.jpg",
    )
