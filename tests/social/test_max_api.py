"""The MAX client against the local MAX Bot API stand-in: success and each error family."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from services.social.platforms.max import MaxAdapter, MaxClient
from services.social.platforms.types import (
    AccountProfile,
    BlockedError,
    InvalidCredentialsError,
    PermanentError,
    Profile,
    RetryLaterError,
    TransientError,
)
from tests.social.samples import sample, sample_bytes
from tests.standins.max import MaxStandIn


@pytest.fixture
def max_api() -> Iterator[MaxStandIn]:
    with MaxStandIn() as standin:
        yield standin


@pytest.fixture
async def client(max_api: MaxStandIn) -> AsyncIterator[MaxClient]:
    async with httpx.AsyncClient(timeout=5.0) as http:
        yield MaxClient(http, api_base=max_api.base_url)


async def test_me_describes_the_bot(client: MaxClient, max_api: MaxStandIn) -> None:
    token = max_api.add_bot(username="shop_bot", name="Shop")
    assert await client.get_me(token) == AccountProfile(
        str(max_api.bot_id(token)), "shop_bot", "Shop"
    )


async def test_an_invalid_token_answers_the_documented_error_body(
    client: MaxClient, max_api: MaxStandIn
) -> None:
    async with httpx.AsyncClient() as http:
        raw = await http.get(f"{max_api.base_url}/me", headers={"Authorization": "nope"})
    assert raw.status_code == 401
    assert raw.json() == json.loads(sample_bytes("max_error_invalid_token.json"))
    with pytest.raises(InvalidCredentialsError) as error:
        await client.get_me("nope")
    assert error.value.description == "Invalid access_token (verify.token)"


async def test_subscribe_registers_url_secret_and_update_types(
    client: MaxClient, max_api: MaxStandIn
) -> None:
    token = max_api.add_bot()
    await client.subscribe(token, url="https://edge/webhooks/max/1", secret="s3cret_value")
    hook = max_api.subscription(token)
    assert hook is not None
    assert (hook.url, hook.secret) == ("https://edge/webhooks/max/1", "s3cret_value")
    assert "message_created" in hook.update_types
    with pytest.raises(ValueError, match="secret"):
        await client.subscribe(token, url="https://edge/x", secret="bad secret")
    await client.unsubscribe(token, url="https://edge/webhooks/max/1")
    assert max_api.subscription(token) is None


async def test_send_to_a_user(client: MaxClient, max_api: MaxStandIn) -> None:
    token = max_api.add_bot()
    sent = await MaxAdapter(client).send_text(
        token, recipient_id="123456789", text="Hello!", idempotency_key="m1"
    )
    [message] = max_api.sent_messages(123456789)
    assert (message.text, message.mid) == ("Hello!", sent.platform_message_id)
    assert max_api.calls("POST /messages") == [{"user_id": "123456789"}]


async def test_429_honours_retry_after(client: MaxClient, max_api: MaxStandIn) -> None:
    token = max_api.add_bot()
    max_api.fail_next("POST /messages", status=429, code="too.many.requests", retry_after=4)
    with pytest.raises(RetryLaterError) as error:
        await client.send_message(token, user_id="1", text="hi")
    assert error.value.retry_after == 4
    max_api.fail_next("POST /messages", status=429, code="too.many.requests")
    with pytest.raises(RetryLaterError) as error:
        await client.send_message(token, user_id="1", text="hi")
    assert error.value.retry_after == 1.0  # no Retry-After: a short default


async def test_a_user_who_stopped_the_bot_is_blocked(
    client: MaxClient, max_api: MaxStandIn
) -> None:
    token = max_api.add_bot()
    max_api.stop_bot(token, user_id=123456789)
    with pytest.raises(BlockedError, match=r"chat\.denied"):
        await client.send_message(token, user_id="123456789", text="hi")


async def test_errors_by_family(client: MaxClient, max_api: MaxStandIn) -> None:
    token = max_api.add_bot()
    with pytest.raises(PermanentError, match=r"proto\.payload"):
        await client.send_message(token, user_id="1", text="x" * 4001)
    max_api.fail_next("POST /messages", status=400, code="attachment.not.ready")
    with pytest.raises(TransientError):
        await client.send_message(token, user_id="1", text="hi")
    max_api.fail_next("POST /messages", status=503, code="service.unavailable")
    with pytest.raises(TransientError):
        await client.send_message(token, user_id="1", text="hi")


async def test_chats_list_the_dialog_users(client: MaxClient, max_api: MaxStandIn) -> None:
    token = max_api.add_bot()
    dialog = sample("max_get_chat_dialog_response.json")
    for index in range(120):
        chat = json.loads(json.dumps(dialog))
        chat["chat_id"] = 182182182 + index
        chat["dialog_with_user"]["user_id"] = 123123123 + index
        max_api.add_dialog(token, chat)
    max_api.add_dialog(token, {"chat_id": -1, "type": "chat", "title": "group"})
    found = [p async for p in MaxAdapter(client).contacts(token, account_id="1", known_user_ids=[])]
    assert len(found) == 120  # two pages of 100; the group chat is skipped
    assert found[0] == Profile(platform_user_id="123123123", display_name="John Doe", username="")
