"""WatchDocument: the document's state first, then each change (progress at most once a
second), heartbeats while idle, and an explicit end. Changes are announced by Postgres as they
commit (`DocumentChanges`); the document is re-read when one arrives, and at the latest every
`fallback_poll_seconds` in case one was lost. Open watches are counted per owner in Redis, so
the limit holds across instances."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import grpc
from inbetwin.rag.v1 import document_pb2
from inbetwin.rag.v1 import rag_service_pb2 as pb
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.errors import ServiceError
from services.rag import mapping, repository
from services.rag.document_changes import DocumentChanges
from services.rag.errors import document_not_found

PROGRESS_EVERY_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
MAX_SECONDS = 3600.0
_TERMINAL = (repository.READY, repository.FAILED)


class Watches:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        redis: Redis,
        changes: DocumentChanges,
        max_per_owner: int,
        fallback_poll_seconds: float,
    ) -> None:
        self._engine = engine
        self._redis = redis
        self._changes = changes
        self._max = max_per_owner
        self._fallback = fallback_poll_seconds

    async def _current(self, owner_id: str, document_id: str) -> document_pb2.Document | None:
        async with self._engine.connect() as conn:
            row = await repository.document(conn, owner_id=owner_id, document_id=document_id)
        return mapping.document(row) if row is not None else None

    async def watch(
        self, owner_id: str, document_id: str
    ) -> AsyncIterator[pb.WatchDocumentResponse]:
        # Subscribed before the first read, so no change can fall between the two.
        with self._changes.subscribe(document_id) as changed:
            first = await self._current(owner_id, document_id)
            if first is None:
                raise document_not_found()
            key = f"rag:watches:{owner_id}"
            opened = int(await self._redis.incr(key))
            await self._redis.expire(key, int(MAX_SECONDS) * 2)
            try:
                if opened > self._max:
                    raise ServiceError(
                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                        "WATCH_LIMIT_REACHED",
                        f"at most {self._max} watches may be open at once",
                    )
                async for message in self._stream(owner_id, document_id, first, changed):
                    yield message
            finally:
                await self._redis.decr(key)

    async def _stream(
        self,
        owner_id: str,
        document_id: str,
        last: document_pb2.Document,
        changed: asyncio.Event,
    ) -> AsyncIterator[pb.WatchDocumentResponse]:
        yield pb.WatchDocumentResponse(document=last)
        started = sent = time.monotonic()
        unsent = False  # a progress change held back by the once-a-second limit
        while last.status not in _TERMINAL:
            now = time.monotonic()
            wait = min(
                self._fallback, HEARTBEAT_SECONDS - (now - sent), MAX_SECONDS - (now - started)
            )
            if unsent:
                wait = min(wait, PROGRESS_EVERY_SECONDS - (now - sent))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=max(wait, 0.0))
            changed.clear()
            now = time.monotonic()
            if now - started > MAX_SECONDS:
                yield _end(pb.STREAM_END_REASON_MAX_DURATION)
                return
            current = await self._current(owner_id, document_id)
            if current is None:
                yield _end(pb.STREAM_END_REASON_DELETED)
                return
            changed_status = current.status != last.status
            unsent = changed_status or current.progress != last.progress
            if unsent and (changed_status or now - sent >= PROGRESS_EVERY_SECONDS):
                yield pb.WatchDocumentResponse(document=current)
                last, sent, unsent = current, now, False
            elif not unsent and now - sent >= HEARTBEAT_SECONDS:
                heartbeat = pb.StreamHeartbeat()
                heartbeat.time.FromDatetime(datetime.now(UTC))
                yield pb.WatchDocumentResponse(heartbeat=heartbeat)
                sent = now
        yield _end(pb.STREAM_END_REASON_FINISHED)


def _end(reason: int) -> pb.WatchDocumentResponse:
    return pb.WatchDocumentResponse(end=pb.StreamEnd(reason=reason))  # type: ignore[arg-type]
