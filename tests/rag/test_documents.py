"""Documents with the default configuration (local all-MiniLM-L6-v2, pgvector): upload, the
asynchronous indexing through the bus, search with citations, re-upload, re-index, delete,
watch, bad input and the plan's size limit."""

from __future__ import annotations

import asyncpg
import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from inbetwin.rag.v1 import document_pb2, search_pb2
from inbetwin.rag.v1 import rag_service_pb2 as pb

from services.stack import Stack
from tests.rag import samples
from tests.rag.conftest import Rag, reason_of

READY = document_pb2.DOCUMENT_STATUS_READY
FAILED = document_pb2.DOCUMENT_STATUS_FAILED


async def _rows(platform: Stack, rag: Rag, sql: str, *args: object) -> list[asyncpg.Record]:
    database = rag.settings.database_url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(platform.postgres_dsn(database))
    try:
        return list(await connection.fetch(sql, *args))
    finally:
        await connection.close()


DOCUMENTS = {
    "notes.txt": b"Our bakery opens at seven. Fresh croissants are baked every morning.",
    "faq.md": b"# Delivery\n\nCouriers deliver wedding cakes across Springfield within two days.",
    "page.html": b"<html><body><h1>Parking</h1><p>Free bicycle parking is behind the greenhouse.</p></body></html>",
    "prices.pdf": samples.pdf(
        [
            [f"Line {i} of the price list introduction." for i in range(12)],
            ["A sourdough loaf costs nine euros."],
        ]
    ),
    "policy.docx": samples.docx(
        [("Heading1", "Refunds"), ("", "Unopened jars of honey can be returned.")]
    ),
}
QUERIES = {
    "notes.txt": ("When are croissants baked?", "", 0),
    "faq.md": ("wedding cake delivery to Springfield", "Delivery", 0),
    "page.html": ("where can I park my bicycle", "Parking", 0),
    "prices.pdf": ("how much is a sourdough loaf", "", 2),
    "policy.docx": ("can I return honey", "Refunds", 0),
}


@pytest.mark.parametrize("file_name", list(DOCUMENTS))
async def test_upload_ready_search_delete(
    local_rag: Rag, owner: str, platform: Stack, file_name: str
) -> None:
    kb = await local_rag.create_knowledge_base(owner)
    uploaded = await local_rag.upload(owner, kb, file_name, DOCUMENTS[file_name])
    assert uploaded.outcome == pb.UPLOAD_OUTCOME_CREATED
    assert uploaded.document.status == document_pb2.DOCUMENT_STATUS_PENDING
    document = await local_rag.wait_indexed(owner, uploaded.document.id)
    assert document.status == READY, document.failure_message
    assert document.chunk_count >= 1
    assert document.embedding_model == "all-MiniLM-L6-v2"
    assert document.progress.chunks_done == document.progress.chunks_total == document.chunk_count

    query, heading, page = QUERIES[file_name]
    for mode in (search_pb2.SEARCH_MODE_HYBRID, search_pb2.SEARCH_MODE_VECTOR):
        found = await local_rag.search(owner, query, knowledge_base_ids=[kb], mode=mode)
        assert found.hits, mode
        hit = found.hits[0]
        assert hit.citation.document_id == document.id
        assert hit.citation.file_name == file_name
        assert hit.citation.heading == heading
        assert hit.citation.page_number == page
        assert 0 < hit.score <= 1
    download = await local_rag.stub.DownloadDocument(
        pb.DownloadDocumentRequest(document_id=document.id), metadata=local_rag.as_owner(owner)
    )
    assert download.body.data == DOCUMENTS[file_name]
    assert download.body.content_type == document.content_type

    await local_rag.stub.DeleteDocument(
        pb.DeleteDocumentRequest(document_id=document.id), metadata=local_rag.as_owner(owner)
    )
    assert not (await local_rag.search(owner, query, knowledge_base_ids=[kb])).hits
    leftovers = await _rows(
        platform,
        local_rag,
        "SELECT (SELECT count(*) FROM chunks WHERE document_id = $1) AS chunks, "
        "(SELECT count(*) FROM embeddings WHERE source_id = $1) AS vectors",
        document.id,
    )
    assert (leftovers[0]["chunks"], leftovers[0]["vectors"]) == (0, 0)
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await local_rag.document(owner, document.id)
    assert reason_of(missing.value) == "DOCUMENT_NOT_FOUND"


async def test_citation_offsets_point_into_the_extracted_text(local_rag: Rag, owner: str) -> None:
    kb = await local_rag.create_knowledge_base(owner)
    text = " ".join(
        f"Fact {i}: the warehouse in city {i} stores {i * 7} pallets." for i in range(60)
    )
    document = await local_rag.upload_and_wait(owner, kb, "facts.txt", text.encode())
    assert document.chunk_count > 3
    found = await local_rag.search(
        owner,
        "294",
        knowledge_base_ids=[kb],
        top_k=10,
        mode=search_pb2.SEARCH_MODE_FULL_TEXT,
    )
    hit = found.hits[0]
    assert "stores 294 pallets" in hit.text
    assert text[hit.citation.char_start : hit.citation.char_end] == hit.text


@pytest.mark.parametrize(
    ("file_name", "data", "reason"),
    [
        ("empty.txt", b"", document_pb2.DOCUMENT_FAILURE_REASON_EMPTY),
        ("broken.pdf", samples.corrupt_pdf(), document_pb2.DOCUMENT_FAILURE_REASON_CORRUPT),
        ("locked.pdf", samples.encrypted_pdf(), document_pb2.DOCUMENT_FAILURE_REASON_ENCRYPTED),
        ("scan.pdf", samples.image_only_pdf(), document_pb2.DOCUMENT_FAILURE_REASON_NO_TEXT),
        ("bomb.docx", samples.zip_bomb_docx(), document_pb2.DOCUMENT_FAILURE_REASON_TOO_LARGE),
        ("cut.docx", samples.not_a_zip_docx(), document_pb2.DOCUMENT_FAILURE_REASON_CORRUPT),
        ("locked.docx", samples.encrypted_docx(), document_pb2.DOCUMENT_FAILURE_REASON_ENCRYPTED),
        ("huge.txt", b"lorem ipsum " * 30_000, document_pb2.DOCUMENT_FAILURE_REASON_TOO_LARGE),
    ],
)
async def test_bad_files_end_failed_with_a_reason(
    local_rag: Rag, owner: str, file_name: str, data: bytes, reason: int
) -> None:
    kb = await local_rag.create_knowledge_base(owner)
    document = await local_rag.upload_and_wait(owner, kb, file_name, data)
    assert document.status == FAILED
    assert document.failure_reason == reason
    assert document.failure_message
    assert document.chunk_count == 0
    healthy = await local_rag.upload_and_wait(
        owner, kb, "ok.txt", b"The shop sells blue umbrellas."
    )
    assert healthy.status == READY


async def test_unsupported_and_oversized_uploads_are_refused(local_rag: Rag, owner: str) -> None:
    kb = await local_rag.create_knowledge_base(owner)
    with pytest.raises(grpc.aio.AioRpcError) as unsupported:
        await local_rag.upload(owner, kb, "photo.txt", samples.PNG)
    assert unsupported.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(unsupported.value) == "UNSUPPORTED_CONTENT_TYPE"
    with pytest.raises(grpc.aio.AioRpcError) as oversized:
        await local_rag.upload(owner, kb, "big.txt", b"a" * (12 * 1024 * 1024 + 1))
    assert reason_of(oversized.value) == "DOCUMENT_TOO_LARGE"


async def test_the_plans_size_limit_is_enforced(local_rag: Rag, owner: str) -> None:
    mib = 1024 * 1024
    kb = await local_rag.create_knowledge_base(owner)
    await local_rag.upload(owner, kb, "a.txt", b"x " * (2 * mib))
    await local_rag.upload(owner, kb, "b.txt", b"y " * (2 * mib))
    with pytest.raises(grpc.aio.AioRpcError) as exhausted:
        await local_rag.upload(owner, kb, "c.txt", b"z " * (2 * mib))
    assert exhausted.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert reason_of(exhausted.value) == "STORAGE_LIMIT_REACHED"
    status = rpc_status.from_call(exhausted.value)  # type: ignore[arg-type]
    assert status is not None
    quota = error_details_pb2.QuotaFailure()
    assert any(detail.Unpack(quota) for detail in status.details)
    # Replacing a document frees its old size first: this fits the Free plan's 10 MiB.
    replaced = await local_rag.upload(owner, kb, "b.txt", b"w " * (3 * mib - 1))
    assert replaced.outcome == pb.UPLOAD_OUTCOME_REPLACED
    knowledge_base = (
        await local_rag.stub.GetKnowledgeBase(
            pb.GetKnowledgeBaseRequest(knowledge_base_id=kb), metadata=local_rag.as_owner(owner)
        )
    ).knowledge_base
    assert knowledge_base.size_bytes == 4 * mib + 6 * mib - 2
    assert knowledge_base.document_count == 2


async def test_reupload_replaces_and_identical_bytes_change_nothing(
    local_rag: Rag, owner: str, platform: Stack
) -> None:
    kb = await local_rag.create_knowledge_base(owner)
    first = await local_rag.upload_and_wait(
        owner, kb, "menu.md", b"# Menu\n\nToday we serve pumpkin soup."
    )
    again = await local_rag.upload(owner, kb, "menu.md", b"# Menu\n\nToday we serve pumpkin soup.")
    assert again.outcome == pb.UPLOAD_OUTCOME_UNCHANGED
    assert again.document.status == READY
    replaced = await local_rag.upload(
        owner, kb, "menu.md", b"# Menu\n\nToday we serve mushroom risotto."
    )
    assert replaced.outcome == pb.UPLOAD_OUTCOME_REPLACED
    assert replaced.document.id == first.id
    second = await local_rag.wait_indexed(owner, first.id)
    assert second.status == READY
    old = await local_rag.search(
        owner, "pumpkin soup", knowledge_base_ids=[kb], mode=search_pb2.SEARCH_MODE_FULL_TEXT
    )
    assert not old.hits
    new = await local_rag.search(owner, "mushroom risotto", knowledge_base_ids=[kb])
    assert new.hits[0].citation.document_id == first.id
    counts = await _rows(
        platform,
        local_rag,
        "SELECT (SELECT count(*) FROM chunks WHERE document_id = $1) AS chunks, "
        "(SELECT count(*) FROM embeddings WHERE source_id = $1) AS vectors",
        first.id,
    )
    assert counts[0]["chunks"] == counts[0]["vectors"] == second.chunk_count


async def test_reindex_keeps_the_document_searchable(local_rag: Rag, owner: str) -> None:
    kb = await local_rag.create_knowledge_base(owner)
    document = await local_rag.upload_and_wait(
        owner, kb, "hours.txt", b"The museum closes at nine on Fridays."
    )
    reindexed = await local_rag.stub.ReindexDocument(
        pb.ReindexDocumentRequest(document_id=document.id), metadata=local_rag.as_owner(owner)
    )
    assert reindexed.document.status == document_pb2.DOCUMENT_STATUS_PENDING
    assert reindexed.document.chunk_count == document.chunk_count
    during = await local_rag.search(owner, "museum closing time", knowledge_base_ids=[kb])
    assert during.hits[0].citation.document_id == document.id
    done = await local_rag.wait_indexed(owner, document.id)
    assert done.status == READY
    assert done.index_time.ToDatetime() > document.index_time.ToDatetime()


async def test_watch_streams_progress_until_finished(local_rag: Rag, owner: str) -> None:
    kb = await local_rag.create_knowledge_base(owner)
    text = " ".join(f"Paragraph {i} describes shelf {i} of the library." for i in range(200))
    uploaded = await local_rag.upload(owner, kb, "library.txt", text.encode())
    messages = [
        message
        async for message in local_rag.stub.WatchDocument(
            pb.WatchDocumentRequest(document_id=uploaded.document.id),
            metadata=local_rag.as_owner(owner),
        )
    ]
    assert messages[0].WhichOneof("event") == "document"
    assert messages[-1].end.reason == pb.STREAM_END_REASON_FINISHED
    documents = [m.document for m in messages if m.WhichOneof("event") == "document"]
    assert documents[-1].status == READY
    assert documents[-1].progress.chunks_done == documents[-1].progress.chunks_total > 0


async def test_another_owner_sees_nothing(
    local_rag: Rag, owner: str, other_owner: str, platform: Stack
) -> None:
    kb = await local_rag.create_knowledge_base(owner)
    document = await local_rag.upload_and_wait(
        owner, kb, "secret.txt", b"The vault combination is kept by Mrs Lindqvist."
    )
    own_kb = await local_rag.create_knowledge_base(other_owner)
    await local_rag.upload_and_wait(other_owner, own_kb, "mine.txt", b"Tulips bloom in April.")
    for mode in (
        search_pb2.SEARCH_MODE_HYBRID,
        search_pb2.SEARCH_MODE_VECTOR,
        search_pb2.SEARCH_MODE_FULL_TEXT,
    ):
        found = await local_rag.search(
            other_owner, "vault combination Lindqvist", mode=mode, top_k=50
        )
        assert all(hit.citation.document_id != document.id for hit in found.hits), mode
        assert all(hit.knowledge_base_id == own_kb for hit in found.hits)
    with pytest.raises(grpc.aio.AioRpcError) as foreign_kb:
        await local_rag.search(other_owner, "vault", knowledge_base_ids=[kb])
    assert reason_of(foreign_kb.value) == "KNOWLEDGE_BASE_NOT_FOUND"
    for call in (
        local_rag.stub.GetDocument(
            pb.GetDocumentRequest(document_id=document.id), metadata=local_rag.as_owner(other_owner)
        ),
        local_rag.stub.DownloadDocument(
            pb.DownloadDocumentRequest(document_id=document.id),
            metadata=local_rag.as_owner(other_owner),
        ),
        local_rag.stub.DeleteDocument(
            pb.DeleteDocumentRequest(document_id=document.id),
            metadata=local_rag.as_owner(other_owner),
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as hidden:
            await call
        assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
    # The store itself, asked as the other owner with the first owner's knowledge base.
    vectors = local_rag.handle.server  # the server is in-process: query pgvector directly
    assert vectors is not None
    leaked = await _rows(
        platform,
        local_rag,
        "SELECT count(*) AS n FROM embeddings WHERE owner_id = $1 AND knowledge_base_id = $2",
        other_owner,
        kb,
    )
    assert leaked[0]["n"] == 0
    assert (await local_rag.document(owner, document.id)).status == READY
