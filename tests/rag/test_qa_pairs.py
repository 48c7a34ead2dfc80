"""Q&A pairs: CRUD, the question's uniqueness, exact matches answered from the pair."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2
from inbetwin.rag.v1 import qa_pair_pb2
from inbetwin.rag.v1 import rag_service_pb2 as pb

from tests.rag.conftest import Rag, reason_of


async def _create(rag: Rag, owner: str, kb: str, question: str, answer: str) -> qa_pair_pb2.QaPair:
    response: pb.CreateQaPairResponse = await rag.stub.CreateQaPair(
        pb.CreateQaPairRequest(
            knowledge_base_id=kb, qa_pair=qa_pair_pb2.QaPair(question=question, answer=answer)
        ),
        metadata=rag.as_owner(owner),
    )
    return response.qa_pair


async def test_an_exact_question_is_answered_from_the_pair_first(
    local_rag: Rag, owner: str
) -> None:
    kb = await local_rag.create_knowledge_base(owner)
    await local_rag.upload_and_wait(
        owner, kb, "hours.md", b"# Hours\n\nThe shop is open from 9 to 18 on weekdays."
    )
    pair = await _create(
        local_rag, owner, kb, "What are your opening hours?", "9:00-18:00, Mon-Fri."
    )
    found = await local_rag.search(owner, "  what are your OPENING hours  ")
    first = found.hits[0]
    assert first.WhichOneof("source") == "qa_pair"
    assert first.qa_pair.qa_pair_id == pair.id
    assert first.qa_pair.exact_match
    assert first.text == "9:00-18:00, Mon-Fri."
    assert first.score == 1.0
    assert any(hit.WhichOneof("source") == "citation" for hit in found.hits[1:])
    loose = await local_rag.search(owner, "when can I come to the shop", knowledge_base_ids=[kb])
    assert not any(hit.qa_pair.exact_match for hit in loose.hits)


async def test_crud_and_uniqueness(local_rag: Rag, owner: str, other_owner: str) -> None:
    meta = local_rag.as_owner(owner)
    kb = await local_rag.create_knowledge_base(owner)
    request_id = str(uuid.uuid4())
    create = pb.CreateQaPairRequest(
        knowledge_base_id=kb,
        qa_pair=qa_pair_pb2.QaPair(question="Do you deliver?", answer="Yes, by courier."),
        request_id=request_id,
    )
    pair = (await local_rag.stub.CreateQaPair(create, metadata=meta)).qa_pair
    assert (await local_rag.stub.CreateQaPair(create, metadata=meta)).qa_pair.id == pair.id
    with pytest.raises(grpc.aio.AioRpcError) as taken:
        await _create(local_rag, owner, kb, "do you DELIVER", "Maybe")
    assert taken.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert reason_of(taken.value) == "QUESTION_TAKEN"

    updated = (
        await local_rag.stub.UpdateQaPair(
            pb.UpdateQaPairRequest(
                qa_pair_id=pair.id,
                qa_pair=qa_pair_pb2.QaPair(question="Do you deliver on Sundays?"),
                update_mask=field_mask_pb2.FieldMask(paths=["question"]),
            ),
            metadata=meta,
        )
    ).qa_pair
    assert (updated.question, updated.answer) == ("Do you deliver on Sundays?", "Yes, by courier.")
    found = await local_rag.search(owner, "Do you deliver on Sundays?", knowledge_base_ids=[kb])
    assert found.hits[0].qa_pair.exact_match
    listed = await local_rag.stub.ListQaPairs(
        pb.ListQaPairsRequest(knowledge_base_id=kb, query="sunday"), metadata=meta
    )
    assert [p.id for p in listed.qa_pairs] == [pair.id]

    with pytest.raises(grpc.aio.AioRpcError) as hidden:
        await local_rag.stub.GetQaPair(
            pb.GetQaPairRequest(qa_pair_id=pair.id), metadata=local_rag.as_owner(other_owner)
        )
    assert reason_of(hidden.value) == "QA_PAIR_NOT_FOUND"
    assert not (await local_rag.search(other_owner, "Do you deliver on Sundays?")).hits

    await local_rag.stub.DeleteQaPair(pb.DeleteQaPairRequest(qa_pair_id=pair.id), metadata=meta)
    assert not (
        await local_rag.search(owner, "Do you deliver on Sundays?", knowledge_base_ids=[kb])
    ).hits
