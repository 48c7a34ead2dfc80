"""Originals in S3-compatible storage: the `minio`-client adapter against a real S3 wire
protocol server (moto's, standing in for MinIO or a cloud bucket), on its own and behind a rag
server from upload to delete."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from inbetwin.rag.v1 import document_pb2, search_pb2
from inbetwin.rag.v1 import rag_service_pb2 as pb
from minio import Minio

from services.rag.settings import RagSettings
from services.rag.storage.base import ObjectMissingError
from services.rag.storage.s3 import S3ObjectStore
from services.stack import Stack
from tests.rag.conftest import WAIT_SECONDS, new_database, running_rag
from tests.standins.embeddings import EmbeddingsStandIn
from tests.standins.s3 import S3StandIn


@pytest.fixture(scope="module")
def s3() -> Iterator[S3StandIn]:
    with S3StandIn() as server:
        yield server


def s3_settings(s3: S3StandIn, bucket: str) -> dict[str, object]:
    return {
        "storage_backend": "s3",
        "s3_endpoint": s3.endpoint,
        "s3_bucket": bucket,
        "s3_access_key": s3.access_key,
        "s3_secret_key": s3.secret_key,
        "s3_region": s3.region,
        "s3_secure": False,
    }


def client(s3: S3StandIn) -> Minio:
    return Minio(
        s3.endpoint,
        access_key=s3.access_key,
        secret_key=s3.secret_key,
        region=s3.region,
        secure=False,
    )


async def wait_until(condition: Callable[[], bool]) -> None:
    """Poll `condition` (the timeout only stops a hung test)."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.05)


def bucket_keys(s3: S3StandIn, bucket: str) -> list[str]:
    return sorted(str(item.object_name) for item in client(s3).list_objects(bucket, recursive=True))


async def test_put_get_replace_delete_and_missing_objects(s3: S3StandIn) -> None:
    bucket = f"rag-{uuid.uuid4().hex[:12]}"
    settings = RagSettings(
        database_url="postgresql+asyncpg://unused/unused",
        redis_url="redis://unused",
        nats_url="nats://unused",
        **s3_settings(s3, bucket),  # type: ignore[arg-type]
    )
    store = S3ObjectStore(settings)
    key = "owner/document/sha"

    await store.put(key, b"first")  # creates the bucket on first use
    assert await store.get(key) == b"first"
    await store.put(key, b"\x00second\xff" * 1000)
    assert await store.get(key) == b"\x00second\xff" * 1000
    assert bucket_keys(s3, bucket) == [key]

    await store.delete(key)
    assert bucket_keys(s3, bucket) == []
    with pytest.raises(ObjectMissingError):
        await store.get(key)
    await store.delete(key)  # deleting what is gone is not an error
    with pytest.raises(ObjectMissingError):
        await store.get("never/stored/at-all")
    await store.close()


async def test_a_document_kept_in_s3_is_indexed_searched_and_removed(
    platform: Stack,
    s3: S3StandIn,
    embeddings_api: EmbeddingsStandIn,
    owner: str,
    tmp_path: Path,
) -> None:
    bucket = f"rag-{uuid.uuid4().hex[:12]}"
    url = await new_database(platform, "s3")
    async with running_rag(
        platform,
        url,
        storage_dir=tmp_path / "unused",
        embeddings_provider="openai",
        embeddings_model="hash-64",
        embeddings_base_url=embeddings_api.openai_base_url,
        embeddings_api_key=embeddings_api.api_key,
        **s3_settings(s3, bucket),
    ) as rag:
        kb = await rag.create_knowledge_base(owner)
        text = b"The lighthouse keeper winds the clock every Sunday at dawn."
        document = await rag.upload_and_wait(owner, kb, "lighthouse.txt", text)
        assert document.status == document_pb2.DOCUMENT_STATUS_READY
        (key,) = bucket_keys(s3, bucket)
        assert key.startswith(f"{owner}/")
        assert client(s3).get_object(bucket, key).read() == text
        assert not (tmp_path / "unused").exists() or not any((tmp_path / "unused").iterdir())

        found = await rag.search(owner, "lighthouse clock", mode=search_pb2.SEARCH_MODE_HYBRID)
        assert found.hits[0].citation.document_id == document.id

        await rag.stub.DeleteDocument(
            pb.DeleteDocumentRequest(document_id=document.id), metadata=rag.as_owner(owner)
        )
        # The original is removed in the background once the rows are gone.
        await wait_until(lambda: bucket_keys(s3, bucket) == [])
        assert not (await rag.search(owner, "lighthouse clock")).hits
