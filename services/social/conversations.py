"""The owner steering a conversation: writing by hand (which pauses the agent there), handing it
back to the agent, and choosing whether the agent may talk to a contact at all."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from inbetwin.events.v1 import social_events_pb2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.kit.events import deterministic_id, new_event
from services.kit.outbox import OutboxRelay, add_event
from services.social import contact_repository, errors, message_repository, repository
from services.social.contact_repository import ContactView
from services.social.mapping import contact_to_proto
from services.social.models import Contact, Message
from services.social.platforms.adapter import PlatformAdapter
from services.social.platforms.text import utf16_units

UPDATABLE_CONTACT_FIELDS = ("agent_access", "display_name")


class Conversations:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        relay: OutboxRelay,
        adapters: Mapping[str, PlatformAdapter],
        on_queued: Callable[[], None],
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._adapters = adapters
        self._on_queued = on_queued

    async def send(
        self,
        *,
        owner_id: str,
        contact_id: str,
        request_id: str,
        text: str,
        reply_to_message_id: str | None,
    ) -> Message:
        """Pause the agent in the conversation, then queue the owner's message (PENDING)."""
        async with self._engine.begin() as connection:
            earlier = await message_repository.find_by_request(
                connection, owner_id=owner_id, request_id=request_id
            )
            if earlier is not None:
                return _same_request(earlier, contact_id, text)
            view = await contact_repository.get_contact_view(
                connection, owner_id=owner_id, contact_id=contact_id
            )
            if view is None:
                raise errors.contact_not_found()
            integration = await repository.get_integration(
                connection, owner_id=owner_id, integration_id=view.contact.integration_id
            )
            adapter = self._adapters.get(view.platform)
            if integration is None or integration.status != "active" or adapter is None:
                raise errors.integration_not_active()
            if not view.contact.reachable:
                raise errors.contact_unreachable()
            if utf16_units(text) > adapter.max_text_units:
                raise errors.message_too_long(adapter.max_text_units)
            if reply_to_message_id is not None:
                replied = await message_repository.get_message(
                    connection, owner_id=owner_id, message_id=reply_to_message_id
                )
                if replied is None or replied.contact_id != contact_id:
                    raise errors.message_not_found()
            paused = await contact_repository.set_agent_paused(
                connection, owner_id=owner_id, contact_id=contact_id, paused=True
            )
            if paused is not None:
                await self._announce(
                    connection,
                    view,
                    paused,
                    "agent_paused",
                    event_id=deterministic_id("social.contact.paused", owner_id, request_id),
                )
            message = await message_repository.enqueue_owner_message(
                connection,
                owner_id=owner_id,
                integration_id=view.contact.integration_id,
                contact_id=contact_id,
                request_id=request_id,
                text=text,
                in_reply_to_message_id=reply_to_message_id,
            )
            if message is None:  # a concurrent call with this request_id won
                earlier = await message_repository.find_by_request(
                    connection, owner_id=owner_id, request_id=request_id
                )
                assert earlier is not None
                return _same_request(earlier, contact_id, text)
        self._relay.notify()
        self._on_queued()
        return message

    async def resume_agent(self, *, owner_id: str, contact_id: str) -> ContactView:
        async with self._engine.begin() as connection:
            view = await contact_repository.get_contact_view(
                connection, owner_id=owner_id, contact_id=contact_id
            )
            if view is None:
                raise errors.contact_not_found()
            resumed = await contact_repository.set_agent_paused(
                connection, owner_id=owner_id, contact_id=contact_id, paused=False
            )
            if resumed is None:
                return view  # not paused: nothing changes
            await self._announce(connection, view, resumed, "agent_resumed")
        self._relay.notify()
        return ContactView(resumed, view.platform, view.default_contact_policy)

    async def update_contact(
        self,
        *,
        owner_id: str,
        contact_id: str,
        paths: Sequence[str],
        agent_access: str,
        display_name: str,
    ) -> ContactView:
        """`agent_access` is the stored name (`inherit`, `allowed`, `denied`)."""
        if not paths:
            raise errors.field_not_updatable("")
        values: dict[str, object] = {}
        for path in paths:
            if path == "agent_access":
                values["agent_access"] = agent_access
            elif path == "display_name":
                values["display_name"] = display_name or None
            else:
                raise errors.field_not_updatable(path)
        async with self._engine.begin() as connection:
            view = await contact_repository.get_contact_view(
                connection, owner_id=owner_id, contact_id=contact_id
            )
            if view is None:
                raise errors.contact_not_found()
            updated = await contact_repository.update_contact(
                connection, owner_id=owner_id, contact_id=contact_id, values=values
            )
            assert updated is not None
            change = "agent_access" if "agent_access" in values else "profile"
            await self._announce(connection, view, updated, change)
        self._relay.notify()
        return ContactView(updated, view.platform, view.default_contact_policy)

    @staticmethod
    async def _announce(
        connection: AsyncConnection,
        view: ContactView,
        contact: Contact,
        change: str,
        *,
        event_id: str | None = None,
    ) -> None:
        await add_event(
            connection,
            new_event(
                social_events_pb2.ContactUpdated,
                owner_id=contact.owner_id,
                event_id=event_id,
                contact=contact_to_proto(
                    contact,
                    platform=view.platform,
                    default_contact_policy=view.default_contact_policy,
                ),
                change=change,
            ),
        )


def _same_request(earlier: Message, contact_id: str, text: str) -> Message:
    if earlier.contact_id != contact_id or earlier.text != text:
        raise errors.request_id_reused()
    return earlier
