"""llm's wiring: the reply pipeline consumes message.received, the facts recorder consumes the
agent's user_info.saved, and the servicer answers Chat, GetUsage and ListModels."""

from __future__ import annotations

import grpc
from inbetwin.agent.v1 import agent_service_pb2_grpc
from inbetwin.auth.v1 import auth_service_pb2_grpc
from inbetwin.events.v1 import agent_events_pb2, social_events_pb2
from inbetwin.llm.v1 import llm_service_pb2, llm_service_pb2_grpc
from inbetwin.rag.v1 import rag_service_pb2_grpc
from inbetwin.social.v1 import social_service_pb2_grpc

from services.kit.bus import ConsumerSpec
from services.kit.events import subject_of
from services.kit.runtime import Runtime
from services.kit.server import Closer
from services.llm.facts import FACTS_CONSUMER, FactsRecorder
from services.llm.generation import ReplyGenerator
from services.llm.guardrails.safety import SafetyChecker
from services.llm.invalidation import CacheInvalidation
from services.llm.models import ModelRegistry
from services.llm.peers.agent import AgentClient
from services.llm.peers.auth import AuthClient
from services.llm.peers.base import Peer
from services.llm.peers.rag import RagClient
from services.llm.peers.social import SocialClient
from services.llm.playground import Playground
from services.llm.replies import CONSUMER, ReplyPipeline
from services.llm.service import LlmServicer
from services.llm.settings import LlmSettings

SERVICE_NAMES = (llm_service_pb2.DESCRIPTOR.services_by_name["LlmService"].full_name,)


async def wire(server: grpc.aio.Server, settings: LlmSettings) -> list[Closer]:
    runtime = await Runtime.open(settings, name="llm")
    timeout = settings.peer_timeout_seconds
    peers = [
        Peer(
            "agent", settings.agent_addr, agent_service_pb2_grpc.AgentServiceStub, timeout=timeout
        ),
        Peer("rag", settings.rag_addr, rag_service_pb2_grpc.RagServiceStub, timeout=timeout),
        Peer(
            "social",
            settings.social_addr,
            social_service_pb2_grpc.SocialServiceStub,
            timeout=timeout,
        ),
        Peer("auth", settings.auth_addr, auth_service_pb2_grpc.AuthServiceStub, timeout=timeout),
    ]
    agent_peer, rag_peer, social_peer, auth_peer = peers
    agents = AgentClient(
        agent_peer,
        cache_seconds=settings.agent_cache_seconds,
        control_cache_seconds=settings.control_cache_seconds,
    )
    rag = RagClient(rag_peer, knowledge_cache_seconds=settings.knowledge_cache_seconds)
    auth = AuthClient(auth_peer, cache_seconds=settings.entitlements_cache_seconds)
    invalidation = await CacheInvalidation.connect(settings.nats_url, agents, rag)
    registry = ModelRegistry(settings)
    generator = ReplyGenerator(registry, settings)
    safety = SafetyChecker(registry.moderation_client(), model=settings.moderation_model)
    pipeline = ReplyPipeline(
        engine=runtime.engine,
        relay=runtime.relay,
        settings=settings,
        agents=agents,
        rag=rag,
        social=SocialClient(social_peer),
        auth=auth,
        generator=generator,
        safety=safety,
    )
    runtime.bus.consume(
        ConsumerSpec(
            durable=CONSUMER,
            subjects=[subject_of(social_events_pb2.MessageReceived)],
            ack_wait_seconds=settings.consumer_ack_wait_seconds,
            concurrency=settings.consumer_concurrency,
            batch=settings.consumer_batch,
            max_deliver=8,
        ),
        social_events_pb2.MessageReceived,
        pipeline.handle,
    )
    runtime.bus.consume(
        ConsumerSpec(durable=FACTS_CONSUMER, subjects=[subject_of(agent_events_pb2.UserInfoSaved)]),
        agent_events_pb2.UserInfoSaved,
        FactsRecorder(runtime.engine).handle,
    )
    playground = Playground(
        engine=runtime.engine,
        redis=runtime.redis,
        settings=settings,
        registry=registry,
        agents=agents,
        rag=rag,
        generator=generator,
        safety=safety,
    )
    llm_service_pb2_grpc.add_LlmServiceServicer_to_server(
        LlmServicer(engine=runtime.engine, registry=registry, auth=auth, playground=playground),
        server,
    )

    async def close_clients() -> None:
        for peer in peers:
            await peer.close()
        await registry.close()

    return [invalidation.close, close_clients, runtime.close]
