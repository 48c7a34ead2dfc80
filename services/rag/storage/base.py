"""Object storage for the original files, behind one interface."""

from __future__ import annotations

from typing import Protocol


class ObjectMissingError(Exception):
    """No object under that key."""


class ObjectStore(Protocol):
    async def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, replacing what was there; durable when it returns."""
        ...

    async def get(self, key: str) -> bytes:
        """The bytes under `key`; ObjectMissingError when there are none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove `key`; nothing happens if it is missing."""
        ...

    async def close(self) -> None: ...


def object_key(owner_id: str, document_id: str, sha256: str) -> str:
    """Where a document's original lives: per owner, per document, per content."""
    return f"{owner_id}/{document_id}/{sha256}"
