"""Whether the agent may answer now, and if not, why (an llm ErrorReason name).

Three gates, cheapest first: what the event says (contact allowed, agent not paused), what the
agent service says about the conversation (handoff open, agent disabled, outside working hours,
integration not served) and the plan's monthly message limit. A peer that cannot answer opens
its gate (logged by the peer client): the event's `agent_may_reply` already covers handoffs
that social mirrors, and an unenforced limit is better than silence.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from inbetwin.agent.v1 import handoff_pb2
from inbetwin.events.v1 import social_events_pb2

from services.llm.peers.agent import AgentClient
from services.llm.peers.auth import AuthClient
from services.llm.peers.base import PeerError

log = logging.getLogger("inbetwin.llm.gating")

BLOCK_REASONS = {
    handoff_pb2.REPLY_BLOCK_HANDOFF_OPEN: "CONVERSATION_HANDED_OFF",
    handoff_pb2.REPLY_BLOCK_AGENT_DISABLED: "AGENT_DISABLED",
    handoff_pb2.REPLY_BLOCK_OUTSIDE_WORKING_HOURS: "OUTSIDE_WORKING_HOURS",
    handoff_pb2.REPLY_BLOCK_INTEGRATION_NOT_SERVED: "NO_AGENT_FOR_INTEGRATION",
}


def period_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def event_gate(event: social_events_pb2.MessageReceived) -> str:
    if event.agent_may_reply:
        return ""
    if event.contact.agent_paused:
        return "CONVERSATION_HANDED_OFF"
    return "CONTACT_NOT_ALLOWED"


async def control_gate(
    agents: AgentClient, *, owner_id: str, integration_id: str, contact_id: str, agent_id: str
) -> str:
    try:
        control = await agents.control(
            owner_id=owner_id,
            integration_id=integration_id,
            contact_id=contact_id,
            agent_id=agent_id,
        )
    except PeerError as error:
        if error.reason == "AGENT_NOT_FOUND":
            return "NO_AGENT_FOR_INTEGRATION"
        raise
    if control is None or control.may_reply:
        return ""
    for block in control.blocks:
        if block in BLOCK_REASONS:
            return BLOCK_REASONS[block]
    return "CONVERSATION_HANDED_OFF"


async def limit_gate(auth: AuthClient, *, owner_id: str, answered: int) -> str:
    """`answered`: the owner's messages answered this period (read by the caller)."""
    try:
        limit = await auth.monthly_message_limit(owner_id=owner_id)
    except PeerError:
        log.exception("entitlements unknown; the message limit is not enforced for this reply")
        return ""
    if limit is None:
        return ""
    return "MESSAGE_LIMIT_REACHED" if answered >= limit else ""
