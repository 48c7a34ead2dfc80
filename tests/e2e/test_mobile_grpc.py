"""A mobile app's session in native gRPC through the Envoy edge, with the real grpcurl binary and
reflection only (no .proto files on the client): sign in, connect a Telegram bot, set up an
agent, see a customer's conversation, answer by hand and hand it back, follow the live activity
stream (server streaming, replaying what happened while the app was closed), refresh the
session."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.edge.render import REFLECTION_HEADER
from services.stack import Stack
from tests.e2e.test_grpcurl import _error_code, _json, grpcurl_binary
from tests.e2e.users import eventually, new_chat_id, text_update
from tests.standins.telegram import TelegramStandIn

AGENT = "inbetwin.agent.v1.AgentService"
AUTH = "inbetwin.auth.v1.AuthService"
SOCIAL = "inbetwin.social.v1.SocialService"
DEADLINE_EXCEEDED = 4
UNAUTHENTICATED = 16


def grpcurl(
    stack: Stack,
    method: str,
    *,
    service: str,
    token: str = "",
    data: Any = None,
    max_time: float = 30,
) -> subprocess.CompletedProcess[str]:
    """grpcurl as an app developer types it: reflection through the edge, the token for the
    call only, JSON in and out; `max_time` is the client's deadline."""
    flags = ["-plaintext", "-max-time", str(max_time), "-format-error", "-use-reflection"]
    flags += ["-reflect-header", f"{REFLECTION_HEADER}: {service}"]
    if token:
        flags += ["-rpc-header", f"authorization: Bearer {token}"]
    if data is not None:
        flags += ["-d", json.dumps(data)]
    return subprocess.run(
        [str(grpcurl_binary()), *flags, stack.grpc_address, method],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _messages(stdout: str) -> list[dict[str, Any]]:
    """grpcurl prints each streamed message as its own JSON object."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    text = stdout.strip()
    while text:
        message, end = decoder.raw_decode(text)
        found.append(message)
        text = text[end:].strip()
    return found


def _watch_until(
    stack: Stack, token: str, contact_id: str, since: str, kinds: list[str]
) -> list[dict[str, Any]]:
    """Open the live stream as the app does on launch (replaying the last minute), until it has
    shown every one of `kinds`; each attempt ends at the client's deadline."""
    actions: list[dict[str, Any]] = []
    for _ in range(10):
        watched = grpcurl(
            stack,
            f"{AGENT}/WatchAgentActivity",
            service="agent",
            token=token,
            data={"contact_id": contact_id, "replay_since": since},
            max_time=3,
        )
        assert _error_code(watched) == DEADLINE_EXCEEDED  # the stream never ends by itself
        messages = _messages(watched.stdout)
        assert "heartbeat" in messages[0], messages
        actions = [m["action"] for m in messages if "action" in m]
        if set(kinds) <= {a["kind"] for a in actions}:
            return actions
    raise AssertionError(f"the stream never showed {kinds}: {actions}")


async def test_a_mobile_session_over_native_grpc(
    e2e_platform: Stack, e2e_telegram: TelegramStandIn
) -> None:
    platform = e2e_platform
    email = f"mobile-{uuid.uuid4().hex[:10]}@example.com"
    password = "correct horse battery"
    _json(
        grpcurl(
            platform,
            f"{AUTH}/Register",
            service="auth",
            data={"email": email, "password": password, "display_name": "Mo"},
        )
    )
    # The app signs in (a session of its own) and works with that token from here on.
    signed_in = _json(
        grpcurl(
            platform, f"{AUTH}/Login", service="auth", data={"email": email, "password": password}
        )
    )
    token = signed_in["tokens"]["access_token"]
    refresh = signed_in["tokens"]["refresh_token"]
    since = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    bot_token = e2e_telegram.add_bot()
    _json(
        grpcurl(
            platform,
            f"{SOCIAL}/ConnectIntegration",
            service="social",
            token=token,
            data={
                "request_id": str(uuid.uuid4()),
                "telegram": {"bot_token": bot_token},
                "default_contact_policy": "CONTACT_POLICY_ALLOW_ALL",
            },
        )
    )
    agent = _json(
        grpcurl(
            platform,
            f"{AGENT}/CreateAgent",
            service="agent",
            token=token,
            data={
                "request_id": str(uuid.uuid4()),
                "agent": {"display_name": "Pocket desk", "system_prompt": "Be brief."},
            },
        )
    )["agent"]
    enabled = _json(
        grpcurl(
            platform,
            f"{AGENT}/UpdateAgent",
            service="agent",
            token=token,
            # grpcurl's JSON reads a FieldMask as an object, not the canonical string.
            data={
                "agent": {"id": agent["id"], "enabled": True},
                "update_mask": {"paths": ["enabled"]},
            },
        )
    )["agent"]
    assert enabled["enabled"] is True

    # A customer writes to the bot (Telegram calls the webhook); the agent answers.
    chat_id = new_chat_id()
    await e2e_telegram.deliver_update(bot_token, text_update(chat_id, "Open on Sunday?"))

    async def answered() -> list[str] | None:
        return [m.text for m in e2e_telegram.sent_messages(chat_id)] or None

    assert await eventually(answered, what="the agent's answer") == [
        "Stand-in answer to: Open on Sunday?"
    ]

    # The app shows the conversation, and the owner answers by hand, then hands back.
    contacts = _json(
        grpcurl(platform, f"{SOCIAL}/ListContacts", service="social", token=token, data={})
    )["contacts"]
    assert [c["platform_user_id"] for c in contacts] == [str(chat_id)]
    contact_id = contacts[0]["id"]
    _json(
        grpcurl(
            platform,
            f"{SOCIAL}/SendMessage",
            service="social",
            token=token,
            data={"contact_id": contact_id, "request_id": str(uuid.uuid4()), "text": "Yes, 10-18!"},
        )
    )
    _watch_until(platform, token, contact_id, since, ["ACTION_KIND_HANDOFF_REQUESTED"])
    _json(
        grpcurl(
            platform,
            f"{SOCIAL}/ResumeAgent",
            service="social",
            token=token,
            data={"contact_id": contact_id},
        )
    )
    history = _json(
        grpcurl(
            platform,
            f"{SOCIAL}/ListMessages",
            service="social",
            token=token,
            data={"contact_id": contact_id, "order_by": "create_time asc"},
        )
    )["messages"]
    assert [m["text"] for m in history] == [
        "Open on Sunday?",
        "Stand-in answer to: Open on Sunday?",
        "Yes, 10-18!",
    ]

    # Reopened, the app's live stream replays every step of the conversation, then stays open.
    actions = _watch_until(
        platform,
        token,
        contact_id,
        since,
        ["ACTION_KIND_REPLY_SENT", "ACTION_KIND_HANDOFF_REQUESTED", "ACTION_KIND_HANDOFF_RESOLVED"],
    )
    kinds = [a["kind"] for a in actions]
    assert kinds.index("ACTION_KIND_REPLY_SENT") < kinds.index("ACTION_KIND_HANDOFF_REQUESTED")
    assert kinds.index("ACTION_KIND_HANDOFF_REQUESTED") < kinds.index(
        "ACTION_KIND_HANDOFF_RESOLVED"
    )

    # A new access token from the refresh token; the used one cannot be played again.
    refreshed = _json(
        grpcurl(platform, f"{AUTH}/RefreshToken", service="auth", data={"refresh_token": refresh})
    )["tokens"]
    me = _json(grpcurl(platform, f"{AUTH}/GetMe", service="auth", token=refreshed["access_token"]))
    assert me["user"]["email"] == email
    replayed = grpcurl(
        platform, f"{AUTH}/RefreshToken", service="auth", data={"refresh_token": refresh}
    )
    assert _error_code(replayed) == UNAUTHENTICATED
