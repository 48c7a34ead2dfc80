"""llm's RPCs: the playground (Chat), usage (GetUsage) and the configured models (ListModels)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import grpc
from inbetwin.llm.v1 import llm_service_pb2 as pb
from inbetwin.llm.v1 import llm_service_pb2_grpc, usage_pb2
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.errors import ServiceError
from services.kit.identity import current_caller
from services.llm import repository
from services.llm.models import ModelRegistry
from services.llm.peers.auth import AuthClient
from services.llm.peers.base import PeerError
from services.llm.playground import Playground

MAX_MONTHS_BACK = 24


def month_bounds(period: str) -> tuple[datetime, datetime]:
    year, month = (int(part) for part in period.split("-"))
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def checked_period(period: str, now: datetime) -> str:
    current = now.strftime("%Y-%m")
    if not period:
        return current
    year, month = (int(part) for part in period.split("-"))
    months_back = (now.year - year) * 12 + (now.month - month)
    if months_back < 0 or months_back > MAX_MONTHS_BACK:
        raise ServiceError(
            grpc.StatusCode.INVALID_ARGUMENT,
            "PERIOD_OUT_OF_RANGE",
            f"period must be between {MAX_MONTHS_BACK} months ago and the current month",
        )
    return period


class LlmServicer(llm_service_pb2_grpc.LlmServiceServicer):
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        registry: ModelRegistry,
        auth: AuthClient,
        playground: Playground,
    ) -> None:
        self._engine = engine
        self._registry = registry
        self._auth = auth
        self._playground = playground

    async def Chat(
        self, request: pb.ChatRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.ChatResponse]:
        async for event in self._playground.chat(current_caller().user_id, request):
            yield event

    async def GetUsage(
        self, request: pb.GetUsageRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetUsageResponse:
        owner_id = current_caller().user_id
        now = datetime.now(UTC)
        period = checked_period(request.period, now)
        async with self._engine.connect() as conn:
            rows = await repository.usage_rows(conn, owner_id=owner_id, period=period)
        try:
            limit = await self._auth.monthly_message_limit(owner_id=owner_id) or 0
        except PeerError:
            limit = 0
        start, end = month_bounds(period)
        usage = usage_pb2.Usage(
            period=period,
            input_tokens=sum(r.input_tokens for r in rows),
            output_tokens=sum(r.output_tokens for r in rows),
            messages_answered=sum(r.messages_answered for r in rows),
            message_limit=limit,
            playground_input_tokens=sum(r.playground_input_tokens for r in rows),
            playground_output_tokens=sum(r.playground_output_tokens for r in rows),
            playground_replies=sum(r.playground_replies for r in rows),
        )
        usage.messages_remaining = max(0, limit - usage.messages_answered)
        usage.start_time.FromDatetime(start)
        usage.end_time.FromDatetime(end)
        usage.update_time.FromDatetime(max((r.updated_at for r in rows), default=now))
        agents = sorted(
            (r for r in rows if r.agent_id and (r.messages_answered or r.input_tokens)),
            key=lambda r: (-r.messages_answered, r.agent_id),
        )
        usage.agents.extend(
            usage_pb2.AgentUsage(
                agent_id=r.agent_id,
                input_tokens=r.input_tokens,
                output_tokens=r.output_tokens,
                messages_answered=r.messages_answered,
            )
            for r in agents
        )
        return pb.GetUsageResponse(usage=usage)

    async def ListModels(
        self, request: pb.ListModelsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListModelsResponse:
        models = self._registry.models()
        size = request.page_size or 50
        offset = _offset(request.page_token)
        page = models[offset : offset + size]
        following = offset + size
        token = _token(following) if following < len(models) else ""
        return pb.ListModelsResponse(models=page, next_page_token=token)


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"models:{offset}".encode()).decode()


def _offset(token: str) -> int:
    if not token:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        offset = int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise _bad_token() from error
    if kind != "models" or offset < 0:
        raise _bad_token()
    return offset


def _bad_token() -> ServiceError:
    return ServiceError(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN", "bad page token")
