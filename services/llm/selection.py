"""Which agent answers: the owner's enabled agents serving the integration, then, when there
are several, the one whose description best matches the message (ties: the oldest)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from inbetwin.agent.v1 import agent_pb2

from services.llm.offline import content_words
from services.llm.peers.agent import AgentClient
from services.llm.peers.base import PeerError
from services.llm.profiles import AgentProfile, default_profile, profile_of

log = logging.getLogger("inbetwin.llm.selection")


@dataclass(frozen=True, slots=True)
class Selection:
    profile: AgentProfile | None
    skip_reason: str = ""


def best_match(agents: list[agent_pb2.Agent], text: str) -> agent_pb2.Agent:
    asked = content_words(text)
    best, best_score = agents[0], 0.0
    for agent in agents:
        if not agent.description:
            continue
        described = content_words(agent.description)
        score = len(asked & described) / (len(described) or 1)
        if score > best_score:
            best, best_score = agent, score
    return best


async def select_agent(
    agents: AgentClient, *, owner_id: str, integration_id: str, text: str
) -> Selection:
    listed = await agents.enabled_agents(owner_id=owner_id, integration_id=integration_id)
    if listed is None:
        return Selection(default_profile())
    if not listed:
        return Selection(None, "NO_AGENT_FOR_INTEGRATION")
    chosen = best_match(listed, text)
    try:
        toolset = await agents.toolset(owner_id=owner_id, agent_id=chosen.id)
    except PeerError as error:
        if error.reason == "AGENT_NOT_FOUND":  # deleted since it was listed
            return Selection(None, "NO_AGENT_FOR_INTEGRATION")
        raise
    if toolset is None:
        log.warning("agent tools unknown; answering without tools", extra={"agent_id": chosen.id})
        return Selection(profile_of(chosen))
    return Selection(profile_of(toolset.agent, list(toolset.tools)))
