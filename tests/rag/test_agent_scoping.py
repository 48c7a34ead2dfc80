"""Knowledge bases scoped to one agent: that agent searches them and the owner's shared ones,
never another agent's, in every search mode, whether it names knowledge bases or not; the
owner (no agent) searches them all; listing by agent shows the same scope."""

from __future__ import annotations

import uuid

from google.protobuf import field_mask_pb2
from inbetwin.rag.v1 import document_pb2, knowledge_base_pb2, qa_pair_pb2, search_pb2
from inbetwin.rag.v1 import rag_service_pb2 as pb

from tests.rag.conftest import Rag

MODES = (
    search_pb2.SEARCH_MODE_VECTOR,
    search_pb2.SEARCH_MODE_FULL_TEXT,
    search_pb2.SEARCH_MODE_HYBRID,
)
QUESTION = "When is the harbour ferry running"


async def create_scoped(rag: Rag, owner: str, name: str, agent_id: str) -> str:
    response = await rag.stub.CreateKnowledgeBase(
        pb.CreateKnowledgeBaseRequest(
            knowledge_base=knowledge_base_pb2.KnowledgeBase(display_name=name, agent_id=agent_id)
        ),
        metadata=rag.as_owner(owner),
    )
    return str(response.knowledge_base.id)


async def hit_knowledge_bases(rag: Rag, owner: str, **fields: object) -> dict[int, frozenset[str]]:
    """For each mode, the knowledge bases the hits came from."""
    found: dict[int, frozenset[str]] = {}
    for mode in MODES:
        response = await rag.search(owner, QUESTION, mode=mode, top_k=50, **fields)
        found[mode] = frozenset(hit.knowledge_base_id for hit in response.hits)
    return found


def every_mode(*knowledge_base_ids: str) -> dict[int, frozenset[str]]:
    return {mode: frozenset(knowledge_base_ids) for mode in MODES}


async def test_an_agent_never_reaches_another_agents_knowledge_base(
    local_rag: Rag, owner: str, other_owner: str
) -> None:
    first_agent, second_agent = str(uuid.uuid4()), str(uuid.uuid4())
    first = await create_scoped(local_rag, owner, "First agent's", first_agent)
    second = await create_scoped(local_rag, owner, "Second agent's", second_agent)
    shared = await local_rag.create_knowledge_base(owner, "Shared")
    for kb, text in (
        (first, b"The harbour ferry is running every hour from the north pier."),
        (second, b"The harbour ferry is running only on weekends in winter."),
    ):
        document = await local_rag.upload_and_wait(owner, kb, "ferry.txt", text)
        assert document.status == document_pb2.DOCUMENT_STATUS_READY
    await local_rag.stub.CreateQaPair(
        pb.CreateQaPairRequest(
            knowledge_base_id=shared,
            qa_pair=qa_pair_pb2.QaPair(
                question="Is the harbour ferry running today", answer="Yes, until 22:00."
            ),
        ),
        metadata=local_rag.as_owner(owner),
    )

    everything = {first, second, shared}
    assert await hit_knowledge_bases(local_rag, owner) == every_mode(*everything)
    assert await hit_knowledge_bases(local_rag, owner, agent_id=first_agent) == every_mode(
        first, shared
    )
    assert await hit_knowledge_bases(local_rag, owner, agent_id=second_agent) == every_mode(
        second, shared
    )
    # Naming another agent's knowledge base does not reach it either.
    assert await hit_knowledge_bases(
        local_rag, owner, agent_id=first_agent, knowledge_base_ids=[second, shared]
    ) == every_mode(shared)
    assert (
        await hit_knowledge_bases(
            local_rag, owner, agent_id=first_agent, knowledge_base_ids=[second]
        )
        == every_mode()
    )
    # An unknown agent sees only what is shared; another owner's agent of the same id, nothing.
    assert await hit_knowledge_bases(local_rag, owner, agent_id=str(uuid.uuid4())) == every_mode(
        shared
    )
    assert await hit_knowledge_bases(local_rag, other_owner, agent_id=first_agent) == every_mode()

    # Moving a knowledge base to the other agent moves what each agent finds.
    await local_rag.stub.UpdateKnowledgeBase(
        pb.UpdateKnowledgeBaseRequest(
            knowledge_base_id=first,
            knowledge_base=knowledge_base_pb2.KnowledgeBase(agent_id=second_agent),
            update_mask=field_mask_pb2.FieldMask(paths=["agent_id"]),
        ),
        metadata=local_rag.as_owner(owner),
    )
    assert await hit_knowledge_bases(local_rag, owner, agent_id=first_agent) == every_mode(shared)
    assert await hit_knowledge_bases(local_rag, owner, agent_id=second_agent) == every_mode(
        *everything
    )


async def test_listing_by_agent_shows_what_that_agent_searches(local_rag: Rag, owner: str) -> None:
    meta = local_rag.as_owner(owner)
    agent, other_agent = str(uuid.uuid4()), str(uuid.uuid4())
    mine = {await create_scoped(local_rag, owner, f"Mine {n}", agent) for n in range(2)}
    theirs = await create_scoped(local_rag, owner, "Theirs", other_agent)
    shared = await local_rag.create_knowledge_base(owner, "Shared")

    listed: list[str] = []
    token = ""
    while True:
        page = await local_rag.stub.ListKnowledgeBases(
            pb.ListKnowledgeBasesRequest(agent_id=agent, page_size=1, page_token=token),
            metadata=meta,
        )
        listed += [kb.id for kb in page.knowledge_bases]
        token = page.next_page_token
        if not token:
            break
    assert sorted(listed) == sorted(mine | {shared})

    everything = await local_rag.stub.ListKnowledgeBases(
        pb.ListKnowledgeBasesRequest(page_size=100), metadata=meta
    )
    assert {kb.id for kb in everything.knowledge_bases} == mine | {theirs, shared}
