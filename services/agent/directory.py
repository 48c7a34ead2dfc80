"""What the agent service asks social about: whether integration ids and contacts are the
owner's."""

from __future__ import annotations

import grpc
from inbetwin.social.v1 import social_service_pb2, social_service_pb2_grpc

from services.agent import errors
from services.kit.identity import USER_ID_HEADER


class SocialDirectory:
    def __init__(self, social_addr: str, *, timeout: float) -> None:
        self._channel = grpc.aio.insecure_channel(social_addr) if social_addr else None
        self._stub = (
            social_service_pb2_grpc.SocialServiceStub(self._channel) if self._channel else None
        )
        self._timeout = timeout

    async def check_integrations(self, owner_id: str, integration_ids: list[str]) -> None:
        """INTEGRATION_NOT_FOUND for the first id that is not the owner's."""
        if not integration_ids:
            return
        if self._stub is None:
            raise errors.unavailable("SOCIAL_UNAVAILABLE", "integrations cannot be checked")
        for integration_id in integration_ids:
            try:
                await self._stub.GetIntegration(
                    social_service_pb2.GetIntegrationRequest(integration_id=integration_id),
                    metadata=((USER_ID_HEADER, owner_id),),
                    timeout=self._timeout,
                )
            except grpc.aio.AioRpcError as error:
                if error.code() == grpc.StatusCode.NOT_FOUND:
                    raise errors.integration_not_found(integration_id) from None
                raise errors.unavailable(
                    "SOCIAL_UNAVAILABLE", "integrations cannot be checked"
                ) from None

    async def check_contact(self, owner_id: str, integration_id: str, contact_id: str) -> None:
        """CONTACT_NOT_FOUND unless the contact is the owner's, on that integration."""
        if self._stub is None:
            raise errors.unavailable("SOCIAL_UNAVAILABLE", "contacts cannot be checked")
        try:
            found = await self._stub.BatchGetContacts(
                social_service_pb2.BatchGetContactsRequest(contact_ids=[contact_id]),
                metadata=((USER_ID_HEADER, owner_id),),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError:
            raise errors.unavailable("SOCIAL_UNAVAILABLE", "contacts cannot be checked") from None
        if not any(
            contact.id == contact_id and contact.integration_id == integration_id
            for contact in found.contacts
        ):
            raise errors.contact_not_found()

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close(None)
