"""Keeps the in-process agent cache honest: every llm instance hears the events that change what
it caches (a plain NATS subscription each, not a shared work queue) and drops the copies.

- AgentConfigChanged: the owner's agents, toolsets and controls (an agent enabled, disabled,
  re-scoped or given new working hours);
- HandoffRequested / HandoffResolved: the conversation's control (a human took over, or gave
  it back);
- ContactUpdated: the contact's control (paused or resumed by the owner, blocked, allowed);
- DocumentIndexed: whether the owner's agents have knowledge to search.

After a reconnect events may have been missed, so everything is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import nats
from google.protobuf.message import DecodeError, Message
from inbetwin.events.v1 import agent_events_pb2, rag_events_pb2, social_events_pb2
from nats.aio.client import Client
from nats.aio.msg import Msg

from services.kit.events import subject_of
from services.llm.peers.agent import AgentClient
from services.llm.peers.rag import RagClient

log = logging.getLogger("inbetwin.llm.invalidation")


def on_event(
    event_type: type[Message], apply: Callable[[Message], None]
) -> Callable[[Msg], Awaitable[None]]:
    async def handle(msg: Msg) -> None:
        try:
            event = event_type.FromString(msg.data)
        except DecodeError:
            log.warning("undecodable event", extra={"subject": msg.subject})
            return
        apply(event)

    return handle


class CacheInvalidation:
    def __init__(self, client: Client) -> None:
        self._client = client

    @classmethod
    async def connect(cls, nats_url: str, agents: AgentClient, rag: RagClient) -> CacheInvalidation:
        async def reconnected() -> None:
            log.info("invalidation feed reconnected; dropping the caches")
            agents.forget_all()
            rag.forget_all()

        client = await nats.connect(
            nats_url,
            name="llm-cache-invalidation",
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            reconnected_cb=reconnected,
        )

        def config_changed(event: Message) -> None:
            assert isinstance(event, agent_events_pb2.AgentConfigChanged)
            agents.forget_owner(event.owner_id)

        def handoff(event: Message) -> None:
            assert isinstance(
                event, agent_events_pb2.HandoffRequested | agent_events_pb2.HandoffResolved
            )
            agents.forget_contact(event.owner_id, event.handoff.contact_id)

        def contact_updated(event: Message) -> None:
            assert isinstance(event, social_events_pb2.ContactUpdated)
            agents.forget_contact(event.owner_id, event.contact.id)

        def document_indexed(event: Message) -> None:
            assert isinstance(event, rag_events_pb2.DocumentIndexed)
            rag.forget_owner(event.owner_id)

        subscriptions: list[tuple[type[Message], Callable[[Message], None]]] = [
            (agent_events_pb2.AgentConfigChanged, config_changed),
            (agent_events_pb2.HandoffRequested, handoff),
            (agent_events_pb2.HandoffResolved, handoff),
            (social_events_pb2.ContactUpdated, contact_updated),
            (rag_events_pb2.DocumentIndexed, document_indexed),
        ]
        for event_type, apply in subscriptions:
            await client.subscribe(subject_of(event_type), cb=on_event(event_type, apply))
        await client.flush()
        return cls(client)

    async def close(self) -> None:
        if not self._client.is_closed:
            await self._client.close()
