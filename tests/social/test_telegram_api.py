"""The Telegram adapter against the local Bot API stand-in: success and each error family."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from services.social.platforms.telegram import TelegramClient
from services.social.platforms.types import (
    AccountProfile,
    BlockedError,
    InvalidCredentialsError,
    PermanentError,
    RetryLaterError,
    TransientError,
)
from tests.standins.telegram import BLOCKED, TelegramStandIn

CHAT = "1111111"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


@pytest.fixture
def client(http: httpx.AsyncClient, telegram_api: TelegramStandIn) -> TelegramClient:
    return TelegramClient(http, api_base=telegram_api.base_url)


async def test_get_me_describes_the_bot(
    client: TelegramClient, telegram_api: TelegramStandIn
) -> None:
    token = telegram_api.add_bot(username="shop_bot", first_name="Shop")
    assert await client.get_me(token) == AccountProfile(
        platform_account_id=token.split(":")[0], username="shop_bot", display_name="Shop"
    )


async def test_bad_token_is_invalid_credentials(
    client: TelegramClient, telegram_api: TelegramStandIn
) -> None:
    token = telegram_api.add_bot()
    telegram_api.revoke(token)
    with pytest.raises(InvalidCredentialsError) as error:
        await client.get_me(token)
    assert error.value.status == 401
    assert error.value.description == "Unauthorized"
    assert token not in str(error.value)


async def test_set_webhook_registers_url_secret_and_update_types(
    client: TelegramClient, telegram_api: TelegramStandIn
) -> None:
    token = telegram_api.add_bot()
    await client.set_webhook(
        token, url="https://edge.example/webhooks/telegram/x", secret_token="abc_-9"
    )
    hook = telegram_api.webhook(token)
    assert hook is not None
    assert hook.url == "https://edge.example/webhooks/telegram/x"
    assert hook.secret_token == "abc_-9"
    assert hook.allowed_updates == ["message", "edited_message", "my_chat_member"]


@pytest.mark.parametrize("secret", ["", "has space", "x" * 257, "ünicode"])
async def test_set_webhook_refuses_secrets_telegram_would_reject(
    client: TelegramClient, telegram_api: TelegramStandIn, secret: str
) -> None:
    token = telegram_api.add_bot()
    with pytest.raises(ValueError, match="secret_token"):
        await client.set_webhook(token, url="https://edge.example/h", secret_token=secret)
    assert telegram_api.calls("setWebhook") == []


async def test_send_message_returns_the_platform_message_id(
    client: TelegramClient, telegram_api: TelegramStandIn
) -> None:
    token = telegram_api.add_bot()
    sent = await client.send_message(token, chat_id=CHAT, text="Hello!")
    [delivered] = telegram_api.sent_messages(CHAT)
    assert delivered.text == "Hello!"
    assert delivered.chat_id == int(CHAT)
    assert sent.platform_message_id == str(delivered.message_id)


async def test_429_carries_retry_after(
    client: TelegramClient, telegram_api: TelegramStandIn
) -> None:
    token = telegram_api.add_bot()
    telegram_api.fail_next("sendMessage", error_code=429, retry_after=7)
    with pytest.raises(RetryLaterError) as error:
        await client.send_message(token, chat_id=CHAT, text="one")
    assert error.value.retry_after == 7
    assert error.value.description == "Too Many Requests: retry after 7"
    await client.send_message(token, chat_id=CHAT, text="two")
    assert [m.text for m in telegram_api.sent_messages(CHAT)] == ["two"]


async def test_403_means_blocked(client: TelegramClient, telegram_api: TelegramStandIn) -> None:
    token = telegram_api.add_bot()
    telegram_api.block_chat(token, CHAT)
    with pytest.raises(BlockedError) as error:
        await client.send_message(token, chat_id=CHAT, text="hi")
    assert error.value.description == BLOCKED
    assert telegram_api.sent_messages() == []


async def test_other_4xx_is_permanent(
    client: TelegramClient, telegram_api: TelegramStandIn
) -> None:
    token = telegram_api.add_bot()
    with pytest.raises(PermanentError, match="message text is empty"):
        await client.send_message(token, chat_id=CHAT, text=" ")
    with pytest.raises(PermanentError, match="chat not found"):
        await client.send_message(token, chat_id="@nobody", text="hi")


async def test_revoked_token_on_send_is_invalid_credentials(
    client: TelegramClient, telegram_api: TelegramStandIn
) -> None:
    token = telegram_api.add_bot()
    telegram_api.revoke(token)
    with pytest.raises(InvalidCredentialsError):
        await client.send_message(token, chat_id=CHAT, text="hi")


async def test_5xx_is_transient(client: TelegramClient, telegram_api: TelegramStandIn) -> None:
    token = telegram_api.add_bot()
    telegram_api.fail_next("sendMessage", error_code=502, description="Bad Gateway")
    with pytest.raises(TransientError, match="Bad Gateway"):
        await client.send_message(token, chat_id=CHAT, text="hi")


async def test_unreachable_api_is_transient_and_does_not_leak_the_token(
    http: httpx.AsyncClient,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = TelegramClient(http, api_base=f"http://127.0.0.1:{port}")
    token = "7000000001:AAH-secret-part"
    with pytest.raises(TransientError) as error:
        await client.send_message(token, chat_id=CHAT, text="hi")
    assert "secret-part" not in str(error.value)
    assert error.value.__cause__ is None
    assert error.value.__suppress_context__


async def test_the_stand_in_accepts_form_bodies(
    telegram_api: TelegramStandIn, http: httpx.AsyncClient
) -> None:
    token = telegram_api.add_bot()
    response = await http.post(
        f"{telegram_api.base_url}/bot{token}/sendMessage", data={"chat_id": CHAT, "text": "form"}
    )
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert response.json()["result"]["text"] == "form"
    missing = await http.post(f"{telegram_api.base_url}/bot{token}/noSuchMethod", json={})
    assert missing.status_code == 404
    assert missing.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
