"""The rag service: knowledge-base search (documents and Q&A pairs).

Whether an agent has anything to search is cached per owner and agent: most owners start
without a knowledge base, and a search then costs a round trip for nothing. A document that
finishes indexing drops the owner's entry (DocumentIndexed, `services/llm/invalidation.py`);
rag publishes no event for new knowledge bases or Q&A pairs, so those are seen within
`knowledge_cache_seconds`.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict

from inbetwin.rag.v1 import rag_service_pb2 as pb
from inbetwin.rag.v1 import search_pb2

from services.llm.peers.base import Peer, PeerError

log = logging.getLogger("inbetwin.llm.peers.rag")


class RagClient:
    def __init__(self, peer: Peer, *, knowledge_cache_seconds: float = 0.0) -> None:
        self._peer = peer
        self._knowledge_seconds = knowledge_cache_seconds
        self._knowledge: dict[tuple[str, str], tuple[float, bool]] = {}
        self._epochs: defaultdict[str, int] = defaultdict(int)

    def forget_owner(self, owner_id: str) -> None:
        self._epochs[owner_id] += 1
        for key in [k for k in self._knowledge if k[0] == owner_id]:
            del self._knowledge[key]

    def forget_all(self) -> None:
        for owner_id in list(self._epochs):
            self._epochs[owner_id] += 1
        self._knowledge.clear()

    async def has_knowledge(self, *, owner_id: str, agent_id: str) -> bool:
        """Whether a knowledge base the agent may search holds documents or Q&A pairs; True
        when rag cannot say (the search then finds out)."""
        if self._knowledge_seconds <= 0:
            return True
        key = (owner_id, agent_id)
        cached = self._knowledge.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        epoch = self._epochs[owner_id]
        found = False
        token = ""
        try:
            while not found:
                response = await self._peer.call(
                    "ListKnowledgeBases",
                    pb.ListKnowledgeBasesRequest(
                        page_size=100, page_token=token, agent_id=agent_id
                    ),
                    pb.ListKnowledgeBasesResponse,
                    owner_id=owner_id,
                )
                if response is None:
                    return True
                found = any(
                    kb.document_count or kb.qa_pair_count for kb in response.knowledge_bases
                )
                token = response.next_page_token
                if not token:
                    break
        except PeerError as error:
            log.warning("knowledge bases unknown; searching anyway", extra={"error": str(error)})
            return True
        if epoch == self._epochs[owner_id]:
            self._knowledge[key] = (time.monotonic() + self._knowledge_seconds, found)
        return found

    async def search(
        self, *, owner_id: str, query: str, agent_id: str, top_k: int
    ) -> list[search_pb2.SearchHit]:
        """The best hits for `query`, best first; empty when nothing matches or rag cannot answer."""
        query = query.strip()[:2000]
        if not query or top_k <= 0:
            return []
        try:
            response = await self._peer.call(
                "Search",
                pb.SearchRequest(query=query, agent_id=agent_id, top_k=top_k),
                pb.SearchResponse,
                owner_id=owner_id,
            )
        except PeerError as error:
            log.warning(
                "knowledge-base search failed; answering without it", extra={"error": str(error)}
            )
            return []
        return list(response.hits) if response is not None else []
