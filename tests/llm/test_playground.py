"""The playground stream, usage and models, over real gRPC to the in-process llm service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
import pytest
from inbetwin.llm.v1 import chat_pb2, llm_service_pb2_grpc
from inbetwin.llm.v1 import llm_service_pb2 as pb

from services.kit.server import ServerHandle
from tests.llm.conftest import FLAKY_MODEL
from tests.llm.fakes import Peers, qa_hit
from tests.llm.test_reply_pipeline import tool
from tests.standins.openai_api import Fail, OpenAIStandIn, Reply, ToolCalls

Register = Callable[[], Awaitable[str]]


@pytest.fixture
async def stub(llm: ServerHandle) -> AsyncIterator[llm_service_pb2_grpc.LlmServiceStub]:
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{llm.port}")
    yield llm_service_pb2_grpc.LlmServiceStub(channel)
    await channel.close(None)


def user(text: str) -> chat_pb2.ChatMessage:
    return chat_pb2.ChatMessage(role=chat_pb2.CHAT_ROLE_USER, content=text)


async def chat(
    stub: llm_service_pb2_grpc.LlmServiceStub, owner: str, request: pb.ChatRequest
) -> list[pb.ChatResponse]:
    return [event async for event in stub.Chat(request, metadata=(("x-user-id", owner),))]


async def test_chat_streams_citations_tokens_tools_final_and_end(
    stub: llm_service_pb2_grpc.LlmServiceStub,
    peers: Peers,
    openai_api: OpenAIStandIn,
    register_owner: Register,
) -> None:
    owner = await register_owner()
    agent = peers.agent.add_agent(
        owner, display_name="P", system_prompt=f"Playground {owner}", tools=[tool("save_user_info")]
    )
    peers.rag.hits[owner] = [qa_hit("Price?", "1500 RUB", score=0.7)]
    openai_api.script(
        ToolCalls([("save_user_info", '{"name": "Ann"}')], text="Let me note that."),
        Reply("Noted, Ann. It is 1500 RUB [1]."),
        when=owner,
    )
    events = await chat(
        stub, owner, pb.ChatRequest(agent_id=agent.id, messages=[user("I'm Ann, price?")])
    )
    kinds = [e.WhichOneof("event") for e in events]
    assert kinds[0] == "citation"
    assert kinds[-2:] == ["final", "end"]
    assert kinds.index("tool_call") + 1 == kinds.index("tool_result")
    assert kinds.index("tool_result") < max(i for i, k in enumerate(kinds) if k == "delta")
    steps = {e.delta.step for e in events if e.HasField("delta")}
    assert steps == {1, 2}
    text = "".join(e.delta.text for e in events if e.HasField("delta") and e.delta.step == 2)
    final = events[-2].final
    assert text == final.text == "Noted, Ann. It is 1500 RUB [1]."
    assert final.finish_reason == chat_pb2.FINISH_REASON_STOP
    assert final.provider == chat_pb2.PROVIDER_OPENAI_COMPATIBLE
    assert (final.usage.model_calls, final.usage.tool_calls) == (2, 1)
    assert final.usage.input_tokens > 0
    assert final.safety.checker == "moderation"
    assert not final.safety.flagged
    result = next(e.tool_result for e in events if e.HasField("tool_result"))
    assert result.status == chat_pb2.TOOL_CALL_STATUS_SUCCEEDED
    assert result.simulated
    executed = [r for o, r in peers.agent.state.executed if o == owner]
    assert executed[0].dry_run
    assert events[-1].end.completed
    assert all(r.get("stream") for r in openai_api.chat_requests(containing=owner))

    usage = (await stub.GetUsage(pb.GetUsageRequest(), metadata=(("x-user-id", owner),))).usage
    assert usage.playground_replies == 1
    assert usage.playground_input_tokens == final.usage.input_tokens
    assert usage.messages_answered == 0
    assert usage.message_limit == 300
    assert usage.messages_remaining == 300


async def test_chat_falls_back_offline_when_the_endpoint_fails(
    stub: llm_service_pb2_grpc.LlmServiceStub,
    peers: Peers,
    openai_api: OpenAIStandIn,
    register_owner: Register,
) -> None:
    owner = await register_owner()
    agent = peers.agent.add_agent(owner, display_name="P", system_prompt=f"P {owner}")
    peers.rag.hits[owner] = [qa_hit("Where?", "Tverskaya 1", exact=True)]
    openai_api.script(Fail(500), Fail(500), when=owner)
    events = await chat(
        stub,
        owner,
        pb.ChatRequest(agent_id=agent.id, messages=[user("Where?")], model_override=FLAKY_MODEL),
    )
    final = events[-2].final
    assert (final.text, final.fallback, final.provider) == (
        "Tverskaya 1",
        True,
        chat_pb2.PROVIDER_OFFLINE,
    )
    assert events[-1].end.completed


async def test_chat_errors_before_the_stream(
    stub: llm_service_pb2_grpc.LlmServiceStub,
    peers: Peers,
    register_owner: Register,
) -> None:
    owner = await register_owner()
    agent = peers.agent.add_agent(owner, display_name="P", system_prompt="p")
    other_owner = await register_owner()
    with pytest.raises(grpc.aio.AioRpcError) as not_found:
        await chat(stub, other_owner, pb.ChatRequest(agent_id=agent.id, messages=[user("hi")]))
    assert not_found.value.code() == grpc.StatusCode.NOT_FOUND
    assistant_last = pb.ChatRequest(
        agent_id=agent.id,
        messages=[
            user("hi"),
            chat_pb2.ChatMessage(role=chat_pb2.CHAT_ROLE_ASSISTANT, content="yo"),
        ],
    )
    with pytest.raises(grpc.aio.AioRpcError) as last:
        await chat(stub, owner, assistant_last)
    assert last.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as model:
        await chat(
            stub,
            owner,
            pb.ChatRequest(agent_id=agent.id, messages=[user("hi")], model_override="nope"),
        )
    assert model.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    codes = []
    for _ in range(6):  # 5 chats a minute in these tests' settings
        try:
            await chat(stub, owner, pb.ChatRequest(agent_id=agent.id, messages=[user("hi")]))
            codes.append(grpc.StatusCode.OK)
        except grpc.aio.AioRpcError as error:
            codes.append(error.code())
    assert grpc.StatusCode.RESOURCE_EXHAUSTED in codes


async def test_usage_periods_and_models(
    stub: llm_service_pb2_grpc.LlmServiceStub, register_owner: Register
) -> None:
    owner = await register_owner()
    metadata = (("x-user-id", owner),)
    with pytest.raises(grpc.aio.AioRpcError) as future:
        await stub.GetUsage(pb.GetUsageRequest(period="2999-01"), metadata=metadata)
    assert future.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    empty = (await stub.GetUsage(pb.GetUsageRequest(), metadata=metadata)).usage
    assert (empty.messages_answered, empty.input_tokens) == (0, 0)
    assert empty.start_time.ToDatetime() < empty.end_time.ToDatetime()
    first = await stub.ListModels(pb.ListModelsRequest(page_size=2), metadata=metadata)
    assert [m.id for m in first.models] == ["stand-in-model", FLAKY_MODEL]
    assert first.models[0].is_default
    rest = await stub.ListModels(
        pb.ListModelsRequest(page_token=first.next_page_token), metadata=metadata
    )
    assert [m.id for m in rest.models] == ["offline"]
    assert rest.next_page_token == ""
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await stub.ListModels(pb.ListModelsRequest(page_token="garbage"), metadata=metadata)
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
