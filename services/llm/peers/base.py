"""One gRPC peer: a lazily opened channel and a call helper that turns "the peer cannot answer
now" into `None` (logged once per code), and every other error into PeerError."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from services.kit.channels import peer_channel
from services.kit.identity import USER_ID_HEADER

log = logging.getLogger("inbetwin.llm.peers")

R = TypeVar("R", bound=Message)

# Codes after which the step degrades instead of failing the reply.
DEGRADED_CODES = frozenset(
    {
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
    }
)


class PeerError(Exception):
    """A peer answered with an error that is the request's own (NOT_FOUND, INVALID_ARGUMENT)."""

    def __init__(self, peer: str, rpc: str, code: grpc.StatusCode, reason: str, detail: str):
        super().__init__(f"{peer}.{rpc}: {code.name} {reason} {detail}")
        self.peer = peer
        self.rpc = rpc
        self.code = code
        self.reason = reason


def error_reason(error: grpc.aio.AioRpcError) -> str:
    """The ErrorInfo reason of a rich error, or ''."""
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status

    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return str(info.reason)
    return ""


class Peer:
    """A peer service at `address` (empty: not deployed)."""

    def __init__(
        self,
        name: str,
        address: str,
        stub_factory: Callable[[grpc.aio.Channel], Any],
        *,
        timeout: float,
    ) -> None:
        self.name = name
        self._address = address
        self._stub_factory = stub_factory
        self._timeout = timeout
        self._channel: grpc.aio.Channel | None = None
        self._stub: Any = None
        self._warned: set[tuple[str, str]] = set()

    @property
    def configured(self) -> bool:
        return bool(self._address)

    def _stub_now(self) -> Any:
        if self._stub is None:
            self._channel = peer_channel(self._address)
            self._stub = self._stub_factory(self._channel)
        return self._stub

    async def call(
        self,
        rpc: str,
        request: Message,
        response_type: type[R],
        *,
        owner_id: str,
        deadline: float | None = None,
    ) -> R | None:
        """Call `rpc` as `owner_id`; None when the peer cannot answer now."""
        if not self._address:
            self._warn_once(rpc, "NOT_CONFIGURED")
            return None
        method: Callable[..., Awaitable[R]] = getattr(self._stub_now(), rpc)
        try:
            return await method(
                request,
                metadata=((USER_ID_HEADER, owner_id),),
                timeout=deadline or self._timeout,
            )
        except grpc.aio.AioRpcError as error:
            code = error.code()
            if code in DEGRADED_CODES:
                self._warn_once(rpc, code.name)
                return None
            raise PeerError(
                self.name, rpc, code, error_reason(error), error.details() or ""
            ) from error

    def _warn_once(self, rpc: str, why: str) -> None:
        # Once per RPC and cause: an UNIMPLEMENTED peer would otherwise log on every message.
        if (rpc, why) not in self._warned:
            self._warned.add((rpc, why))
            log.warning("peer degraded", extra={"peer": self.name, "rpc": rpc, "why": why})
        else:
            log.debug("peer degraded", extra={"peer": self.name, "rpc": rpc, "why": why})

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close(None)
            self._channel = None
            self._stub = None
