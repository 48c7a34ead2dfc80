"""The reply pipeline, consuming message.received: record → coalesce → select the agent → gate
→ build the context → generate → guard → emit exactly once.

Burst coalescing uses the bus as a durable timer: a message seen for the first time is recorded
(with its sentiment, published as inbound.assessed) and redelivered after the coalescing window
(`RetryLaterError`). On redelivery it is answered only if it is still the contact's newest
message; older ones are answered with it, in the newest one's reply. A message that arrives
while a reply is generated supersedes that reply: the emission transaction sees it and drops
the reply (logged), and the newer message's redelivery answers the whole burst.

A chatty contact cannot hold the answer back forever: the wait for more messages never runs
past `max_burst_seconds` from the burst's first message, and a burst that long is claimed by
its reply (status `answering`) before the model is called, so messages arriving meanwhile
start the next burst instead of superseding it. The agent's reply delay is kept the same way
as the window, by redelivery, so the consumer is never held.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from inbetwin.agent.v1 import action_pb2
from inbetwin.events.v1 import llm_events_pb2, social_events_pb2
from inbetwin.llm.v1 import chat_pb2
from inbetwin.rag.v1 import search_pb2
from inbetwin.rag.v1.search_pb2 import SearchHit
from inbetwin.social.v1 import message_pb2
from inbetwin.social.v1.social_service_pb2 import GetConversationContextResponse
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.bus import RetryLaterError
from services.kit.events import deterministic_id, new_event
from services.kit.outbox import OutboxRelay, add_event, claim_event
from services.llm import repository
from services.llm.actions import ActionLog
from services.llm.context import Turn, chat_messages, system_prompt
from services.llm.drafts import Draft, SilentObserver
from services.llm.emission import REPLY_CONSUMER, Closing, Outcome, close_burst, reply_id_for
from services.llm.gating import control_gate, event_gate, limit_gate, period_of
from services.llm.generation import ReplyGenerator, ReplyRequest
from services.llm.guardrails.safety import SafetyChecker
from services.llm.guardrails.sentiment import Assessment, assess
from services.llm.peers.agent import AgentClient
from services.llm.peers.auth import AuthClient
from services.llm.peers.rag import RagClient
from services.llm.peers.social import SocialClient
from services.llm.profiles import AgentProfile
from services.llm.repository import InboundRow
from services.llm.selection import select_agent
from services.llm.settings import LlmSettings
from services.llm.spans import step
from services.llm.splitting import PART_SEPARATOR, limit_for, split_reply
from services.llm.tools import AgentToolRunner

log = logging.getLogger("inbetwin.llm.replies")

CONSUMER = REPLY_CONSUMER
MAX_BURST_AGE = timedelta(minutes=10)
A = action_pb2


class ReplyPipeline:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        relay: OutboxRelay,
        settings: LlmSettings,
        agents: AgentClient,
        rag: RagClient,
        social: SocialClient,
        auth: AuthClient,
        generator: ReplyGenerator,
        safety: SafetyChecker,
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._settings = settings
        self._agents = agents
        self._rag = rag
        self._social = social
        self._auth = auth
        self._generator = generator
        self._safety = safety
        self._actions = ActionLog(agents)

    async def handle(self, event: social_events_pb2.MessageReceived) -> None:
        message = event.message
        text = message.text.strip()
        if not text or event.stale:
            async with self._engine.begin() as conn:
                await claim_event(conn, CONSUMER, event.event_id)
            log.info(
                "not answering",
                extra={"message_id": message.id, "stale": event.stale, "empty": not text},
            )
            return
        assessment = assess(text)
        gate = event_gate(event)
        first_seen, burst_age = await self._record(event, assessment, gate)
        if gate:
            if first_seen:
                await self._skipped(event, "", gate, [message.id])
            return
        if first_seen:
            # Wait for the rest of the burst, but never past the burst's maximum length.
            wait = min(
                self._settings.coalesce_window_seconds,
                self._settings.max_burst_seconds - burst_age,
            )
            if wait > 0:
                raise RetryLaterError(wait, "coalescing a burst")
        await self._answer(event, assessment)

    async def _record(
        self, event: social_events_pb2.MessageReceived, assessment: Assessment, gate: str
    ) -> tuple[bool, float]:
        """Record the message (once); whether it was new, and its burst's age in seconds."""
        message = event.message
        created = message.create_time.ToDatetime(UTC) if message.HasField("create_time") else None
        burst_age = 0.0
        async with self._engine.begin() as conn:
            first_seen = await repository.record_inbound(
                conn,
                message_id=message.id,
                owner_id=event.owner_id,
                integration_id=message.integration_id,
                contact_id=message.contact_id,
                event_id=event.event_id,
                text=message.text,
                message_time=created or datetime.now(UTC),
                status=repository.SKIPPED if gate else repository.PENDING,
                reason=gate,
                sentiment=assessment.score,
                intents=assessment.intents,
            )
            if first_seen:
                await add_event(
                    conn,
                    new_event(
                        llm_events_pb2.InboundAssessed,
                        event_id=deterministic_id("assessed", message.id),
                        owner_id=event.owner_id,
                        message_id=message.id,
                        contact_id=message.contact_id,
                        sentiment=assessment.score,
                        intents=list(assessment.intents),
                    ),
                )
                if not gate and self._settings.coalesce_window_seconds > 0:
                    burst_age = await repository.burst_age_seconds(
                        conn,
                        owner_id=event.owner_id,
                        contact_id=message.contact_id,
                        max_age=MAX_BURST_AGE,
                    )
            if gate:
                await claim_event(conn, CONSUMER, event.event_id)
        if first_seen:
            self._relay.notify()
        return first_seen, burst_age

    async def _answer(
        self, event: social_events_pb2.MessageReceived, assessment: Assessment
    ) -> None:
        owner_id = event.owner_id
        async with self._engine.connect() as conn:
            newest = await repository.get_inbound(
                conn, owner_id=owner_id, message_id=event.message.id
            )
            reply_id = reply_id_for(newest.message_id) if newest else ""
            # Claimed by its own reply: a capped burst whose reply was being written when the
            # process stopped. Claimed by another: being answered in a newer message's burst.
            claimed = newest is not None and newest.status == repository.ANSWERING
            if (
                newest is None
                or newest.status not in repository.OPEN
                or (claimed and newest.reply_id != reply_id)
            ):
                return  # answered with a newer message's burst, or already handled
            burst = await repository.pending_burst(
                conn, newest, max_age=MAX_BURST_AGE, reply_id=reply_id
            )
            if not claimed and await repository.has_newer(conn, newest):
                log.info("coalesced into a newer message", extra={"message_id": newest.message_id})
                return
            capped = (
                claimed
                or (datetime.now(UTC) - burst[0].recorded_at).total_seconds()
                >= self._settings.max_burst_seconds
            )
            facts = await repository.facts_of(conn, owner_id=owner_id, contact_id=newest.contact_id)
            answered = await repository.messages_answered(
                conn, owner_id=owner_id, period=period_of(datetime.now(UTC))
            )
        burst_ids = [row.message_id for row in burst]
        question = "\n".join(row.text for row in burst)
        selection = await select_agent(
            self._agents, owner_id=owner_id, integration_id=newest.integration_id, text=question
        )
        if selection.profile is None:
            await self._close_skipped(newest, burst, "", selection.skip_reason)
            return
        profile = selection.profile
        # The gates and the context are independent: asked for together.
        reason, (context, hits) = await asyncio.gather(
            self._gate(newest, profile, answered),
            self._context(newest, profile, question),
        )
        if reason:
            await self._close_skipped(newest, burst, profile.agent_id, reason)
            return
        self._wait_reply_delay(newest, profile)
        if capped and not claimed:
            async with self._engine.begin() as conn:
                await repository.claim_burst(
                    conn, owner_id=owner_id, message_ids=burst_ids, reply_id=reply_id
                )
        draft = await self._draft(
            event, newest, burst, profile, question, assessment, facts, context, hits
        )
        await self._finish(
            event,
            newest,
            burst,
            burst_ids,
            profile,
            draft,
            assessment,
            supersedable=not capped,
        )

    def _wait_reply_delay(self, newest: InboundRow, profile: AgentProfile) -> None:
        """The agent's reply delay, counted from the end of coalescing, without holding the
        consumer: the message comes back when it is due (a newer one meanwhile supersedes)."""
        if profile.reply_delay_seconds <= 0:
            return
        due = newest.recorded_at + timedelta(
            seconds=self._settings.coalesce_window_seconds + profile.reply_delay_seconds
        )
        remaining = (due - datetime.now(UTC)).total_seconds()
        if remaining > 0:
            raise RetryLaterError(remaining, "waiting for the agent's reply delay")

    async def _gate(self, newest: InboundRow, profile: AgentProfile, answered: int) -> str:
        control, limit = await asyncio.gather(
            control_gate(
                self._agents,
                owner_id=newest.owner_id,
                integration_id=newest.integration_id,
                contact_id=newest.contact_id,
                agent_id=profile.agent_id,
            ),
            limit_gate(self._auth, owner_id=newest.owner_id, answered=answered),
        )
        return control or limit

    async def _context(
        self, newest: InboundRow, profile: AgentProfile, question: str
    ) -> tuple[GetConversationContextResponse | None, list[search_pb2.SearchHit]]:
        owner_id = newest.owner_id
        context, hits = await asyncio.gather(
            self._social.conversation(
                owner_id=owner_id,
                contact_id=newest.contact_id,
                until_message_id=newest.message_id,
                max_messages=self._settings.history_messages,
            ),
            self._search(owner_id, question, profile.agent_id),
        )
        return context, hits

    async def _search(self, owner_id: str, question: str, agent_id: str) -> list[SearchHit]:
        if not await self._rag.has_knowledge(owner_id=owner_id, agent_id=agent_id):
            return []
        return await self._rag.search(
            owner_id=owner_id, query=question, agent_id=agent_id, top_k=self._settings.kb_top_k
        )

    async def _draft(
        self,
        event: social_events_pb2.MessageReceived,
        newest: InboundRow,
        burst: list[InboundRow],
        profile: AgentProfile,
        question: str,
        assessment: Assessment,
        facts: dict[str, str],
        context: GetConversationContextResponse | None,
        hits: list[search_pb2.SearchHit],
    ) -> Draft:
        owner_id = newest.owner_id
        burst_ids = {row.message_id for row in burst}
        history = context.messages if context is not None else []
        turns = [
            Turn(
                "user" if m.direction == message_pb2.MESSAGE_DIRECTION_INBOUND else "assistant",
                m.text,
            )
            for m in history
            if m.id not in burst_ids
        ]
        # The burst always ends the conversation, whatever the history holds.
        turns.extend(Turn("user", row.text) for row in burst)
        contact = event.contact
        prompt = system_prompt(
            profile,
            facts=facts,
            hits=hits,
            assessment=assessment,
            contact_name=contact.display_name or contact.platform_display_name,
        )
        runner = AgentToolRunner(
            self._agents,
            owner_id=owner_id,
            agent_id=profile.agent_id,
            integration_id=newest.integration_id,
            contact_id=newest.contact_id,
            message_id=newest.message_id,
            call_prefix=newest.message_id,
            dry_run=False,
            timeout=self._settings.model_timeout_seconds,
        )
        with step("model"):
            return await self._generator.generate(
                ReplyRequest(
                    profile=profile,
                    messages=chat_messages(prompt, turns),
                    question=question,
                    hits=hits,
                    runner=runner,
                    stream=False,
                    call_prefix=newest.message_id,
                ),
                SilentObserver(),
            )

    async def _finish(
        self,
        event: social_events_pb2.MessageReceived,
        newest: InboundRow,
        burst: list[InboundRow],
        burst_ids: list[str],
        profile: AgentProfile,
        draft: Draft,
        assessment: Assessment,
        *,
        supersedable: bool,
    ) -> None:
        parts = split_reply(draft.text, limit_for(event.platform), self._settings.max_reply_parts)
        text = PART_SEPARATOR.join(parts)
        with step("safety"):
            verdict = await self._safety.check(text) if text else None
        suppressed = ""
        if verdict is not None and verdict.flagged:
            suppressed, text = text, ""
            draft.finish = chat_pb2.FINISH_REASON_SUPPRESSED
            draft.escalation_reason = "REPLY_UNSAFE"
        status = repository.ANSWERED
        reason = draft.escalation_reason
        if draft.escalates or not text:
            status = repository.SUPPRESSED if suppressed else repository.ESCALATED
        if text:
            # Re-checked just before sending: a human may have taken over while it was written.
            late = await control_gate(
                self._agents,
                owner_id=newest.owner_id,
                integration_id=newest.integration_id,
                contact_id=newest.contact_id,
                agent_id=profile.agent_id,
            )
            if late:
                text, status, reason = "", repository.SKIPPED, late
        with step("emit"):
            outcome = await close_burst(
                self._engine,
                newest=newest,
                burst=burst,
                closing=Closing(
                    text=text,
                    status=status,
                    reason=reason,
                    agent_id=profile.agent_id,
                    input_tokens=draft.input_tokens,
                    output_tokens=draft.output_tokens,
                    supersedable=supersedable,
                ),
            )
        common = {
            "owner_id": newest.owner_id,
            "agent_id": profile.agent_id,
            "integration_id": newest.integration_id,
            "contact_id": newest.contact_id,
            "message_id": newest.message_id,
        }
        if outcome is Outcome.DUPLICATE:
            log.info("reply already handled", extra={"message_id": newest.message_id})
            return
        if outcome is Outcome.SUPERSEDED:
            await self._actions.record(
                kind=A.ACTION_KIND_REPLY_SUPERSEDED,
                status=A.ACTION_STATUS_SUCCEEDED,
                reason="REPLY_SUPERSEDED",
                details={"text": text, "burst": burst_ids},
                **common,
            )
            return
        if outcome is Outcome.SENT:
            self._relay.notify()
            await self._actions.record(
                kind=A.ACTION_KIND_REPLY_SENT,
                status=A.ACTION_STATUS_SUCCEEDED,
                reason=reason if draft.escalates else "",
                details={
                    "text": text,
                    "model": draft.model,
                    "provider": chat_pb2.Provider.Name(draft.provider),
                    "fallback": draft.fallback,
                    "input_tokens": draft.input_tokens,
                    "output_tokens": draft.output_tokens,
                    "sentiment": assessment.score,
                    "parts": len(parts),
                    "burst": burst_ids,
                    "citations": [c.qa_pair_id or c.chunk_id for c in draft.citations],
                },
                **common,
            )
        if status == repository.SKIPPED:
            await self._actions.record(
                kind=A.ACTION_KIND_REPLY_SKIPPED,
                status=A.ACTION_STATUS_SUCCEEDED,
                reason=reason,
                details={"burst": burst_ids},
                **common,
            )
            return
        if suppressed:
            await self._actions.record(
                kind=A.ACTION_KIND_REPLY_SUPPRESSED,
                status=A.ACTION_STATUS_REJECTED,
                reason="REPLY_UNSAFE",
                details={
                    "text": suppressed,
                    "categories": list(verdict.categories if verdict else ()),
                    "checker": verdict.checker if verdict else "",
                },
                **common,
            )
        if draft.escalates and not draft.handoff_opened:
            await self._agents.request_handoff(
                owner_id=newest.owner_id,
                integration_id=newest.integration_id,
                contact_id=newest.contact_id,
                agent_id=profile.agent_id,
                message_id=newest.message_id,
                reason=f"llm guardrail: {draft.escalation_reason}",
                request_id=deterministic_id("llm-handoff", newest.message_id),
            )
            if not suppressed:
                await self._actions.record(
                    kind=A.ACTION_KIND_REPLY_SKIPPED,
                    status=A.ACTION_STATUS_SUCCEEDED,
                    reason=draft.escalation_reason,
                    error_message="not answered: the conversation was escalated to a human",
                    details={"burst": burst_ids},
                    **common,
                )

    async def _close_skipped(
        self, newest: InboundRow, burst: list[InboundRow], agent_id: str, reason: str
    ) -> None:
        outcome = await close_burst(
            self._engine,
            newest=newest,
            burst=burst,
            closing=Closing(text="", status=repository.SKIPPED, reason=reason, agent_id=agent_id),
        )
        if outcome is Outcome.CLOSED:
            await self._skipped_rows(newest, agent_id, reason, [row.message_id for row in burst])

    async def _skipped(
        self,
        event: social_events_pb2.MessageReceived,
        agent_id: str,
        reason: str,
        message_ids: list[str],
    ) -> None:
        await self._actions.record(
            owner_id=event.owner_id,
            kind=A.ACTION_KIND_REPLY_SKIPPED,
            status=A.ACTION_STATUS_SUCCEEDED,
            agent_id=agent_id,
            integration_id=event.message.integration_id,
            contact_id=event.message.contact_id,
            message_id=event.message.id,
            reason=reason,
            details={"burst": message_ids},
        )

    async def _skipped_rows(
        self, newest: InboundRow, agent_id: str, reason: str, message_ids: list[str]
    ) -> None:
        await self._actions.record(
            owner_id=newest.owner_id,
            kind=A.ACTION_KIND_REPLY_SKIPPED,
            status=A.ACTION_STATUS_SUCCEEDED,
            agent_id=agent_id,
            integration_id=newest.integration_id,
            contact_id=newest.contact_id,
            message_id=newest.message_id,
            reason=reason,
            details={"burst": message_ids},
        )
