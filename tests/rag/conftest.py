"""rag under test: real Postgres+pgvector, Redis, NATS JetStream and auth from the stack; rag
servers run in this process (`create_server`, as `serve` does), each configuration with its
own database and indexing consumer, so the local model is loaded once per test session.
Third parties (an OpenAI-compatible or Hugging Face embeddings API, Pinecone) are local
stand-ins speaking their wire formats."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from inbetwin.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from inbetwin.rag.v1 import document_pb2, knowledge_base_pb2, rag_service_pb2_grpc
from inbetwin.rag.v1 import rag_service_pb2 as pb

from services.kit.db import upgrade_to_head_async
from services.kit.server import ServerHandle, create_server
from services.rag.server import SERVICE_NAMES, wire
from services.rag.settings import RagSettings
from services.stack import Stack
from tests.conftest import StartStack
from tests.standins.embeddings import EmbeddingsStandIn
from tests.standins.pinecone import PineconeStandIn

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "rag" / "migrations"
TERMINAL = (document_pb2.DOCUMENT_STATUS_READY, document_pb2.DOCUMENT_STATUS_FAILED)
WAIT_SECONDS = 60.0


@pytest.fixture(scope="session")
def platform(start_stack: StartStack) -> Stack:
    """Postgres, Redis, NATS and a real auth service (for the plan's limits)."""
    return start_stack(services=("auth",), edge=False)


async def new_database(stack: Stack, name: str) -> str:
    """A fresh database with pgvector, migrated to head; its SQLAlchemy URL."""
    database = f"rag_{name}_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(stack.postgres_dsn())
    try:
        await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()
    connection = await asyncpg.connect(stack.postgres_dsn(database))
    try:
        await connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
    finally:
        await connection.close()
    url = stack.database_url(database)
    await upgrade_to_head_async(url, MIGRATIONS)
    return url


@dataclass
class Rag:
    """A running rag server and a client that calls it as a given owner."""

    handle: ServerHandle
    channel: grpc.aio.Channel
    stub: rag_service_pb2_grpc.RagServiceStub
    settings: RagSettings

    @staticmethod
    def as_owner(owner_id: str) -> tuple[tuple[str, str]]:
        return (("x-user-id", owner_id),)

    async def create_knowledge_base(self, owner: str, name: str = "Shop") -> str:
        response = await self.stub.CreateKnowledgeBase(
            pb.CreateKnowledgeBaseRequest(
                knowledge_base=knowledge_base_pb2.KnowledgeBase(display_name=name)
            ),
            metadata=self.as_owner(owner),
        )
        return str(response.knowledge_base.id)

    async def upload(
        self, owner: str, kb: str, file_name: str, data: bytes
    ) -> pb.UploadDocumentResponse:
        request = pb.UploadDocumentRequest(knowledge_base_id=kb, file_name=file_name)
        request.body.data = data
        request.body.content_type = "application/octet-stream"
        response: pb.UploadDocumentResponse = await self.stub.UploadDocument(
            request, metadata=self.as_owner(owner)
        )
        return response

    async def document(self, owner: str, document_id: str) -> document_pb2.Document:
        response: pb.GetDocumentResponse = await self.stub.GetDocument(
            pb.GetDocumentRequest(document_id=document_id), metadata=self.as_owner(owner)
        )
        return response.document

    async def wait_indexed(
        self, owner: str, document_id: str, *, revision_after: Any = None
    ) -> document_pb2.Document:
        """Poll until READY or FAILED (the timeout only stops a hung test)."""
        deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
        while True:
            document = await self.document(owner, document_id)
            if document.status in TERMINAL and (
                revision_after is None or document.update_time.ToDatetime() > revision_after
            ):
                return document
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"document never finished indexing: {document}")
            await asyncio.sleep(0.05)

    async def upload_and_wait(
        self, owner: str, kb: str, file_name: str, data: bytes
    ) -> document_pb2.Document:
        uploaded = await self.upload(owner, kb, file_name, data)
        return await self.wait_indexed(owner, uploaded.document.id)

    async def search(self, owner: str, query: str, **fields: Any) -> pb.SearchResponse:
        response: pb.SearchResponse = await self.stub.Search(
            pb.SearchRequest(query=query, **fields), metadata=self.as_owner(owner)
        )
        return response


@asynccontextmanager
async def running_rag(stack: Stack, database_url: str, **overrides: Any) -> AsyncIterator[Rag]:
    settings = RagSettings(
        database_url=database_url,
        redis_url=stack.redis_url,
        nats_url=stack.nats_url,
        auth_addr=stack.service_address("auth"),
        indexer_consumer=f"rag-indexer-{uuid.uuid4().hex[:8]}",
        **overrides,
    )
    handle = await create_server(
        settings, service_names=SERVICE_NAMES, error_domain="rag.inbetwin.app", wire=wire
    )
    channel = grpc.aio.insecure_channel(
        f"127.0.0.1:{handle.port}",
        options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)],
    )
    try:
        yield Rag(handle, channel, rag_service_pb2_grpc.RagServiceStub(channel), settings)
    finally:
        await channel.close(None)
        await handle.stop(1.0)


@pytest.fixture(scope="session")
async def local_rag(
    platform: Stack, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Rag]:
    """The default configuration: the local all-MiniLM-L6-v2 model and pgvector."""
    url = await new_database(platform, "local")
    async with running_rag(
        platform,
        url,
        storage_dir=tmp_path_factory.mktemp("rag-objects"),
        max_upload_bytes=12 * 1024 * 1024,
        # Small, so that a test's "enormous" file fails fast instead of being embedded.
        max_text_chars=300_000,
    ) as rag:
        yield rag


@pytest.fixture(scope="session")
def embeddings_api() -> Iterator[EmbeddingsStandIn]:
    with EmbeddingsStandIn(api_key="emb-key") as provider:
        yield provider


@pytest.fixture(scope="session")
def pinecone_index() -> Iterator[PineconeStandIn]:
    with PineconeStandIn(dimension=64) as index:
        yield index


@pytest.fixture(scope="session")
async def pinecone_rag(
    platform: Stack,
    tmp_path_factory: pytest.TempPathFactory,
    embeddings_api: EmbeddingsStandIn,
    pinecone_index: PineconeStandIn,
) -> AsyncIterator[Rag]:
    """Pinecone for vectors, an OpenAI-compatible endpoint for embeddings."""
    url = await new_database(platform, "pinecone")
    async with running_rag(
        platform,
        url,
        storage_dir=tmp_path_factory.mktemp("rag-objects"),
        vector_store="pinecone",
        pinecone_api_key=pinecone_index.api_key,
        pinecone_index_host=pinecone_index.host,
        embeddings_provider="openai",
        embeddings_model="hash-64",
        embeddings_base_url=embeddings_api.openai_base_url,
        embeddings_api_key=embeddings_api.api_key,
        embeddings_retries=0,
    ) as rag:
        yield rag


async def register(stack: Stack) -> str:
    """A new user of the real auth service (Free plan); its id."""
    async with grpc.aio.insecure_channel(stack.service_address("auth")) as channel:
        response = await auth_service_pb2_grpc.AuthServiceStub(channel).Register(
            auth_service_pb2.RegisterRequest(
                email=f"rag-{uuid.uuid4().hex[:12]}@example.com",
                password="correct horse battery",
                display_name="Owner",
            )
        )
    return str(response.user.id)


@pytest.fixture
async def owner(platform: Stack) -> str:
    return await register(platform)


@pytest.fixture
async def other_owner(platform: Stack) -> str:
    return await register(platform)


def reason_of(error: grpc.aio.AioRpcError) -> str:
    """The ErrorInfo reason of a rich error status."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, error
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return str(info.reason)
    raise AssertionError(f"no ErrorInfo in {error}")
