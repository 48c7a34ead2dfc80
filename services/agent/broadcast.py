"""Events every instance must see (not a work queue): the action log feeding the live streams,
and configuration changes dropping cached copies. A plain NATS subscription per instance on the
subjects the outbox relay publishes to JetStream."""

from __future__ import annotations

import logging
from collections.abc import Callable

import nats
from google.protobuf.message import DecodeError
from inbetwin.events.v1 import agent_events_pb2
from nats.aio.client import Client
from nats.aio.msg import Msg

from services.agent.activity_hub import ActivityHub
from services.kit.events import subject_of

log = logging.getLogger("inbetwin.agent.broadcast")

ConfigListener = Callable[[agent_events_pb2.AgentConfigChanged], None]


class Broadcast:
    def __init__(self, client: Client) -> None:
        self._client = client

    @classmethod
    async def connect(
        cls, nats_url: str, *, hub: ActivityHub, on_config_changed: ConfigListener
    ) -> Broadcast:
        client = await nats.connect(
            nats_url, name="agent-broadcast", max_reconnect_attempts=-1, reconnect_time_wait=0.5
        )

        async def on_action(msg: Msg) -> None:
            try:
                event = agent_events_pb2.AgentActionLogged.FromString(msg.data)
            except DecodeError:
                log.warning("undecodable action event")
                return
            hub.deliver(event.owner_id, event.action)

        async def on_config(msg: Msg) -> None:
            try:
                on_config_changed(agent_events_pb2.AgentConfigChanged.FromString(msg.data))
            except DecodeError:
                log.warning("undecodable config event")

        await client.subscribe(subject_of(agent_events_pb2.AgentActionLogged), cb=on_action)
        await client.subscribe(subject_of(agent_events_pb2.AgentConfigChanged), cb=on_config)
        await client.flush()
        return cls(client)

    async def close(self) -> None:
        if not self._client.is_closed:
            await self._client.close()
