"""Pinecone as the vector store (official SDK against a local data-plane stand-in) with an
OpenAI-compatible embeddings endpoint: the same flow, one namespace per owner, and what
happens when the embeddings provider fails."""

from __future__ import annotations

import grpc
import pytest
from inbetwin.rag.v1 import document_pb2, qa_pair_pb2, search_pb2
from inbetwin.rag.v1 import rag_service_pb2 as pb

from tests.rag import samples
from tests.rag.conftest import Rag, reason_of
from tests.standins.embeddings import EmbeddingsStandIn
from tests.standins.pinecone import PineconeStandIn


async def test_vectors_live_in_the_owners_namespace_and_go_with_the_document(
    pinecone_rag: Rag, pinecone_index: PineconeStandIn, owner: str
) -> None:
    kb = await pinecone_rag.create_knowledge_base(owner)
    document = await pinecone_rag.upload_and_wait(
        owner,
        kb,
        "garden.docx",
        samples.docx([("Heading1", "Garden"), ("", "Roses need pruning in March.")]),
    )
    assert document.status == document_pb2.DOCUMENT_STATUS_READY
    assert document.embedding_model == "hash-64"
    stored = pinecone_index.vectors(owner)
    assert len(stored) == document.chunk_count
    assert {meta["source_id"] for _, meta in stored.values()} == {document.id}
    assert {meta["knowledge_base_id"] for _, meta in stored.values()} == {kb}

    found = await pinecone_rag.search(
        owner, "when to prune roses", mode=search_pb2.SEARCH_MODE_VECTOR
    )
    assert found.hits[0].citation.document_id == document.id
    assert found.hits[0].citation.heading == "Garden"

    await pinecone_rag.stub.DeleteDocument(
        pb.DeleteDocumentRequest(document_id=document.id), metadata=pinecone_rag.as_owner(owner)
    )
    assert pinecone_index.vectors(owner) == {}


async def test_another_owner_never_queries_the_first_owners_namespace(
    pinecone_rag: Rag, pinecone_index: PineconeStandIn, owner: str, other_owner: str
) -> None:
    kb = await pinecone_rag.create_knowledge_base(owner)
    secret = await pinecone_rag.upload_and_wait(
        owner, kb, "s.txt", b"The safe code is hidden under the blue vase."
    )
    other_kb = await pinecone_rag.create_knowledge_base(other_owner)
    await pinecone_rag.upload_and_wait(
        other_owner, other_kb, "o.txt", b"Our blue vase collection is on sale."
    )
    before = len(pinecone_index.requests("/query"))
    for mode in (search_pb2.SEARCH_MODE_VECTOR, search_pb2.SEARCH_MODE_HYBRID):
        found = await pinecone_rag.search(other_owner, "safe code blue vase", mode=mode, top_k=50)
        assert found.hits
        assert all(hit.citation.document_id != secret.id for hit in found.hits)
    queries = pinecone_index.requests("/query")[before:]
    assert queries
    assert {query.namespace for query in queries} == {other_owner}
    assert owner in pinecone_index.namespaces()


async def test_exact_and_near_exact_questions(pinecone_rag: Rag, owner: str) -> None:
    kb = await pinecone_rag.create_knowledge_base(owner)
    pair = (
        await pinecone_rag.stub.CreateQaPair(
            pb.CreateQaPairRequest(
                knowledge_base_id=kb,
                qa_pair=qa_pair_pb2.QaPair(question="Is parking free for guests", answer="Yes."),
            ),
            metadata=pinecone_rag.as_owner(owner),
        )
    ).qa_pair
    # Same words in another order: not equal once normalised, but the (bag-of-words) stand-in
    # model embeds both identically, so it is a near-exact match by similarity.
    found = await pinecone_rag.search(owner, "for guests is parking free")
    assert found.hits[0].qa_pair.qa_pair_id == pair.id
    assert found.hits[0].qa_pair.exact_match


async def test_a_failing_provider_fails_indexing_and_search_falls_back(
    pinecone_rag: Rag, embeddings_api: EmbeddingsStandIn, owner: str
) -> None:
    kb = await pinecone_rag.create_knowledge_base(owner)
    embeddings_api.fail_next(10, status=500)
    document = await pinecone_rag.upload_and_wait(
        owner, kb, "f.txt", b"Bananas ripen quickly in summer heat."
    )
    assert document.status == document_pb2.DOCUMENT_STATUS_FAILED
    assert document.failure_reason == document_pb2.DOCUMENT_FAILURE_REASON_EMBEDDING_FAILED
    embeddings_api.fail_next(0)
    await pinecone_rag.stub.ReindexDocument(
        pb.ReindexDocumentRequest(document_id=document.id), metadata=pinecone_rag.as_owner(owner)
    )
    ready = await pinecone_rag.wait_indexed(owner, document.id)
    assert ready.status == document_pb2.DOCUMENT_STATUS_READY

    embeddings_api.fail_next(10, status=503)
    hybrid = await pinecone_rag.search(owner, "bananas summer heat", knowledge_base_ids=[kb])
    assert hybrid.effective_mode == search_pb2.SEARCH_MODE_FULL_TEXT
    assert hybrid.hits[0].citation.document_id == document.id
    with pytest.raises(grpc.aio.AioRpcError) as unavailable:
        await pinecone_rag.search(
            owner, "ripe bananas", knowledge_base_ids=[kb], mode=search_pb2.SEARCH_MODE_VECTOR
        )
    assert unavailable.value.code() == grpc.StatusCode.UNAVAILABLE
    assert reason_of(unavailable.value) == "EMBEDDING_UNAVAILABLE"
    embeddings_api.fail_next(0)
