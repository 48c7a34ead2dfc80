"""Registers the AgentService handlers. Like the generated `add_AgentServiceServicer_to_server`,
except that the streams named in `preserialized` yield wire bytes: an event serialized once is
sent as-is to every subscriber."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import grpc
from inbetwin.agent.v1 import agent_service_pb2

SERVICE = agent_service_pb2.DESCRIPTOR.services_by_name["AgentService"]


def _as_is(payload: bytes) -> bytes:
    return payload


def register(servicer: Any, server: grpc.aio.Server, *, preserialized: Collection[str]) -> None:
    handlers: dict[str, grpc.RpcMethodHandler] = {}
    for method in SERVICE.methods:
        request_type = getattr(agent_service_pb2, method.input_type.name)
        response_type = getattr(agent_service_pb2, method.output_type.name)
        serializer = _as_is if method.name in preserialized else response_type.SerializeToString
        behaviour = getattr(servicer, method.name)
        if method.server_streaming:
            handlers[method.name] = grpc.unary_stream_rpc_method_handler(
                behaviour,
                request_deserializer=request_type.FromString,
                response_serializer=serializer,
            )
        else:
            handlers[method.name] = grpc.unary_unary_rpc_method_handler(
                behaviour,
                request_deserializer=request_type.FromString,
                response_serializer=serializer,
            )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(SERVICE.full_name, handlers),)
    )
    server.add_registered_method_handlers(SERVICE.full_name, handlers)  # type: ignore[attr-defined]
