"""The server's request pipeline: log, identify the caller, validate, map errors.

Each RPC's access level (public, authenticated, internal) and request type come from the
contracts' descriptors, so the rules live in one place: the .proto files.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import grpc
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import MethodDescriptor
from grpc_status import rpc_status
from inbetwin.common.v1 import options_pb2

from services.kit.errors import ServiceError, invalid_argument
from services.kit.identity import caller_from_metadata, reset_caller, set_caller
from services.kit.options import method_access
from services.kit.validation import validate_request

log = logging.getLogger("inbetwin.rpc")


@dataclass(frozen=True, slots=True)
class MethodPolicy:
    """What the pipeline needs to know about one RPC."""

    needs_caller: bool
    validate: bool


@cache
def _method_descriptor(full_method: str) -> MethodDescriptor | None:
    service_name, _, method_name = full_method.lstrip("/").partition("/")
    if not service_name.startswith("inbetwin."):
        return None  # health, reflection: infrastructure with no caller
    try:
        service = descriptor_pool.Default().FindServiceByName(service_name)
    except KeyError:
        return None
    return service.methods_by_name.get(method_name)


@cache
def method_policy(full_method: str) -> MethodPolicy:
    method = _method_descriptor(full_method)
    if method is None:
        return MethodPolicy(needs_caller=False, validate=False)
    access = method_access(method)
    return MethodPolicy(needs_caller=access != options_pb2.ACCESS_PUBLIC, validate=True)


class RequestPipeline(grpc.aio.ServerInterceptor):
    """Wraps every handler: access log, caller identity, contract validation, rich errors."""

    def __init__(self, error_domain: str) -> None:
        self._domain = error_domain

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        policy = method_policy(method)
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(method, policy, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(method, policy, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    def _enter(self, policy: MethodPolicy, request: Any, context: grpc.aio.ServicerContext) -> Any:
        caller = caller_from_metadata(_metadata(context))
        if policy.needs_caller and caller is None:
            raise ServiceError(
                grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED", "missing or invalid x-user-id"
            )
        if policy.validate:
            violations = validate_request(request)
            if violations:
                raise invalid_argument(violations)
        return set_caller(caller)

    @contextlib.asynccontextmanager
    async def _call(
        self, method: str, policy: MethodPolicy, request: Any, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[None]:
        """One RPC's scope: identity and validation on entry; errors mapped; one log line."""
        started = time.perf_counter()
        token = None
        code = grpc.StatusCode.OK
        try:
            token = self._enter(policy, request, context)
            yield
        except ServiceError as error:
            code = error.code
            await _abort(context, error, self._domain)
        except grpc.aio.AbortError:
            code = context.code() or grpc.StatusCode.UNKNOWN
            raise
        except NotImplementedError:
            # The generated base servicer's answer for an RPC not built yet.
            code = grpc.StatusCode.UNIMPLEMENTED
            await context.abort(code, f"{method} is not implemented yet")
        except Exception:
            code = grpc.StatusCode.INTERNAL
            log.exception("unhandled error", extra={"rpc": method})
            await context.abort(grpc.StatusCode.INTERNAL, "internal error")
        finally:
            if token is not None:
                reset_caller(token)
            self._log(method, code, started, context)

    def _wrap_unary(self, method: str, policy: MethodPolicy, behavior: Any) -> Any:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
            async with self._call(method, policy, request, context):
                return await behavior(request, context)

        return wrapped

    def _wrap_stream(self, method: str, policy: MethodPolicy, behavior: Any) -> Any:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            async with self._call(method, policy, request, context):
                async for response in behavior(request, context):
                    yield response

        return wrapped

    @staticmethod
    def _log(
        method: str, code: grpc.StatusCode, started: float, context: grpc.aio.ServicerContext
    ) -> None:
        caller = caller_from_metadata(_metadata(context))
        log.info(
            "rpc",
            extra={
                "rpc": method,
                "code": code.name,
                "latency_ms": round((time.perf_counter() - started) * 1000, 3),
                "user": caller.user_id if caller else None,
            },
        )


def _metadata(context: grpc.aio.ServicerContext) -> Iterable[tuple[str, str | bytes]]:
    return tuple((item[0], item[1]) for item in context.invocation_metadata() or ())


async def _abort(context: Any, error: ServiceError, domain: str) -> None:
    # grpc-stubs lacks aio's abort_with_status; it exists at runtime since grpcio 1.38.
    await context.abort_with_status(rpc_status.to_status(error.to_status(domain)))
