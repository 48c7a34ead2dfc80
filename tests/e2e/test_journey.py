"""The full user journey, through the Envoy edge's REST API only, as an owner and a contact live it.

register → connect a Telegram bot (the Bot API stand-in) → create an agent with a built-in tool
→ upload a document and a Q&A pair to a knowledge base, wait until it is ready → a contact
writes (Telegram's sample update through the webhook) → the agent (the model behind the
OpenAI-compatible stand-in) calls `save_user_info` and answers from the knowledge base → the
owner's live activity stream (server-sent events) shows the tool call and the reply → the owner
writes by hand (the agent steps back: a handoff opens, the contact's next message is not
answered), then hands back (the agent answers again) → the lead appears with a score and the
reasons for it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.stack import Stack
from tests.e2e.users import (
    ActivityStream,
    Owner,
    connect_telegram,
    eventually,
    new_chat_id,
    register,
    text_update,
    until,
)
from tests.standins.openai_api import OpenAIStandIn, Reply, ToolCalls
from tests.standins.telegram import TelegramStandIn

DOCUMENT = (
    "# Prices\n\n"
    "A men's haircut at Fringe Barbers costs 1500 RUB and takes 45 minutes.\n\n"
    "# Opening hours\n\n"
    "Fringe Barbers is open daily from 10:00 to 20:00, Sundays included.\n"
)
QUESTION = "Do you take walk-ins?"
ANSWER = "Walk-ins are welcome whenever a chair is free; booking guarantees your slot."
FIRST_WORDS = "Hi, I'm Ann, +7 915 000 11 22. How much is a haircut, and do you take walk-ins?"
ANSWERED = "A haircut is 1500 RUB (45 minutes), and walk-ins are welcome. Shall I book you, Ann?"


@pytest.fixture
def telegram(e2e_telegram: TelegramStandIn) -> TelegramStandIn:
    return e2e_telegram


@pytest.fixture
def model(e2e_model: OpenAIStandIn) -> OpenAIStandIn:
    return e2e_model


@pytest.fixture
async def rest(e2e_platform: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=e2e_platform.rest_url, timeout=60) as client:
        yield client


async def _knowledge_base_ready(owner: Owner) -> None:
    kb = (
        await owner.call(
            "POST", "/api/v1/rag/knowledge-bases", json={"display_name": "Fringe Barbers"}
        )
    )["knowledge_base"]["id"]
    uploaded = await owner.call(
        "POST",
        f"/api/v1/rag/knowledge-bases/{kb}/documents:upload",
        params={"file_name": "fringe.md"},
        content=DOCUMENT.encode(),
        headers={"Content-Type": "application/octet-stream"},
    )
    document_id = uploaded["document"]["id"]

    async def ready() -> dict[str, Any] | None:
        document: dict[str, Any] = (
            await owner.call("GET", f"/api/v1/rag/documents/{document_id}")
        )["document"]
        assert document["status"] != "DOCUMENT_STATUS_FAILED", document
        return document if document["status"] == "DOCUMENT_STATUS_READY" else None

    await eventually(ready, what="the document to be indexed", within=120)
    # After the document: rag embeds a pair's question inside the request, and its first
    # embedding loads the local model, which on a busy machine outlasts the edge's timeout.
    await owner.call(
        "POST",
        f"/api/v1/rag/knowledge-bases/{kb}/qa-pairs",
        json={"question": QUESTION, "answer": ANSWER},
    )


async def _contact_id(owner: Owner, chat_id: int) -> str:
    async def find() -> str | None:
        contacts = (await owner.call("GET", "/api/v1/social/contacts")).get("contacts", [])
        for contact in contacts:
            if contact.get("platform_user_id") == str(chat_id):
                return str(contact["id"])
        return None

    return await eventually(find, what=f"the contact of chat {chat_id}")


def _sent(telegram: TelegramStandIn, chat_id: int) -> list[str]:
    return [m.text for m in telegram.sent_messages(chat_id)]


async def _sent_count(telegram: TelegramStandIn, chat_id: int, count: int) -> list[str]:
    async def enough() -> list[str] | None:
        sent = _sent(telegram, chat_id)
        return sent if len(sent) >= count else None

    return await eventually(enough, what=f"{count} messages sent to chat {chat_id}")


async def test_the_whole_journey_over_rest(
    rest: httpx.AsyncClient, telegram: TelegramStandIn, model: OpenAIStandIn
) -> None:
    owner = await register(rest, "Journey")
    bot_token, integration_id = await connect_telegram(owner, telegram)
    agent = (
        await owner.call(
            "POST",
            "/api/v1/agent/agents",
            json={
                "request_id": str(uuid.uuid4()),
                "agent": {
                    "display_name": "Fringe front desk",
                    "enabled": True,
                    "system_prompt": f"You are the front desk of Fringe Barbers ({owner.user_id}).",
                    "builtin_tools": ["BUILTIN_TOOL_SAVE_USER_INFO"],
                },
            },
        )
    )["agent"]
    await _knowledge_base_ready(owner)

    stream = ActivityStream()
    await stream.start(owner)
    try:
        # -- a contact writes; the agent saves what it learnt and answers from the knowledge base
        model.script(
            ToolCalls([("save_user_info", '{"name": "Ann", "phone": "+79150001122"}')]),
            Reply(ANSWERED),
            when=FIRST_WORDS,
        )
        chat_id = new_chat_id()
        delivered = await telegram.deliver_update(bot_token, text_update(chat_id, FIRST_WORDS))
        assert delivered.status_code == 200, delivered.text
        assert await _sent_count(telegram, chat_id, 1) == [ANSWERED]

        asked = model.chat_requests(containing=FIRST_WORDS)
        system = asked[0]["messages"][0]["content"]
        assert "1500 RUB" in system, system  # the uploaded document's passage
        assert ANSWER in json.dumps(asked[0], ensure_ascii=False)  # the Q&A pair
        assert asked[0]["tools"][0]["function"]["name"] == "save_user_info"
        tool_results = [m for m in asked[-1]["messages"] if m["role"] == "tool"]
        assert [json.loads(m["content"]) for m in tool_results] == [
            {"saved": ["name", "phone"], "facts": {"name": "Ann", "phone": "+79150001122"}}
        ], tool_results  # the agent service ran the tool and the model saw its result

        contact_id = await _contact_id(owner, chat_id)
        contact = (await owner.call("GET", f"/api/v1/social/contacts/{contact_id}"))["contact"]
        assert contact["integration_id"] == integration_id

        # -- the owner's live stream shows every step of that reply
        await until(
            lambda: stream.actions(contact_id=contact_id, kind="ACTION_KIND_REPLY_SENT"),
            what="REPLY_SENT on the owner's stream",
        )
        calls = stream.actions(contact_id=contact_id, kind="ACTION_KIND_TOOL_CALL")
        # An action is streamed when logged and again when its status changes: one call here.
        assert {c["id"]: c.get("tool_name") for c in calls} == {calls[0]["id"]: "save_user_info"}, (
            calls
        )
        assert calls[-1]["status"] == "ACTION_STATUS_SUCCEEDED", calls
        assert all(a.get("agent_id") == agent["id"] for a in stream.actions(contact_id=contact_id))

        # -- the owner takes over: writes by hand; the agent steps back
        written = await owner.call(
            "POST",
            f"/api/v1/social/contacts/{contact_id}/messages",
            json={"request_id": str(uuid.uuid4()), "text": "Ann, this is Max, the owner. Hi!"},
        )
        assert written["message"]["direction"] == "MESSAGE_DIRECTION_OUTBOUND"
        assert await _sent_count(telegram, chat_id, 2) == [
            ANSWERED,
            "Ann, this is Max, the owner. Hi!",
        ]
        handoff = (
            await until(
                lambda: stream.actions(contact_id=contact_id, kind="ACTION_KIND_HANDOFF_REQUESTED"),
                what="HANDOFF_REQUESTED on the owner's stream",
            )
        )[0]
        while_away = "Great, see you at 6 then!"
        await telegram.deliver_update(bot_token, text_update(chat_id, while_away))
        skipped = await until(
            lambda: stream.actions(contact_id=contact_id, kind="ACTION_KIND_REPLY_SKIPPED"),
            what="the agent staying silent (REPLY_SKIPPED) while the owner has the chat",
        )
        assert skipped[0]["reason"] == "CONVERSATION_HANDED_OFF", skipped

        # -- the owner hands back; the agent answers again
        resumed = await owner.call(
            "POST", f"/api/v1/social/contacts/{contact_id}:resumeAgent", json={}
        )
        assert not resumed["contact"].get("agent_paused"), resumed
        await until(
            lambda: stream.actions(contact_id=contact_id, kind="ACTION_KIND_HANDOFF_RESOLVED"),
            what="HANDOFF_RESOLVED on the owner's stream",
        )
        handoffs = await owner.call("GET", "/api/v1/agent/handoffs")
        assert any(h["id"] == handoff["details"]["handoff_id"] for h in handoffs["handoffs"])
        back = "One more thing: is parking available?"
        await telegram.deliver_update(bot_token, text_update(chat_id, back))
        sent = await _sent_count(telegram, chat_id, 3)
        assert sent[2] == f"Stand-in answer to: {back}", sent
        assert while_away not in json.dumps(sent)  # never answered by the agent

        await until(
            lambda: len(stream.actions(contact_id=contact_id, kind="ACTION_KIND_REPLY_SENT")) >= 2,
            what="the second REPLY_SENT on the owner's stream",
        )
    finally:
        await stream.stop()

    # -- the lead, with a score and the reasons for it
    seen: list[Any] = []

    async def qualified_lead() -> dict[str, Any] | None:
        leads = (await owner.call("GET", "/api/v1/leads")).get("leads", [])
        listed = next((x for x in leads if x["contact_id"] == contact_id), None)
        if listed is None:
            seen[:] = leads
            return None
        # The list shows the score; the factors behind it come with the lead itself.
        lead: dict[str, Any] = (await owner.call("GET", f"/api/v1/leads/{listed['id']}"))["lead"]
        seen[:] = [lead]
        factors = {f["kind"]: f for f in lead.get("factors", [])}
        qualification = factors.get("SCORE_FACTOR_KIND_QUALIFICATION", {})
        return lead if qualification.get("contribution", 0) > 0 else None

    try:
        lead = await eventually(qualified_lead, what="a lead qualified by the saved facts")
    except AssertionError as error:
        raise AssertionError(f"{error}\nleads: {json.dumps(seen, indent=1)}") from None
    assert 0 < lead["score"] <= 100, lead
    assert lead["integration_id"] == integration_id
    assert lead["platform"]
    detailed = lead
    for factor in detailed["factors"]:
        assert factor["summary"], factor  # every factor says why
    evidence = [e for f in detailed["factors"] for e in f.get("evidence", [])]
    assert any(e.get("fact_key") for e in evidence), detailed  # the saved name or phone
    assert any(e.get("message_id") for e in evidence), detailed  # the contact's own words
