"""Owner-defined HTTP webhook tools: CRUD with sealed secrets, schema and header checks, signed
calls through ExecuteTool against a real HTTP endpoint, the SSRF guard after DNS (a real DNS
server) and on redirects, timeouts and size caps, each failure in the action log, and owner
isolation.

The operator allow-list of the main server admits 127.0.0.1 only; `sneaky.test` resolves to
127.0.0.2 (loopback, not allowed) and `hooks.test` to 127.0.0.1. A second server without any
allow-list proves that loopback is refused by default."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2, struct_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from inbetwin.agent.v1 import action_pb2, agent_pb2, agent_service_pb2_grpc, tool_pb2
from inbetwin.agent.v1 import agent_service_pb2 as pb

from tests.agent.conftest import AgentStub, MakeAgentServer, Metadata, NewOwner, reason_of
from tests.agent.dns_standin import nameserver
from tests.standins.webhook_target import WebhookTarget

RECORDS = {"hooks.test": "127.0.0.1", "sneaky.test": "127.0.0.2"}


@pytest.fixture(scope="module")
def dns() -> Iterator[str]:
    with nameserver(RECORDS) as address:
        yield address


@pytest.fixture(scope="module")
def target() -> Iterator[WebhookTarget]:
    with WebhookTarget() as endpoint:
        yield endpoint


async def _stub_for(make: MakeAgentServer, **settings: Any) -> AsyncIterator[AgentStub]:
    server = await make(**settings)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield agent_service_pb2_grpc.AgentServiceStub(channel)


@pytest.fixture(scope="module")
async def hooks(make_agent_server: MakeAgentServer, dns: str) -> AsyncIterator[AgentStub]:
    async for stub in _stub_for(
        make_agent_server, allowed_private_networks="127.0.0.1/32", dns_nameservers=dns
    ):
        yield stub


@pytest.fixture(scope="module")
async def strict(make_agent_server: MakeAgentServer, dns: str) -> AsyncIterator[AgentStub]:
    async for stub in _stub_for(
        make_agent_server, allowed_private_networks="", dns_nameservers=dns
    ):
        yield stub


def _schema(**properties: Any) -> struct_pb2.Struct:
    schema = struct_pb2.Struct()
    schema.update({"type": "object", "properties": properties, "required": sorted(properties)})
    return schema


def _webhook(name: str, url: str, **config: Any) -> tool_pb2.Tool:
    return tool_pb2.Tool(
        name=name,
        description="Looks up an order",
        parameters=_schema(order_id={"type": "string"}),
        http_webhook=tool_pb2.HttpWebhookConfig(url=url, **config),
    )


async def _create(stub: AgentStub, owner: Metadata, tool: tool_pb2.Tool) -> pb.CreateToolResponse:
    response: pb.CreateToolResponse = await stub.CreateTool(
        pb.CreateToolRequest(tool=tool), metadata=owner
    )
    return response


async def _agent_with(stub: AgentStub, owner: Metadata, *tool_ids: str) -> agent_pb2.Agent:
    response = await stub.CreateAgent(
        pb.CreateAgentRequest(
            agent=agent_pb2.Agent(display_name="Hooks", system_prompt="p", tool_ids=tool_ids)
        ),
        metadata=owner,
    )
    agent: agent_pb2.Agent = response.agent
    return agent


async def _execute(
    stub: AgentStub, owner: Metadata, agent: agent_pb2.Agent, name: str, args: Any
) -> pb.ExecuteToolResponse:
    response: pb.ExecuteToolResponse = await stub.ExecuteTool(
        pb.ExecuteToolRequest(
            agent_id=agent.id,
            contact_id=str(uuid.uuid4()),
            tool_name=name,
            arguments_json=json.dumps(args),
            call_id=f"call-{uuid.uuid4()}",
        ),
        metadata=owner,
    )
    return response


async def _logged(stub: AgentStub, owner: Metadata, action_id: str) -> action_pb2.AgentAction:
    response = await stub.GetAgentAction(
        pb.GetAgentActionRequest(action_id=action_id), metadata=owner
    )
    action: action_pb2.AgentAction = response.action
    return action


def _name() -> str:
    return f"hook_{uuid.uuid4().hex[:10]}"


async def test_crud_keeps_secrets_sealed_and_takes_deleted_tools_from_agents(
    hooks: AgentStub, new_owner: NewOwner, target: WebhookTarget
) -> None:
    owner = await new_owner()
    request_id = str(uuid.uuid4())
    tool = _webhook(
        _name(),
        target.url("/echo", "hooks.test"),
        headers={"X-Shop": "one"},
        secret_headers={"Authorization": "Bearer sk-live"},
        timeout_ms=2000,
    )
    created = await hooks.CreateTool(
        pb.CreateToolRequest(tool=tool, request_id=request_id), metadata=owner
    )
    assert len(created.generated_signing_secret) == 64
    again = await hooks.CreateTool(
        pb.CreateToolRequest(tool=tool, request_id=request_id), metadata=owner
    )
    assert again.tool.id == created.tool.id
    assert again.generated_signing_secret == created.generated_signing_secret
    got = (await hooks.GetTool(pb.GetToolRequest(tool_id=created.tool.id), metadata=owner)).tool
    assert got.kind == tool_pb2.TOOL_KIND_HTTP_WEBHOOK
    assert list(got.http_webhook.secret_header_names) == ["Authorization"]
    assert not got.http_webhook.secret_headers
    assert not got.http_webhook.signing_secret
    assert dict(got.http_webhook.headers) == {"X-Shop": "one"}

    updated = await hooks.UpdateTool(
        pb.UpdateToolRequest(
            tool=tool_pb2.Tool(
                id=created.tool.id,
                description="Finds an order",
                http_webhook=tool_pb2.HttpWebhookConfig(method=tool_pb2.HTTP_METHOD_PUT),
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["description", "http_webhook.method"]),
        ),
        metadata=owner,
    )
    assert updated.tool.description == "Finds an order"
    assert updated.tool.http_webhook.method == tool_pb2.HTTP_METHOD_PUT
    assert updated.tool.http_webhook.url == tool.http_webhook.url
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await hooks.UpdateTool(
            pb.UpdateToolRequest(
                tool=tool_pb2.Tool(id=created.tool.id),
                update_mask=field_mask_pb2.FieldMask(paths=["kind"]),
            ),
            metadata=owner,
        )
    assert reason_of(caught.value) == "FIELD_NOT_UPDATABLE"

    listed = await hooks.ListTools(pb.ListToolsRequest(), metadata=owner)
    assert [t.id for t in listed.tools] == [created.tool.id]
    agent = await _agent_with(hooks, owner, created.tool.id)
    await hooks.DeleteTool(pb.DeleteToolRequest(tool_id=created.tool.id), metadata=owner)
    after = await hooks.GetAgent(pb.GetAgentRequest(agent_id=agent.id), metadata=owner)
    assert list(after.agent.tool_ids) == []
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await hooks.GetTool(pb.GetToolRequest(tool_id=created.tool.id), metadata=owner)
    assert reason_of(caught.value) == "TOOL_NOT_FOUND"


async def test_bad_definitions_are_refused(
    hooks: AgentStub, strict: AgentStub, new_owner: NewOwner, target: WebhookTarget
) -> None:
    owner = await new_owner()
    url = target.url("/echo", "hooks.test")
    bad_schema = _webhook(_name(), url)
    bad_schema.parameters.update({"type": "object", "properties": {"n": {"type": "nonsense"}}})
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _create(hooks, owner, bad_schema)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(caught.value) == "INVALID_TOOL_SCHEMA"
    status = rpc_status.from_call(caught.value)  # type: ignore[arg-type]
    assert status is not None
    violations = [
        v.field
        for detail in status.details
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR)
        for v in _unpack_bad_request(detail).field_violations
    ]
    assert violations == ["tool.parameters"]
    not_object = _webhook(_name(), url)
    not_object.parameters.Clear()
    not_object.parameters.update({"type": "string"})
    cases: list[tuple[tool_pb2.Tool, str]] = [
        (not_object, "INVALID_TOOL_SCHEMA"),
        (_webhook("save_user_info", url), "TOOL_NAME_RESERVED"),
        (_webhook(_name(), url, headers={"Host": "evil"}), "HEADER_NOT_ALLOWED"),
        (
            _webhook(_name(), url, secret_headers={"X-Inbetwin-Signature": "x"}),
            "HEADER_NOT_ALLOWED",
        ),
        (_webhook(_name(), "http://10.1.2.3/hook"), "TOOL_DESTINATION_FORBIDDEN"),
        (_webhook(_name(), "http://169.254.169.254/latest"), "TOOL_DESTINATION_FORBIDDEN"),
        (
            tool_pb2.Tool(name=_name(), description="d", mcp=tool_pb2.McpToolSource()),
            "TOOL_KIND_NOT_CREATABLE",
        ),
    ]
    for tool, reason in cases:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _create(hooks, owner, tool)
        assert reason_of(caught.value) == reason, tool.name
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _create(strict, owner, _webhook(_name(), target.url("/echo")))
    assert reason_of(caught.value) == "TOOL_DESTINATION_FORBIDDEN"
    name = _name()
    await _create(hooks, owner, _webhook(name, url))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _create(hooks, owner, _webhook(name, url))
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert reason_of(caught.value) == "TOOL_NAME_TAKEN"


def _unpack_bad_request(detail: Any) -> error_details_pb2.BadRequest:
    bad_request = error_details_pb2.BadRequest()
    detail.Unpack(bad_request)
    return bad_request


async def test_calls_are_signed_and_carry_headers_and_arguments(
    hooks: AgentStub, new_owner: NewOwner, target: WebhookTarget
) -> None:
    owner = await new_owner()
    name = _name()
    created = await _create(
        hooks,
        owner,
        _webhook(
            name,
            target.url("/redirect", "hooks.test"),
            headers={"X-Shop": "one"},
            secret_headers={"Authorization": "Bearer sk-live"},
        ),
    )
    get_name = _name()
    by_get = await _create(
        hooks,
        owner,
        _webhook(
            get_name,
            target.url("/echo", "hooks.test"),
            method=tool_pb2.HTTP_METHOD_GET,
            signing_secret="a-key-of-the-owners-own",
        ),
    )
    other_name = _name()
    see_other = await _create(
        hooks, owner, _webhook(other_name, target.url("/see-other", "hooks.test"))
    )
    agent = await _agent_with(hooks, owner, created.tool.id, by_get.tool.id, see_other.tool.id)
    toolset = await hooks.GetAgentToolset(
        pb.GetAgentToolsetRequest(agent_id=agent.id), metadata=owner
    )
    assert sorted(t.name for t in toolset.tools) == sorted([name, get_name, other_name])

    result = await _execute(hooks, owner, agent, name, {"order_id": "A-1"})
    assert result.status == action_pb2.ACTION_STATUS_SUCCEEDED, result.error_message
    assert json.loads(result.result_json) == {
        "ok": True,
        "method": "POST",
        "arguments": {"order_id": "A-1"},
    }
    received = target.received[-1]
    assert [r.path for r in target.received[-2:]] == ["/redirect", "/echo"]
    headers = received.headers
    assert headers["authorization"] == "Bearer sk-live"
    assert headers["x-shop"] == "one"
    assert headers["x-inbetwin-call-id"].startswith("call-")
    expected = hmac.new(
        created.generated_signing_secret.encode(),
        headers["x-inbetwin-timestamp"].encode() + b"." + received.body,
        hashlib.sha256,
    ).hexdigest()
    assert headers["x-inbetwin-signature"] == f"v1={expected}"
    logged = await _logged(hooks, owner, result.action_id)
    assert logged.status == action_pb2.ACTION_STATUS_SUCCEEDED
    assert logged.tool_kind == tool_pb2.TOOL_KIND_HTTP_WEBHOOK

    followed = await _execute(hooks, owner, agent, get_name, {"order_id": "B-2"})
    assert followed.status == action_pb2.ACTION_STATUS_SUCCEEDED, followed.error_message
    assert json.loads(followed.result_json)["arguments"] == {"order_id": "B-2"}
    final = target.received[-1]
    assert final.method == "GET"
    assert final.body == b""
    expected = hmac.new(
        b"a-key-of-the-owners-own",
        final.headers["x-inbetwin-timestamp"].encode() + b".",
        hashlib.sha256,
    ).hexdigest()
    assert final.headers["x-inbetwin-signature"] == f"v1={expected}"

    # A 303 turns the POST into a GET without a body: the signature follows what is sent.
    redirected = await _execute(hooks, owner, agent, other_name, {"order_id": "C-3"})
    assert redirected.status == action_pb2.ACTION_STATUS_SUCCEEDED, redirected.error_message
    final = target.received[-1]
    assert (final.method, final.path, final.body) == ("GET", "/echo", b"")
    expected = hmac.new(
        see_other.generated_signing_secret.encode(),
        final.headers["x-inbetwin-timestamp"].encode() + b".",
        hashlib.sha256,
    ).hexdigest()
    assert final.headers["x-inbetwin-signature"] == f"v1={expected}"

    wrong = await _execute(hooks, owner, agent, name, {"order": 1})
    assert wrong.status == action_pb2.ACTION_STATUS_REJECTED
    assert pb.ErrorReason.Name(wrong.error_reason) == "ERROR_REASON_INVALID_TOOL_ARGUMENTS"


async def test_failures_are_clear_results_in_the_action_log(
    hooks: AgentStub, strict: AgentStub, new_owner: NewOwner, target: WebhookTarget
) -> None:
    owner = await new_owner()
    cases = {
        "/fail": ("hooks.test", "TOOL_UPSTREAM_ERROR", 0),
        "/slow": ("hooks.test", "TOOL_TIMEOUT", 300),
        "/huge": ("hooks.test", "TOOL_RESPONSE_TOO_LARGE", 0),
        "/redirect-to/127.0.0.2": ("hooks.test", "TOOL_DESTINATION_FORBIDDEN", 0),
        "/echo": ("sneaky.test", "TOOL_DESTINATION_FORBIDDEN", 0),
        "/missing": ("nowhere.test", "TOOL_UPSTREAM_ERROR", 0),
    }
    names: dict[str, str] = {}
    ids = []
    for path, (host, _, timeout_ms) in cases.items():
        names[path] = _name()
        created = await _create(
            hooks, owner, _webhook(names[path], target.url(path, host), timeout_ms=timeout_ms)
        )
        ids.append(created.tool.id)
    echo = _name()
    created = await _create(hooks, owner, _webhook(echo, target.url("/echo", "hooks.test")))
    agent = await _agent_with(hooks, owner, *ids, created.tool.id)
    seen_before = len(target.received)
    for path, (_, reason, _) in cases.items():
        result = await _execute(hooks, owner, agent, names[path], {"order_id": "1"})
        assert result.status in (
            action_pb2.ACTION_STATUS_FAILED,
            action_pb2.ACTION_STATUS_REJECTED,
        ), path
        assert pb.ErrorReason.Name(result.error_reason) == f"ERROR_REASON_{reason}", path
        logged = await _logged(hooks, owner, result.action_id)
        assert logged.reason == reason, path
        assert logged.error_message, path
    internal_hits = [
        r for r in target.received[seen_before:] if r.headers["host"].startswith("127.0.0.2")
    ]
    assert internal_hits == []

    allowed = await _execute(hooks, owner, agent, echo, {"order_id": "1"})
    assert allowed.status == action_pb2.ACTION_STATUS_SUCCEEDED
    refused = await _execute(strict, owner, agent, echo, {"order_id": "1"})
    assert pb.ErrorReason.Name(refused.error_reason) == "ERROR_REASON_TOOL_DESTINATION_FORBIDDEN"


async def test_owners_cannot_see_or_use_each_others_tools(
    hooks: AgentStub, new_owner: NewOwner, target: WebhookTarget
) -> None:
    owner, stranger = await new_owner(), await new_owner()
    name = _name()
    created = await _create(hooks, owner, _webhook(name, target.url("/echo", "hooks.test")))
    tool_id = created.tool.id
    for call in (
        hooks.GetTool(pb.GetToolRequest(tool_id=tool_id), metadata=stranger),
        hooks.DeleteTool(pb.DeleteToolRequest(tool_id=tool_id), metadata=stranger),
        hooks.UpdateTool(
            pb.UpdateToolRequest(
                tool=tool_pb2.Tool(id=tool_id, description="mine now"),
                update_mask=field_mask_pb2.FieldMask(paths=["description"]),
            ),
            metadata=stranger,
        ),
        _agent_with(hooks, stranger, tool_id),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert reason_of(caught.value) == "TOOL_NOT_FOUND"
    assert not (await hooks.ListTools(pb.ListToolsRequest(), metadata=stranger)).tools
    theirs = await _agent_with(hooks, stranger)
    result = await _execute(hooks, stranger, theirs, name, {"order_id": "1"})
    assert pb.ErrorReason.Name(result.error_reason) == "ERROR_REASON_TOOL_UNKNOWN"
    same_name = await _create(hooks, stranger, _webhook(name, target.url("/echo", "hooks.test")))
    assert same_name.tool.id != tool_id
