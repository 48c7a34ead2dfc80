"""Originals in an S3-compatible bucket (MinIO, AWS S3, Yandex Object Storage) through the
maintained `minio` client; its blocking calls run in worker threads."""

from __future__ import annotations

import asyncio
import io

from minio import Minio
from minio.error import S3Error

from services.rag.settings import RagSettings
from services.rag.storage.base import ObjectMissingError

_MISSING = frozenset({"NoSuchKey", "NoSuchObject"})


class S3ObjectStore:
    def __init__(self, settings: RagSettings) -> None:
        self._bucket = settings.s3_bucket
        self._client = Minio(
            settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            region=settings.s3_region or None,
            secure=settings.s3_secure,
        )
        self._bucket_checked = False

    def _ensure_bucket(self) -> None:
        if not self._bucket_checked:
            if not self._client.bucket_exists(self._bucket):
                self._client.make_bucket(self._bucket)
            self._bucket_checked = True

    def _put(self, key: str, data: bytes) -> None:
        self._ensure_bucket()
        self._client.put_object(self._bucket, key, io.BytesIO(data), len(data))

    def _get(self, key: str) -> bytes:
        try:
            response = self._client.get_object(self._bucket, key)
        except S3Error as error:
            if error.code in _MISSING:
                raise ObjectMissingError(key) from error
            raise
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def _delete(self, key: str) -> None:
        self._client.remove_object(self._bucket, key)

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._put, key, data)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._get, key)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, key)

    async def close(self) -> None:
        return None
