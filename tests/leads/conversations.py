# ruff: noqa: RUF001 - Russian conversations are Cyrillic on purpose
"""Realistic conversations as the events social, agent and llm publish about them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from google.protobuf.message import Message as ProtoMessage
from inbetwin.agent.v1 import handoff_pb2
from inbetwin.events.v1 import agent_events_pb2, llm_events_pb2, social_events_pb2
from inbetwin.social.v1 import contact_pb2, integration_pb2, message_pb2

from services.kit.events import new_event


def _stamp(event: ProtoMessage, at: datetime) -> None:
    event.occur_time.FromDatetime(at)  # type: ignore[attr-defined]


@dataclass
class Conversation:
    """One contact of one owner talking to the owner's Telegram bot, minute by minute."""

    owner_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    contact_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    integration_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    name: str = "Anna Petrova"
    clock: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(hours=2))
    events: list[ProtoMessage] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)

    def _tick(self, minutes: float) -> datetime:
        self.clock += timedelta(minutes=minutes)
        return self.clock

    def contact(self) -> contact_pb2.Contact:
        return contact_pb2.Contact(
            id=self.contact_id,
            integration_id=self.integration_id,
            platform=integration_pb2.PLATFORM_TELEGRAM,
            platform_user_id="5000000001",
            display_name=self.name,
            platform_display_name=self.name,
            agent_allowed=True,
            reachable=True,
        )

    def _message(self, text: str, *, inbound: bool, at: datetime) -> message_pb2.Message:
        message = message_pb2.Message(
            id=str(uuid.uuid4()),
            integration_id=self.integration_id,
            contact_id=self.contact_id,
            direction=(
                message_pb2.MESSAGE_DIRECTION_INBOUND
                if inbound
                else message_pb2.MESSAGE_DIRECTION_OUTBOUND
            ),
            author_kind=message_pb2.AUTHOR_KIND_CONTACT
            if inbound
            else message_pb2.AUTHOR_KIND_AGENT,
            text=text,
            status=message_pb2.MESSAGE_STATUS_RECEIVED
            if inbound
            else message_pb2.MESSAGE_STATUS_SENT,
        )
        message.create_time.FromDatetime(at)
        message.platform_time.FromDatetime(at)
        self.message_ids.append(message.id)
        return message

    def says(self, text: str, *, after_minutes: float = 2) -> str:
        """The contact writes; returns the message id."""
        at = self._tick(after_minutes)
        event = new_event(
            social_events_pb2.MessageReceived,
            owner_id=self.owner_id,
            message=self._message(text, inbound=True, at=at),
            contact=self.contact(),
            platform=integration_pb2.PLATFORM_TELEGRAM,
            agent_may_reply=True,
        )
        _stamp(event, at)
        self.events.append(event)
        return event.message.id

    def agent_says(self, text: str, *, after_minutes: float = 1) -> str:
        at = self._tick(after_minutes)
        event = new_event(
            social_events_pb2.MessageSent,
            owner_id=self.owner_id,
            message=self._message(text, inbound=False, at=at),
            reply_id=str(uuid.uuid4()),
        )
        _stamp(event, at)
        self.events.append(event)
        return event.message.id

    def assessed(self, message_id: str, sentiment: float, *intents: str) -> None:
        event = new_event(
            llm_events_pb2.InboundAssessed,
            owner_id=self.owner_id,
            message_id=message_id,
            contact_id=self.contact_id,
            sentiment=sentiment,
            intents=list(intents),
        )
        _stamp(event, self.clock + timedelta(seconds=5))
        self.events.append(event)

    def facts_saved(self, source_message_id: str, **facts: str) -> None:
        """`save_user_info` merged facts: the event carries all facts known so far."""
        known: dict[str, str] = {}
        for event in self.events:
            if isinstance(event, agent_events_pb2.UserInfoSaved):
                known.update(event.facts)
        known.update(facts)
        event = new_event(
            agent_events_pb2.UserInfoSaved,
            owner_id=self.owner_id,
            contact_id=self.contact_id,
            facts=known,
            source_message_id=source_message_id,
        )
        _stamp(event, self.clock + timedelta(seconds=10))
        self.events.append(event)

    def handoff(self, reason: str, *, resolved: bool = False) -> str:
        handoff = handoff_pb2.Handoff(
            id=str(uuid.uuid4()),
            integration_id=self.integration_id,
            contact_id=self.contact_id,
            reason=reason,
            state=handoff_pb2.HANDOFF_STATE_OPEN,
            requested_by=handoff_pb2.HANDOFF_REQUESTER_AGENT_TOOL,
            request_action_id=str(uuid.uuid4()),
        )
        opened = self._tick(0.5)
        handoff.create_time.FromDatetime(opened)
        requested = new_event(
            agent_events_pb2.HandoffRequested, owner_id=self.owner_id, handoff=handoff
        )
        _stamp(requested, opened)
        self.events.append(requested)
        if resolved:
            closed = handoff_pb2.Handoff()
            closed.CopyFrom(handoff)
            closed.state = handoff_pb2.HANDOFF_STATE_RESOLVED
            closed.resolve_time.FromDatetime(self._tick(30))
            event = new_event(
                agent_events_pb2.HandoffResolved, owner_id=self.owner_id, handoff=closed
            )
            _stamp(event, self.clock)
            self.events.append(event)
        return handoff.id

    def renamed(self, name: str) -> None:
        self.name = name
        event = new_event(
            social_events_pb2.ContactUpdated,
            owner_id=self.owner_id,
            contact=self.contact(),
            change="profile",
        )
        _stamp(event, self._tick(1))
        self.events.append(event)


def cold_en(conversation: Conversation) -> Conversation:
    """Someone says hello, gets an answer and never comes back."""
    first = conversation.says("Hi")
    conversation.assessed(first, 0.1)
    conversation.agent_says("Hello! How can I help you today?")
    return conversation


def cold_ru(conversation: Conversation) -> Conversation:
    first = conversation.says("Привет, а вы кто?")
    conversation.assessed(first, 0.0)
    conversation.agent_says("Здравствуйте! Мы студия веб-дизайна. Чем могу помочь?")
    return conversation


def warm_en(conversation: Conversation) -> Conversation:
    """Asks about prices and timing, says what they need, goes away to think."""
    first = conversation.says("Hello, what are your prices for a website?")
    conversation.assessed(first, 0.3, "pricing")
    conversation.agent_says("A landing page starts at $500, a full site at $2000.")
    second = conversation.says("Ok, and how long does a landing page take?")
    conversation.assessed(second, 0.2)
    conversation.agent_says("About two weeks.")
    third = conversation.says("I need one for my bakery. Thanks, I'll think about it")
    conversation.assessed(third, 0.4)
    conversation.facts_saved(third, need="landing page for a bakery")
    return conversation


def warm_ru(conversation: Conversation) -> Conversation:
    first = conversation.says("Здравствуйте! Сколько стоит сайт для салона красоты?")
    conversation.assessed(first, 0.3, "pricing")
    conversation.agent_says("Лендинг от 30 000 рублей, полноценный сайт от 90 000.")
    second = conversation.says("А сколько по времени делается лендинг?")
    conversation.assessed(second, 0.2)
    conversation.agent_says("Около двух недель.")
    third = conversation.says("Понятно, спасибо, подумаю")
    conversation.assessed(third, 0.3)
    conversation.facts_saved(first, need="лендинг для салона красоты")
    return conversation


def hot_en(conversation: Conversation) -> Conversation:
    """Knows what they want, has the budget and the authority, wants to pay and meet now."""
    first = conversation.says("Hi, how much is the Business plan for a team of 10?")
    conversation.assessed(first, 0.4, "pricing")
    conversation.agent_says("Business is $99 per month for up to 20 people.")
    second = conversation.says(
        "Great, we want to buy it. Can we book a demo call tomorrow morning?"
    )
    conversation.assessed(second, 0.8, "purchase", "meeting")
    conversation.facts_saved(second, need="CRM for a sales team of 10", timeline="this week")
    conversation.agent_says("Sure, I have asked a manager to contact you.")
    conversation.handoff("Customer wants to buy the Business plan and book a demo")
    third = conversation.says(
        "I'm the CEO, budget is $1500 a month. Please send the invoice, it's urgent"
    )
    conversation.assessed(third, 0.6, "purchase", "urgency")
    conversation.facts_saved(
        third, budget="$1500 a month", authority="CEO", email="ceo@acme.example"
    )
    return conversation


def hot_ru(conversation: Conversation) -> Conversation:
    first = conversation.says("Добрый день! Сколько стоит годовая подписка на 5 человек?")
    conversation.assessed(first, 0.5, "pricing")
    conversation.agent_says("Годовая подписка на 5 человек стоит 60 000 рублей.")
    second = conversation.says("Отлично, хотим купить срочно. Можно созвониться завтра?")
    conversation.assessed(second, 0.7, "purchase", "meeting", "urgency")
    conversation.facts_saved(second, need="подписка на год для 5 человек", timeline="срочно")
    conversation.agent_says("Конечно, передаю менеджеру.")
    conversation.handoff("Клиент готов купить годовую подписку")
    third = conversation.says("Я директор, бюджет 60 тысяч согласован, выставите счёт на оплату")
    conversation.assessed(third, 0.6, "purchase")
    conversation.facts_saved(
        third, budget="60 000 руб", authority="директор", phone="+7 900 123-45-67"
    )
    return conversation
