"""Knowledge bases: CRUD, idempotent create, pagination, update masks, delete rules, owners."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2
from inbetwin.rag.v1 import knowledge_base_pb2, qa_pair_pb2
from inbetwin.rag.v1 import rag_service_pb2 as pb

from tests.rag.conftest import Rag, reason_of


async def test_create_get_update_list_delete(local_rag: Rag, owner: str) -> None:
    meta = local_rag.as_owner(owner)
    request_id = str(uuid.uuid4())
    create = pb.CreateKnowledgeBaseRequest(
        knowledge_base=knowledge_base_pb2.KnowledgeBase(
            display_name=" Price list ", description="What things cost"
        ),
        request_id=request_id,
    )
    created = (await local_rag.stub.CreateKnowledgeBase(create, metadata=meta)).knowledge_base
    assert created.display_name == "Price list"
    assert created.embedding_model == "all-MiniLM-L6-v2"
    assert (created.size_bytes, created.document_count, created.qa_pair_count) == (0, 0, 0)
    retried = (await local_rag.stub.CreateKnowledgeBase(create, metadata=meta)).knowledge_base
    assert retried.id == created.id

    agent = str(uuid.uuid4())
    updated = (
        await local_rag.stub.UpdateKnowledgeBase(
            pb.UpdateKnowledgeBaseRequest(
                knowledge_base_id=created.id,
                knowledge_base=knowledge_base_pb2.KnowledgeBase(
                    display_name="Prices", description="ignored", agent_id=agent
                ),
                update_mask=field_mask_pb2.FieldMask(paths=["display_name", "agent_id"]),
            ),
            metadata=meta,
        )
    ).knowledge_base
    assert (updated.display_name, updated.description, updated.agent_id) == (
        "Prices",
        "What things cost",
        agent,
    )
    with pytest.raises(grpc.aio.AioRpcError) as bad_mask:
        await local_rag.stub.UpdateKnowledgeBase(
            pb.UpdateKnowledgeBaseRequest(
                knowledge_base_id=created.id,
                knowledge_base=knowledge_base_pb2.KnowledgeBase(display_name="x"),
                update_mask=field_mask_pb2.FieldMask(paths=["embedding_model"]),
            ),
            metadata=meta,
        )
    assert reason_of(bad_mask.value) == "FIELD_NOT_UPDATABLE"

    await local_rag.stub.DeleteKnowledgeBase(
        pb.DeleteKnowledgeBaseRequest(knowledge_base_id=created.id), metadata=meta
    )
    with pytest.raises(grpc.aio.AioRpcError) as gone:
        await local_rag.stub.GetKnowledgeBase(
            pb.GetKnowledgeBaseRequest(knowledge_base_id=created.id), metadata=meta
        )
    assert reason_of(gone.value) == "KNOWLEDGE_BASE_NOT_FOUND"


async def test_list_pages_newest_first_and_refuses_foreign_tokens(
    local_rag: Rag, owner: str, other_owner: str
) -> None:
    created = [await local_rag.create_knowledge_base(owner, f"kb {i}") for i in range(5)]
    seen: list[str] = []
    token = ""
    while True:
        page = await local_rag.stub.ListKnowledgeBases(
            pb.ListKnowledgeBasesRequest(page_size=2, page_token=token),
            metadata=local_rag.as_owner(owner),
        )
        seen += [kb.id for kb in page.knowledge_bases]
        token = page.next_page_token
        if not token:
            break
    assert seen == list(reversed(created))
    first = await local_rag.stub.ListKnowledgeBases(
        pb.ListKnowledgeBasesRequest(page_size=2), metadata=local_rag.as_owner(owner)
    )
    with pytest.raises(grpc.aio.AioRpcError) as foreign:
        await local_rag.stub.ListKnowledgeBases(
            pb.ListKnowledgeBasesRequest(page_size=2, page_token=first.next_page_token),
            metadata=local_rag.as_owner(other_owner),
        )
    assert reason_of(foreign.value) == "PAGE_TOKEN_INVALID"


async def test_delete_refuses_a_non_empty_base_unless_forced(local_rag: Rag, owner: str) -> None:
    meta = local_rag.as_owner(owner)
    kb = await local_rag.create_knowledge_base(owner)
    await local_rag.upload_and_wait(owner, kb, "a.txt", b"Parcels ship on Mondays.")
    await local_rag.stub.CreateQaPair(
        pb.CreateQaPairRequest(
            knowledge_base_id=kb,
            qa_pair=qa_pair_pb2.QaPair(question="Do you ship abroad?", answer="No."),
        ),
        metadata=meta,
    )
    with pytest.raises(grpc.aio.AioRpcError) as not_empty:
        await local_rag.stub.DeleteKnowledgeBase(
            pb.DeleteKnowledgeBaseRequest(knowledge_base_id=kb), metadata=meta
        )
    assert not_empty.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(not_empty.value) == "KNOWLEDGE_BASE_NOT_EMPTY"
    await local_rag.stub.DeleteKnowledgeBase(
        pb.DeleteKnowledgeBaseRequest(knowledge_base_id=kb, force=True), metadata=meta
    )
    assert not (await local_rag.search(owner, "When do parcels ship?")).hits
    assert not (await local_rag.search(owner, "Do you ship abroad?")).hits


async def test_another_owner_cannot_touch_a_knowledge_base(
    local_rag: Rag, owner: str, other_owner: str
) -> None:
    kb = await local_rag.create_knowledge_base(owner)
    other = local_rag.as_owner(other_owner)
    calls = [
        local_rag.stub.GetKnowledgeBase(
            pb.GetKnowledgeBaseRequest(knowledge_base_id=kb), metadata=other
        ),
        local_rag.stub.DeleteKnowledgeBase(
            pb.DeleteKnowledgeBaseRequest(knowledge_base_id=kb, force=True), metadata=other
        ),
        local_rag.stub.ListDocuments(pb.ListDocumentsRequest(knowledge_base_id=kb), metadata=other),
        local_rag.stub.ListQaPairs(pb.ListQaPairsRequest(knowledge_base_id=kb), metadata=other),
    ]
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError) as hidden:
            await call
        assert reason_of(hidden.value) == "KNOWLEDGE_BASE_NOT_FOUND"
    with pytest.raises(grpc.aio.AioRpcError) as upload:
        await local_rag.upload(other_owner, kb, "x.txt", b"intrusion")
    assert reason_of(upload.value) == "KNOWLEDGE_BASE_NOT_FOUND"
    listed = await local_rag.stub.ListKnowledgeBases(pb.ListKnowledgeBasesRequest(), metadata=other)
    assert kb not in [item.id for item in listed.knowledge_bases]


async def test_no_caller_is_unauthenticated(local_rag: Rag) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as anonymous:
        await local_rag.stub.ListKnowledgeBases(pb.ListKnowledgeBasesRequest())
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
