"""The request pipeline on a real in-process gRPC server: identity, validation, rich errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from inbetwin.auth.v1 import auth_service_pb2 as pb
from inbetwin.auth.v1 import auth_service_pb2_grpc

from services.kit.errors import not_found
from services.kit.identity import current_caller
from services.kit.interceptors import RequestPipeline

USER = "5f0c6f5e-1d2b-4c3a-9e8f-0a1b2c3d4e5f"


class FakeAuth(auth_service_pb2_grpc.AuthServiceServicer):
    async def GetMe(
        self, request: pb.GetMeRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetMeResponse:
        return pb.GetMeResponse(user=pb.User(id=current_caller().user_id))

    async def Register(
        self, request: pb.RegisterRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterResponse:
        return pb.RegisterResponse(user=pb.User(email=request.email))

    async def ListPlans(
        self, request: pb.ListPlansRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPlansResponse:
        raise not_found("USER_NOT_FOUND", "plan")

    async def GetSubscription(
        self, request: pb.GetSubscriptionRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSubscriptionResponse:
        raise RuntimeError("boom")


@pytest.fixture
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    server = grpc.aio.server(
        interceptors=[RequestPipeline("auth.inbetwin.app")], options=[("grpc.so_reuseport", 0)]
    )
    auth_service_pb2_grpc.add_AuthServiceServicer_to_server(FakeAuth(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel
    await server.stop(None)


@pytest.fixture
def stub(channel: grpc.aio.Channel) -> auth_service_pb2_grpc.AuthServiceStub:
    return auth_service_pb2_grpc.AuthServiceStub(channel)


async def test_authenticated_rpc_needs_a_caller(
    stub: auth_service_pb2_grpc.AuthServiceStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.GetMe(pb.GetMeRequest())
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    response = await stub.GetMe(pb.GetMeRequest(), metadata=(("x-user-id", USER),))
    assert response.user.id == USER


async def test_public_rpc_needs_no_caller_but_is_validated(
    stub: auth_service_pb2_grpc.AuthServiceStub,
) -> None:
    good = pb.RegisterRequest(email="a@example.com", password="12345678", display_name="A")
    assert (await stub.Register(good)).user.email == "a@example.com"
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.Register(pb.RegisterRequest(email="bad", password="1", display_name="A"))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(raised.value)  # type: ignore[arg-type]
    assert status is not None
    bad_request = error_details_pb2.BadRequest()
    assert any(detail.Unpack(bad_request) for detail in status.details)
    assert {v.field for v in bad_request.field_violations} == {"email", "password"}


async def test_domain_error_becomes_rich_status(
    stub: auth_service_pb2_grpc.AuthServiceStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.ListPlans(pb.ListPlansRequest())
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    status = rpc_status.from_call(raised.value)  # type: ignore[arg-type]
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert (info.reason, info.domain) == ("USER_NOT_FOUND", "auth.inbetwin.app")


async def test_unexpected_error_is_internal_without_details(
    stub: auth_service_pb2_grpc.AuthServiceStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.GetSubscription(pb.GetSubscriptionRequest(), metadata=(("x-user-id", USER),))
    assert raised.value.code() == grpc.StatusCode.INTERNAL
    assert "boom" not in (raised.value.details() or "")


async def test_unimplemented_rpc_stays_unimplemented(
    stub: auth_service_pb2_grpc.AuthServiceStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.StartOAuth(pb.StartOAuthRequest(provider="google"))
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_a_request_that_does_not_parse_is_invalid_argument(
    channel: grpc.aio.Channel,
) -> None:
    # Field 1 (email) as a length-delimited string holding bytes that are not UTF-8.
    not_utf8 = b"\x0a\x02\xff\xfe"
    register = channel.unary_unary(
        "/inbetwin.auth.v1.AuthService/Register",
        request_serializer=lambda raw: raw,
        response_deserializer=pb.RegisterResponse.FromString,
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await register(not_utf8)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
