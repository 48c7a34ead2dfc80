"""The rag service: knowledge-base search (documents and Q&A pairs)."""

from __future__ import annotations

import logging

from inbetwin.rag.v1 import rag_service_pb2 as pb
from inbetwin.rag.v1 import search_pb2

from services.llm.peers.base import Peer, PeerError

log = logging.getLogger("inbetwin.llm.peers.rag")


class RagClient:
    def __init__(self, peer: Peer) -> None:
        self._peer = peer

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
