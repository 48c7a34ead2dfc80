"""The object store the settings name."""

from __future__ import annotations

from services.rag.settings import RagSettings
from services.rag.storage.base import ObjectStore
from services.rag.storage.local import LocalObjectStore


def create_object_store(settings: RagSettings) -> ObjectStore:
    if settings.storage_backend == "s3":
        from services.rag.storage.s3 import S3ObjectStore

        return S3ObjectStore(settings)
    return LocalObjectStore(settings.storage_dir)
