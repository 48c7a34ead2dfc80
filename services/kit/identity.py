"""The caller of the current RPC, taken from the `x-user-id` header the edge sets."""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterable
from dataclasses import dataclass

import grpc

from services.kit.errors import ServiceError

USER_ID_HEADER = "x-user-id"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the owner every read and write of this RPC is scoped to."""

    user_id: str


_current: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("caller", default=None)


def caller_from_metadata(metadata: Iterable[tuple[str, str | bytes]] | None) -> Caller | None:
    for key, value in metadata or ():
        if key == USER_ID_HEADER and isinstance(value, str):
            user_id = value.strip().lower()
            return Caller(user_id) if _UUID.match(user_id) else None
    return None


def set_caller(caller: Caller | None) -> contextvars.Token[Caller | None]:
    return _current.set(caller)


def reset_caller(token: contextvars.Token[Caller | None]) -> None:
    try:
        _current.reset(token)
    except ValueError:
        # A streaming handler's generator may resume in another context than the one that
        # set the caller; each RPC runs in its own task, so clearing is enough there.
        _current.set(None)


def current_caller() -> Caller:
    """The authenticated caller; UNAUTHENTICATED when the RPC has none."""
    caller = _current.get()
    if caller is None:
        raise ServiceError(grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED", "no caller identity")
    return caller
