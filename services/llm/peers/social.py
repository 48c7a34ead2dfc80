"""The social service: a conversation's contact, integration and recent messages."""

from __future__ import annotations

import logging

from inbetwin.social.v1 import social_service_pb2 as pb

from services.llm.peers.base import Peer, PeerError

log = logging.getLogger("inbetwin.llm.peers.social")


class SocialClient:
    def __init__(self, peer: Peer) -> None:
        self._peer = peer

    async def conversation(
        self, *, owner_id: str, contact_id: str, until_message_id: str, max_messages: int
    ) -> pb.GetConversationContextResponse | None:
        """The contact and its latest messages up to `until_message_id`; None when unknown."""
        if max_messages <= 0:
            return None
        try:
            return await self._peer.call(
                "GetConversationContext",
                pb.GetConversationContextRequest(
                    contact_id=contact_id,
                    max_messages=max_messages,
                    until_message_id=until_message_id,
                ),
                pb.GetConversationContextResponse,
                owner_id=owner_id,
            )
        except PeerError as error:
            log.warning(
                "conversation context failed; answering from the burst alone",
                extra={"error": str(error)},
            )
            return None
