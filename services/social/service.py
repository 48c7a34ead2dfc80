"""SocialService's RPC handlers: read the request, call the domain, map the result.

Every handler acts for the caller from `x-user-id` (`current_caller()`), except the public ones
(webhooks, the OAuth callback). RPCs not overridden here answer UNIMPLEMENTED (the generated
base class does that).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import grpc
from google.api import httpbody_pb2
from inbetwin.social.v1 import (
    contact_pb2,
    integration_pb2,
    social_service_pb2,
    social_service_pb2_grpc,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.identity import current_caller
from services.social import (
    contact_repository,
    errors,
    message_repository,
    page_tokens,
    repository,
    sync_repository,
)
from services.social.connect import ConnectOptions, IntegrationConnector, VkConnect
from services.social.contact_repository import ContactFilter, ContactView
from services.social.contact_sync import ContactSyncer
from services.social.conversations import Conversations
from services.social.inbound import AppWebhook, WebhookReceiver
from services.social.integration_admin import IntegrationAdmin
from services.social.mapping import (
    contact_sync_to_proto,
    contact_to_proto,
    enum_name,
    integration_to_proto,
    message_to_proto,
)
from services.social.models import ContactSync, Integration
from services.social.oauth import CompleteRequest, OAuthConnector, StartRequest
from services.social.platforms import x
from services.social.reconnect import IntegrationReconnector, NewCredentials

Context = grpc.aio.ServicerContext[Any, Any]

DEFAULT_PAGE_SIZE = 50
DEFAULT_CONTEXT_MESSAGES = 20


class SocialServicer(social_service_pb2_grpc.SocialServiceServicer):
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        connector: IntegrationConnector,
        oauth: OAuthConnector,
        webhooks: WebhookReceiver,
        conversations: Conversations,
        admin: IntegrationAdmin,
        reconnector: IntegrationReconnector,
        syncer: ContactSyncer,
        app_webhooks: Mapping[str, AppWebhook],
        public_base_url: str,
    ) -> None:
        self._engine = engine
        self._connector = connector
        self._oauth = oauth
        self._webhooks = webhooks
        self._conversations = conversations
        self._admin = admin
        self._reconnector = reconnector
        self._syncer = syncer
        self._app_webhooks = app_webhooks
        self._public_base_url = public_base_url

    # ---- integrations -----------------------------------------------------------------------

    async def ConnectIntegration(
        self, request: social_service_pb2.ConnectIntegrationRequest, context: Context
    ) -> social_service_pb2.ConnectIntegrationResponse:
        kind = request.WhichOneof("credentials")
        polling = request.delivery_mode == integration_pb2.DELIVERY_MODE_POLLING
        if polling and kind != "telegram":
            raise errors.delivery_mode_unsupported("polling is available for Telegram only")
        options = ConnectOptions(
            owner_id=current_caller().user_id,
            request_id=request.request_id,
            display_name=request.display_name,
            default_contact_policy=_policy(request.default_contact_policy),
        )
        if kind == "telegram":
            integration = await self._connector.connect_telegram(
                options, bot_token=request.telegram.bot_token, polling=polling
            )
        elif kind == "vk":
            integration = await self._connector.connect_vk(
                options,
                VkConnect(
                    community_token=request.vk.community_token,
                    group_id=str(request.vk.group_id),
                    confirmation_code=request.vk.confirmation_code,
                    callback_secret=request.vk.callback_secret,
                ),
            )
        elif kind == "max":
            integration = await self._connector.connect_max(
                options, bot_token=request.max.bot_token
            )
        else:
            raise errors.unsupported_platform(kind or "this platform")
        return social_service_pb2.ConnectIntegrationResponse(
            integration=self._integration(integration)
        )

    async def StartIntegrationOAuth(
        self, request: social_service_pb2.StartIntegrationOAuthRequest, context: Context
    ) -> social_service_pb2.StartIntegrationOAuthResponse:
        started = await self._oauth.start(
            StartRequest(
                owner_id=current_caller().user_id,
                platform=request.platform,
                redirect_uri=request.redirect_uri,
                display_name=request.display_name,
                default_contact_policy=_policy(request.default_contact_policy),
                integration_id=request.integration_id.lower() or None,
            )
        )
        response = social_service_pb2.StartIntegrationOAuthResponse(
            authorization_url=started.authorization_url, state=started.state
        )
        response.expire_time.FromDatetime(started.expires_at)
        return response

    async def CompleteIntegrationOAuth(
        self, request: social_service_pb2.CompleteIntegrationOAuthRequest, context: Context
    ) -> social_service_pb2.CompleteIntegrationOAuthResponse:
        integration, created = await self._oauth.complete(
            CompleteRequest(
                platform=request.platform,
                code=request.code,
                state=request.state,
                error=request.error,
                error_description=request.error_description,
            )
        )
        return social_service_pb2.CompleteIntegrationOAuthResponse(
            integration=self._integration(integration), created=created
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
            syncs = await sync_repository.latest_syncs(
                connection, owner_id=owner_id, integration_ids=[i.id for i in page]
            )
        next_token = ""
        if len(found) > page_size:
            last = page[-1]
            next_token = page_tokens.encode(scope=scope, created_at=last.created_at, row_id=last.id)
        return social_service_pb2.ListIntegrationsResponse(
            integrations=[self._integration(i, syncs.get(i.id)) for i in page],
            next_page_token=next_token,
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
            sync = await sync_repository.latest_sync(
                connection, owner_id=owner_id, integration_id=integration.id
            )
        return social_service_pb2.GetIntegrationResponse(
            integration=self._integration(integration, sync)
        )

    async def UpdateIntegration(
        self, request: social_service_pb2.UpdateIntegrationRequest, context: Context
    ) -> social_service_pb2.UpdateIntegrationResponse:
        values = request.integration
        integration = await self._admin.update(
            owner_id=current_caller().user_id,
            integration_id=request.integration_id,
            paths=list(request.update_mask.paths),
            display_name=values.display_name,
            default_contact_policy=_policy(values.default_contact_policy),
            delivery_mode=enum_name(
                integration_pb2.DeliveryMode, "DELIVERY_MODE", values.delivery_mode
            )
            or "webhook",
        )
        self._webhooks.forget(integration.id)
        return social_service_pb2.UpdateIntegrationResponse(
            integration=self._integration(integration)
        )

    async def ReconnectIntegration(
        self, request: social_service_pb2.ReconnectIntegrationRequest, context: Context
    ) -> social_service_pb2.ReconnectIntegrationResponse:
        kind = request.WhichOneof("credentials")
        new = None
        if kind == "telegram":
            new = NewCredentials(platform="telegram", token=request.telegram.bot_token)
        elif kind == "max":
            new = NewCredentials(platform="max", token=request.max.bot_token)
        elif kind == "vk":
            new = NewCredentials(
                platform="vk",
                token=request.vk.community_token,
                group_id=str(request.vk.group_id),
                confirmation_code=request.vk.confirmation_code,
                callback_secret=request.vk.callback_secret,
            )
        integration = await self._reconnector.reconnect(
            owner_id=current_caller().user_id,
            integration_id=request.integration_id.lower(),
            new=new,
        )
        return social_service_pb2.ReconnectIntegrationResponse(
            integration=self._integration(integration)
        )

    async def DeleteIntegration(
        self, request: social_service_pb2.DeleteIntegrationRequest, context: Context
    ) -> social_service_pb2.DeleteIntegrationResponse:
        removed = await self._admin.delete(
            owner_id=current_caller().user_id, integration_id=request.integration_id
        )
        self._webhooks.forget(request.integration_id.lower())
        return social_service_pb2.DeleteIntegrationResponse(webhook_removed=removed)

    # ---- webhooks ---------------------------------------------------------------------------

    async def HandleWebhook(
        self, request: social_service_pb2.HandleWebhookRequest, context: Context
    ) -> social_service_pb2.HandleWebhookResponse:
        ack = await self._webhooks.receive(
            platform=request.platform,
            integration_id=request.integration_id.lower(),
            headers=_headers(context.invocation_metadata()),
            body=request.body.data,
            content_type=request.body.content_type,
        )
        return social_service_pb2.HandleWebhookResponse(
            body=httpbody_pb2.HttpBody(content_type=ack.content_type, data=ack.body)
        )

    async def HandleWebhookChallenge(
        self, request: social_service_pb2.HandleWebhookChallengeRequest, context: Context
    ) -> social_service_pb2.HandleWebhookChallengeResponse:
        app = self._app_webhooks.get(request.platform)
        if app is None or request.integration_id.lower() != app.webhook_id.lower():
            raise errors.integration_not_found()
        answer = json.dumps(x.crc_response(app.secret, request.crc_token)).encode()
        return social_service_pb2.HandleWebhookChallengeResponse(
            body=httpbody_pb2.HttpBody(content_type="application/json", data=answer)
        )

    # ---- contacts ---------------------------------------------------------------------------

    async def ListContacts(
        self, request: social_service_pb2.ListContactsRequest, context: Context
    ) -> social_service_pb2.ListContactsResponse:
        owner_id = current_caller().user_id
        where = ContactFilter(
            integration_id=request.integration_id.lower() or None,
            query=request.query.strip(),
            agent_access=enum_name(contact_pb2.AgentAccess, "AGENT_ACCESS", request.agent_access),
            agent_allowed=request.agent_allowed if request.HasField("agent_allowed") else None,
            agent_paused=request.agent_paused if request.HasField("agent_paused") else None,
            reachable=request.reachable if request.HasField("reachable") else None,
        )
        scope = f"contacts:{owner_id}:{where!r}:{request.order_by}"
        page_size = request.page_size or DEFAULT_PAGE_SIZE
        # The scope names the order, so a token's sort value always has the order's type.
        after = page_tokens.decode_key(request.page_token, scope=scope)
        async with self._engine.connect() as connection:
            found = await contact_repository.list_contacts(
                connection,
                owner_id=owner_id,
                where=where,
                order_by=request.order_by,
                after=after,
                limit=page_size + 1,
            )
        page = found[:page_size]
        next_token = ""
        if len(found) > page_size:
            view, sort_value = page[-1]
            next_token = page_tokens.encode_key(
                scope=scope, value=sort_value, row_id=view.contact.id
            )
        return social_service_pb2.ListContactsResponse(
            contacts=[_contact(view) for view, _ in page], next_page_token=next_token
        )

    async def GetContact(
        self, request: social_service_pb2.GetContactRequest, context: Context
    ) -> social_service_pb2.GetContactResponse:
        view = await self._contact_view(current_caller().user_id, request.contact_id)
        return social_service_pb2.GetContactResponse(contact=_contact(view))

    async def BatchGetContacts(
        self, request: social_service_pb2.BatchGetContactsRequest, context: Context
    ) -> social_service_pb2.BatchGetContactsResponse:
        wanted = [contact_id.lower() for contact_id in request.contact_ids]
        async with self._engine.connect() as connection:
            views = await contact_repository.get_contact_views(
                connection, owner_id=current_caller().user_id, contact_ids=wanted
            )
        by_id = {view.contact.id: view for view in views}
        return social_service_pb2.BatchGetContactsResponse(
            contacts=[_contact(by_id[c]) for c in dict.fromkeys(wanted) if c in by_id]
        )

    async def UpdateContact(
        self, request: social_service_pb2.UpdateContactRequest, context: Context
    ) -> social_service_pb2.UpdateContactResponse:
        view = await self._conversations.update_contact(
            owner_id=current_caller().user_id,
            contact_id=request.contact_id,
            paths=list(request.update_mask.paths),
            agent_access=enum_name(
                contact_pb2.AgentAccess, "AGENT_ACCESS", request.contact.agent_access
            )
            or "inherit",
            display_name=request.contact.display_name.strip(),
        )
        return social_service_pb2.UpdateContactResponse(contact=_contact(view))

    async def SyncContacts(
        self, request: social_service_pb2.SyncContactsRequest, context: Context
    ) -> social_service_pb2.SyncContactsResponse:
        sync = await self._syncer.request(
            owner_id=current_caller().user_id, integration_id=request.integration_id
        )
        return social_service_pb2.SyncContactsResponse(sync=contact_sync_to_proto(sync))

    async def ResumeAgent(
        self, request: social_service_pb2.ResumeAgentRequest, context: Context
    ) -> social_service_pb2.ResumeAgentResponse:
        view = await self._conversations.resume_agent(
            owner_id=current_caller().user_id, contact_id=request.contact_id
        )
        return social_service_pb2.ResumeAgentResponse(contact=_contact(view))

    # ---- messages ---------------------------------------------------------------------------

    async def ListMessages(
        self, request: social_service_pb2.ListMessagesRequest, context: Context
    ) -> social_service_pb2.ListMessagesResponse:
        owner_id = current_caller().user_id
        await self._contact_view(owner_id, request.contact_id)
        descending = request.order_by != "create_time asc"
        scope = f"messages:{owner_id}:{request.contact_id}:{descending}"
        page_size = request.page_size or DEFAULT_PAGE_SIZE
        async with self._engine.connect() as connection:
            found = await message_repository.list_messages(
                connection,
                owner_id=owner_id,
                contact_id=request.contact_id,
                descending=descending,
                after=page_tokens.decode(request.page_token, scope=scope),
                limit=page_size + 1,
            )
        page = found[:page_size]
        next_token = ""
        if len(found) > page_size:
            last = page[-1]
            next_token = page_tokens.encode(scope=scope, created_at=last.created_at, row_id=last.id)
        return social_service_pb2.ListMessagesResponse(
            messages=[message_to_proto(m) for m in page], next_page_token=next_token
        )

    async def GetMessage(
        self, request: social_service_pb2.GetMessageRequest, context: Context
    ) -> social_service_pb2.GetMessageResponse:
        async with self._engine.connect() as connection:
            message = await message_repository.get_message(
                connection, owner_id=current_caller().user_id, message_id=request.message_id
            )
        if message is None:
            raise errors.message_not_found()
        return social_service_pb2.GetMessageResponse(message=message_to_proto(message))

    async def SendMessage(
        self, request: social_service_pb2.SendMessageRequest, context: Context
    ) -> social_service_pb2.SendMessageResponse:
        message = await self._conversations.send(
            owner_id=current_caller().user_id,
            contact_id=request.contact_id.lower(),
            request_id=request.request_id.lower(),
            text=request.text,
            reply_to_message_id=request.reply_to_message_id.lower() or None,
        )
        return social_service_pb2.SendMessageResponse(message=message_to_proto(message))

    async def GetConversationContext(
        self, request: social_service_pb2.GetConversationContextRequest, context: Context
    ) -> social_service_pb2.GetConversationContextResponse:
        owner_id = current_caller().user_id
        view = await self._contact_view(owner_id, request.contact_id)
        async with self._engine.connect() as connection:
            until = None
            if request.until_message_id:
                until = await message_repository.get_message(
                    connection, owner_id=owner_id, message_id=request.until_message_id
                )
                if until is None or until.contact_id != view.contact.id:
                    raise errors.message_not_found()
            integration = await repository.get_integration(
                connection, owner_id=owner_id, integration_id=view.contact.integration_id
            )
            history = await message_repository.latest_messages(
                connection,
                owner_id=owner_id,
                contact_id=view.contact.id,
                until=until,
                limit=request.max_messages or DEFAULT_CONTEXT_MESSAGES,
            )
        if integration is None:
            raise errors.contact_not_found()
        return social_service_pb2.GetConversationContextResponse(
            contact=_contact(view),
            integration=self._integration(integration),
            messages=[message_to_proto(m) for m in history],
        )

    # ---- helpers ----------------------------------------------------------------------------

    async def _contact_view(self, owner_id: str, contact_id: str) -> ContactView:
        async with self._engine.connect() as connection:
            view = await contact_repository.get_contact_view(
                connection, owner_id=owner_id, contact_id=contact_id
            )
        if view is None:
            raise errors.contact_not_found()
        return view

    def _integration(
        self, integration: Integration, sync: ContactSync | None = None
    ) -> integration_pb2.Integration:
        app = self._app_webhooks.get(integration.platform)
        return integration_to_proto(
            integration,
            public_base_url=self._public_base_url,
            last_sync=sync,
            x_webhook_id=app.webhook_id if app else "",
        )


def _contact(view: ContactView) -> contact_pb2.Contact:
    return contact_to_proto(
        view.contact, platform=view.platform, default_contact_policy=view.default_contact_policy
    )


def _policy(value: int) -> str:
    return enum_name(integration_pb2.ContactPolicy, "CONTACT_POLICY", value) or "allow_all"


def _headers(metadata: Any) -> dict[str, str]:
    """gRPC metadata as a header map: lower-cased names, first value wins, binary values skipped."""
    headers: dict[str, str] = {}
    for key, value in metadata or ():
        if isinstance(value, str):
            headers.setdefault(key.lower(), value)
    return headers
