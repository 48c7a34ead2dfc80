"""SocialService's RPC handlers: read the request, call the domain, map the result.

RPCs not overridden here answer UNIMPLEMENTED (the generated base class does that).
"""

from __future__ import annotations

from typing import Any

import grpc
from google.api import httpbody_pb2
from inbetwin.social.v1 import integration_pb2, social_service_pb2, social_service_pb2_grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.errors import ServiceError
from services.kit.identity import current_caller
from services.social import errors, page_tokens, repository
from services.social.connect import IntegrationConnector, TelegramConnectRequest
from services.social.inbound import WebhookReceiver
from services.social.mapping import enum_name, integration_to_proto
from services.social.models import Integration

Context = grpc.aio.ServicerContext[Any, Any]

DEFAULT_PAGE_SIZE = 50


class SocialServicer(social_service_pb2_grpc.SocialServiceServicer):
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        connector: IntegrationConnector,
        webhooks: WebhookReceiver,
        public_base_url: str,
    ) -> None:
        self._engine = engine
        self._connector = connector
        self._webhooks = webhooks
        self._public_base_url = public_base_url

    async def ConnectIntegration(
        self, request: social_service_pb2.ConnectIntegrationRequest, context: Context
    ) -> social_service_pb2.ConnectIntegrationResponse:
        owner_id = current_caller().user_id
        kind = request.WhichOneof("credentials")
        if kind != "telegram":
            raise errors.unsupported_platform(kind or "this platform")
        if request.delivery_mode == integration_pb2.DELIVERY_MODE_POLLING:
            raise ServiceError(
                grpc.StatusCode.UNIMPLEMENTED,
                "DELIVERY_MODE_UNSUPPORTED",
                "polling mode is not available yet; use webhook delivery",
            )
        integration = await self._connector.connect_telegram(
            TelegramConnectRequest(
                owner_id=owner_id,
                request_id=request.request_id,
                bot_token=request.telegram.bot_token,
                display_name=request.display_name,
                default_contact_policy=enum_name(
                    integration_pb2.ContactPolicy, "CONTACT_POLICY", request.default_contact_policy
                )
                or "allow_all",
            )
        )
        return social_service_pb2.ConnectIntegrationResponse(
            integration=self._integration(integration)
        )

    async def ListIntegrations(
        self, request: social_service_pb2.ListIntegrationsRequest, context: Context
    ) -> social_service_pb2.ListIntegrationsResponse:
        owner_id = current_caller().user_id
        platform = enum_name(integration_pb2.Platform, "PLATFORM", request.platform)
        status = enum_name(integration_pb2.IntegrationStatus, "INTEGRATION_STATUS", request.status)
        scope = f"integrations:{owner_id}:{platform}:{status}"
        page_size = request.page_size or DEFAULT_PAGE_SIZE
        async with self._engine.connect() as connection:
            found = await repository.list_integrations(
                connection,
                owner_id=owner_id,
                platform=platform,
                status=status,
                after=page_tokens.decode(request.page_token, scope=scope),
                limit=page_size + 1,
            )
        page = found[:page_size]
        next_token = ""
        if len(found) > page_size:
            last = page[-1]
            next_token = page_tokens.encode(scope=scope, created_at=last.created_at, row_id=last.id)
        return social_service_pb2.ListIntegrationsResponse(
            integrations=[self._integration(i) for i in page], next_page_token=next_token
        )

    async def GetIntegration(
        self, request: social_service_pb2.GetIntegrationRequest, context: Context
    ) -> social_service_pb2.GetIntegrationResponse:
        owner_id = current_caller().user_id
        async with self._engine.connect() as connection:
            integration = await repository.get_integration(
                connection, owner_id=owner_id, integration_id=request.integration_id
            )
        if integration is None:
            raise errors.integration_not_found()
        return social_service_pb2.GetIntegrationResponse(integration=self._integration(integration))

    async def HandleWebhook(
        self, request: social_service_pb2.HandleWebhookRequest, context: Context
    ) -> social_service_pb2.HandleWebhookResponse:
        await self._webhooks.receive(
            platform=request.platform,
            integration_id=request.integration_id.lower(),
            headers=_headers(context.invocation_metadata()),
            body=request.body.data,
            content_type=request.body.content_type,
        )
        return social_service_pb2.HandleWebhookResponse(
            body=httpbody_pb2.HttpBody(content_type="text/plain", data=b"")
        )

    def _integration(self, integration: Integration) -> integration_pb2.Integration:
        return integration_to_proto(integration, public_base_url=self._public_base_url)


def _headers(metadata: Any) -> dict[str, str]:
    """gRPC metadata as a header map: lower-cased names, first value wins, binary values skipped."""
    headers: dict[str, str] = {}
    for key, value in metadata or ():
        if isinstance(value, str):
            headers.setdefault(key.lower(), value)
    return headers
