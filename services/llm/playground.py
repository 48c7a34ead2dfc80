"""The playground: a conversation answered as the agent would, streamed event by event, with
nothing sent to any platform (and tools simulated unless `live_tools`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import grpc
from google.rpc import code_pb2
from inbetwin.llm.v1 import chat_pb2
from inbetwin.llm.v1 import llm_service_pb2 as pb
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.errors import ServiceError
from services.llm import repository
from services.llm.context import Turn, chat_messages, citation_of, system_prompt
from services.llm.drafts import Draft, ToolCallRecord
from services.llm.gating import period_of
from services.llm.generation import ReplyGenerator, ReplyRequest
from services.llm.guardrails.safety import SafetyChecker
from services.llm.guardrails.sentiment import assess
from services.llm.model_loop import ModelError
from services.llm.models import ModelRegistry
from services.llm.peers.agent import AgentClient
from services.llm.peers.base import PeerError
from services.llm.peers.rag import RagClient
from services.llm.profiles import AgentProfile, default_profile, profile_of
from services.llm.settings import LlmSettings
from services.llm.splitting import PART_SEPARATOR, split_reply
from services.llm.tools import AgentToolRunner

log = logging.getLogger("inbetwin.llm.playground")

ERROR_CODES = {
    "MODEL_UNAVAILABLE": code_pb2.UNAVAILABLE,
    "MODEL_TIMEOUT": code_pb2.DEADLINE_EXCEEDED,
    "MODEL_RATE_LIMITED": code_pb2.RESOURCE_EXHAUSTED,
}
_DONE = object()


class _StreamObserver:
    """Turns the model loop's progress into ChatResponse events on a queue."""

    def __init__(self, queue: asyncio.Queue[object]) -> None:
        self._queue = queue

    async def delta(self, text: str, step: int) -> None:
        await self._queue.put(pb.ChatResponse(delta=chat_pb2.TokenDelta(text=text, step=step)))

    async def tool_call(self, record: ToolCallRecord) -> None:
        await self._queue.put(
            pb.ChatResponse(
                tool_call=chat_pb2.ChatToolCall(
                    call_id=record.call_id,
                    name=record.name,
                    arguments_json=record.arguments_json,
                    step=record.step,
                )
            )
        )

    async def tool_result(self, record: ToolCallRecord) -> None:
        result = chat_pb2.ChatToolResult(
            call_id=record.call_id,
            name=record.name,
            status=record.status,  # type: ignore[arg-type]
            result_json=record.result_json,
            error_reason=record.error_reason,
            error_message=record.error_message,
            simulated=record.simulated,
            action_id=record.action_id,
        )
        result.duration.FromNanoseconds(int(record.duration_seconds * 1e9))
        await self._queue.put(pb.ChatResponse(tool_result=result))


class Playground:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        redis: Redis,
        settings: LlmSettings,
        registry: ModelRegistry,
        agents: AgentClient,
        rag: RagClient,
        generator: ReplyGenerator,
        safety: SafetyChecker,
    ) -> None:
        self._engine = engine
        self._redis = redis
        self._settings = settings
        self._registry = registry
        self._agents = agents
        self._rag = rag
        self._generator = generator
        self._safety = safety

    async def chat(self, owner_id: str, request: pb.ChatRequest) -> AsyncIterator[pb.ChatResponse]:
        started = time.monotonic()
        if request.messages[-1].role != chat_pb2.CHAT_ROLE_USER:
            raise ServiceError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "LAST_MESSAGE_NOT_FROM_USER",
                "the last message must be the contact's",
            )
        if request.model_override and not self._registry.knows(request.model_override):
            raise ServiceError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "MODEL_NOT_CONFIGURED",
                f"model {request.model_override!r} is not served here (see ListModels)",
            )
        profile = await self._profile(owner_id, request)
        await self._rate_limit(owner_id)
        question = _last_user_turns(request)
        contact = request.contact
        facts: dict[str, str] = {}
        if contact.contact_id:
            async with self._engine.connect() as conn:
                facts = await repository.facts_of(
                    conn, owner_id=owner_id, contact_id=contact.contact_id
                )
        hits = await self._rag.search(
            owner_id=owner_id,
            query=question,
            agent_id=profile.agent_id,
            top_k=self._settings.kb_top_k,
        )
        for hit in hits:
            yield pb.ChatResponse(citation=citation_of(hit))
        assessment = assess(question)
        prompt = system_prompt(
            profile,
            facts=facts,
            hits=hits,
            assessment=assessment,
            contact_name=contact.display_name,
            contact_language=contact.language,
        )
        turns = [
            Turn("user" if m.role == chat_pb2.CHAT_ROLE_USER else "assistant", m.content)
            for m in request.messages
        ]
        call_prefix = f"playground-{uuid.uuid4()}"
        runner = AgentToolRunner(
            self._agents,
            owner_id=owner_id,
            agent_id=profile.agent_id,
            integration_id="",
            contact_id=contact.contact_id if request.live_tools else "",
            message_id="",
            call_prefix=call_prefix,
            dry_run=not request.live_tools,
            timeout=self._settings.model_timeout_seconds,
        )
        queue: asyncio.Queue[object] = asyncio.Queue()
        outcome: list[Draft | BaseException] = []

        async def produce() -> None:
            try:
                outcome.append(
                    await self._generator.generate(
                        ReplyRequest(
                            profile=profile,
                            messages=chat_messages(prompt, turns),
                            question=question,
                            hits=hits,
                            runner=runner,
                            stream=True,
                            call_prefix=call_prefix,
                            model_override=request.model_override,
                        ),
                        _StreamObserver(queue),
                    )
                )
            except Exception as error:  # reported in the stream, not as a broken RPC
                outcome.append(error)
            finally:
                await queue.put(_DONE)

        task = asyncio.create_task(produce())
        try:
            while (item := await queue.get()) is not _DONE:
                assert isinstance(item, pb.ChatResponse)
                yield item
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        result = outcome[0] if outcome else RuntimeError("no outcome")
        if isinstance(result, BaseException):
            yield _error_event(result)
            yield pb.ChatResponse(end=chat_pb2.ChatEnd(completed=False))
            return
        final = await self._final(owner_id, profile.agent_id, result, assessment.label, started)
        yield pb.ChatResponse(final=final)
        yield pb.ChatResponse(end=chat_pb2.ChatEnd(completed=True))

    async def _final(
        self, owner_id: str, agent_id: str, draft: Draft, sentiment: int, started: float
    ) -> chat_pb2.ChatFinal:
        parts = split_reply(draft.text, None, self._settings.max_reply_parts)
        text = PART_SEPARATOR.join(parts)
        verdict = await self._safety.check(text)
        finish = draft.finish
        reason = draft.escalation_reason
        if verdict.flagged:
            finish, reason = chat_pb2.FINISH_REASON_SUPPRESSED, "REPLY_UNSAFE"
        async with self._engine.begin() as conn:
            await repository.add_usage(
                conn,
                owner_id=owner_id,
                period=period_of(datetime.now(UTC)),
                agent_id=agent_id,
                playground_input_tokens=draft.input_tokens,
                playground_output_tokens=draft.output_tokens,
                playground_replies=1,
            )
        final = chat_pb2.ChatFinal(
            text=text,
            finish_reason=finish,  # type: ignore[arg-type]
            provider=draft.provider,  # type: ignore[arg-type]
            fallback=draft.fallback,
            model=draft.model,
            usage=chat_pb2.TokenUsage(
                input_tokens=draft.input_tokens,
                output_tokens=draft.output_tokens,
                model_calls=draft.model_calls,
                tool_calls=len(draft.tool_calls),
            ),
            sentiment=sentiment,  # type: ignore[arg-type]
            safety=chat_pb2.SafetyCheck(
                flagged=verdict.flagged,
                categories=list(verdict.categories),
                checker=verdict.checker,
            ),
            escalation_reason=reason,
            part_count=max(1, len(parts)),
        )
        final.duration.FromNanoseconds(int((time.monotonic() - started) * 1e9))
        return final

    async def _profile(self, owner_id: str, request: pb.ChatRequest) -> AgentProfile:
        try:
            toolset = await self._agents.toolset(owner_id=owner_id, agent_id=request.agent_id)
        except PeerError as error:
            if error.code == grpc.StatusCode.NOT_FOUND:
                raise ServiceError(
                    grpc.StatusCode.NOT_FOUND, "AGENT_NOT_FOUND", "agent not found"
                ) from error
            raise
        if toolset is None:
            log.warning("agent unknown (agent service unavailable); playground uses defaults")
            profile = default_profile()
        else:
            profile = profile_of(toolset.agent, list(toolset.tools))
        if request.system_prompt_override:
            profile = replace(profile, system_prompt=request.system_prompt_override)
        return profile

    async def _rate_limit(self, owner_id: str) -> None:
        now = time.time()
        minute = int(now // 60)
        key = f"llm:playground:{owner_id}:{minute}"
        count = await self._redis.incr(key)
        if count == 1:
            await self._redis.expire(key, 120)
        if count > self._settings.playground_chats_per_minute:
            raise ServiceError(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "PLAYGROUND_RATE_LIMITED",
                "too many playground chats; retry shortly",
                retry_after_seconds=60 - (now % 60),
            )


def _last_user_turns(request: pb.ChatRequest) -> str:
    """The contact's latest messages (after the agent's last one), as the search query."""
    texts: list[str] = []
    for message in reversed(request.messages):
        if message.role != chat_pb2.CHAT_ROLE_USER:
            break
        texts.append(message.content)
    return "\n".join(reversed(texts))


def _error_event(error: BaseException) -> pb.ChatResponse:
    if isinstance(error, ModelError):
        return pb.ChatResponse(
            error=chat_pb2.ChatError(
                code=ERROR_CODES.get(error.reason, code_pb2.UNAVAILABLE),
                reason=error.reason,
                message=str(error),
                retryable=error.retryable,
            )
        )
    log.error("playground chat failed", exc_info=error)
    return pb.ChatResponse(
        error=chat_pb2.ChatError(
            code=code_pb2.INTERNAL, reason="INTERNAL", message="internal error", retryable=False
        )
    )
