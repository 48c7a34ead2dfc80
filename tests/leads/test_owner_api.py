"""ListLeads, GetLead and UpdateLead for the owner, and isolation between owners."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from inbetwin.leads.v1 import lead_pb2
from inbetwin.leads.v1 import leads_service_pb2 as pb
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.bus import EventBus
from tests.leads.conftest import Stub, as_owner, lead_of, publish, settle
from tests.leads.conversations import (
    Conversation,
    cold_en,
    cold_ru,
    hot_en,
    hot_ru,
    warm_en,
    warm_ru,
)

BUILDERS: dict[str, Callable[[Conversation], Conversation]] = {
    "cold_en": cold_en,
    "cold_ru": cold_ru,
    "warm_en": warm_en,
    "warm_ru": warm_ru,
    "hot_en": hot_en,
    "hot_ru": hot_ru,
}
NAMES = {
    "cold_en": "John Smith",
    "cold_ru": "Иван Петров",
    "warm_en": "Mary Jones",
    "warm_ru": "Ольга Иванова",
    "hot_en": "Peter Brown",
    "hot_ru": "Сергей Кузнецов",
}


def reason_of(error: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            assert info.domain == "leads.inbetwin.app"
            return str(info.reason)
    raise AssertionError("no ErrorInfo")


def mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


class Book:
    """Six leads of one owner; the hot ones on a second integration."""

    def __init__(self) -> None:
        self.owner_id = str(uuid.uuid4())
        self.integration = str(uuid.uuid4())
        self.second_integration = str(uuid.uuid4())
        self.conversations: dict[str, Conversation] = {}
        start = datetime.now(UTC) - timedelta(hours=6)
        for i, (key, build) in enumerate(BUILDERS.items()):
            conversation = Conversation(
                owner_id=self.owner_id,
                integration_id=self.second_integration
                if key.startswith("hot")
                else self.integration,
                name=NAMES[key],
                clock=start + timedelta(minutes=30 * i),
            )
            self.conversations[key] = build(conversation)
        self.lead_ids: dict[str, str] = {}

    async def publish(self, stub: Stub, bus: EventBus) -> None:
        for conversation in self.conversations.values():
            await publish(bus, conversation.events)
        await settle(bus)
        for key, conversation in self.conversations.items():
            found = await lead_of(stub, self.owner_id, conversation.contact_id)
            assert found is not None
            self.lead_ids[key] = found.lead.id


@pytest.fixture(scope="module")
async def book(stub: Stub, bus: EventBus) -> Book:
    book = Book()
    await book.publish(stub, bus)
    return book


async def list_all(stub: Stub, owner_id: str, **request: object) -> list[lead_pb2.Lead]:
    found: list[lead_pb2.Lead] = []
    token = ""
    while True:
        page = await stub.ListLeads(
            pb.ListLeadsRequest(page_token=token, **request),  # type: ignore[arg-type]
            metadata=as_owner(owner_id),
        )
        found.extend(page.leads)
        token = page.next_page_token
        if not token:
            return found


async def test_default_order_is_score_descending_with_basic_view(stub: Stub, book: Book) -> None:
    page = await stub.ListLeads(pb.ListLeadsRequest(), metadata=as_owner(book.owner_id))
    assert page.total_size == 6
    assert page.next_page_token == ""
    keys = [(lead.score, lead.id) for lead in page.leads]
    assert keys == sorted(keys, reverse=True)
    assert all(not lead.factors for lead in page.leads)
    assert all(lead.model.version == "default-1" for lead in page.leads)
    full = await stub.ListLeads(
        pb.ListLeadsRequest(view=pb.LEAD_VIEW_FULL), metadata=as_owner(book.owner_id)
    )
    assert all(len(lead.factors) == 5 for lead in full.leads)


async def test_pages_cover_every_lead_once_in_order(stub: Stub, book: Book) -> None:
    for order_by, key, reverse in [
        ("score asc", lambda lead: (lead.score, lead.id), False),
        ("score desc", lambda lead: (lead.score, lead.id), True),
        (
            "last_activity_time desc",
            lambda lead: (lead.last_activity_time.ToDatetime(), lead.id),
            True,
        ),
        (
            "last_activity_time asc",
            lambda lead: (lead.last_activity_time.ToDatetime(), lead.id),
            False,
        ),
        ("create_time desc", lambda lead: (lead.create_time.ToDatetime(), lead.id), True),
    ]:
        leads = await list_all(stub, book.owner_id, page_size=4, order_by=order_by)
        assert len(leads) == 6
        assert len({lead.id for lead in leads}) == 6
        assert leads == sorted(leads, key=key, reverse=reverse), order_by
    newest = await list_all(stub, book.owner_id, page_size=1, order_by="create_time desc")
    assert [lead.id for lead in newest][:2] == [book.lead_ids["hot_ru"], book.lead_ids["hot_en"]]


async def test_filters(stub: Stub, book: Book) -> None:
    async def ids(**request: object) -> set[str]:
        return {lead.id for lead in await list_all(stub, book.owner_id, page_size=2, **request)}

    hot = {book.lead_ids["hot_en"], book.lead_ids["hot_ru"]}
    warm = {book.lead_ids["warm_en"], book.lead_ids["warm_ru"]}
    assert await ids(stages=[lead_pb2.LEAD_STAGE_HOT]) == hot
    assert await ids(stages=[lead_pb2.LEAD_STAGE_HOT, lead_pb2.LEAD_STAGE_ENGAGED]) == hot | warm
    assert await ids(min_score=30) == hot | warm
    assert await ids(integration_id=book.second_integration) == hot
    assert await ids(contact_id=book.conversations["warm_ru"].contact_id) == {
        book.lead_ids["warm_ru"]
    }
    assert await ids(query="иван") == {book.lead_ids["cold_ru"], book.lead_ids["warm_ru"]}
    assert await ids(query="PETER") == {book.lead_ids["hot_en"]}
    assert await ids(query="%") == set()
    page = await stub.ListLeads(
        pb.ListLeadsRequest(min_score=30, page_size=1), metadata=as_owner(book.owner_id)
    )
    assert page.total_size == 4


async def test_page_tokens_belong_to_their_query(stub: Stub, book: Book) -> None:
    first = await stub.ListLeads(pb.ListLeadsRequest(page_size=2), metadata=as_owner(book.owner_id))
    for request in [
        pb.ListLeadsRequest(page_size=2, page_token=first.next_page_token, min_score=10),
        pb.ListLeadsRequest(page_size=2, page_token=first.next_page_token, order_by="score asc"),
        pb.ListLeadsRequest(page_size=2, page_token="bm90IGEgdG9rZW4="),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.ListLeads(request, metadata=as_owner(book.owner_id))
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert reason_of(raised.value) == "PAGE_TOKEN_INVALID"
    other_owner = str(uuid.uuid4())
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.ListLeads(
            pb.ListLeadsRequest(page_size=2, page_token=first.next_page_token),
            metadata=as_owner(other_owner),
        )
    assert reason_of(raised.value) == "PAGE_TOKEN_INVALID"


async def test_get_lead_shows_breakdown_and_history(stub: Stub, book: Book) -> None:
    got = await stub.GetLead(
        pb.GetLeadRequest(lead_id=book.lead_ids["hot_en"]), metadata=as_owner(book.owner_id)
    )
    assert got.lead.stage == lead_pb2.LEAD_STAGE_HOT
    assert len(got.lead.factors) == 5
    history = got.score_history
    assert history[0].cause == lead_pb2.LEAD_CHANGE_CAUSE_CONVERSATION
    assert history[-1].score == got.lead.score
    assert history[-1].stage == lead_pb2.LEAD_STAGE_HOT
    times = [p.time.ToDatetime() for p in history]
    assert times == sorted(times)
    assert len(history) >= 3
    latest_two = await stub.GetLead(
        pb.GetLeadRequest(lead_id=book.lead_ids["hot_en"], score_history_limit=2),
        metadata=as_owner(book.owner_id),
    )
    assert list(latest_two.score_history) == list(history[-2:])


async def test_other_owners_and_missing_leads_are_not_found(stub: Stub, book: Book) -> None:
    stranger = str(uuid.uuid4())
    for lead_id in (book.lead_ids["hot_en"], str(uuid.uuid4())):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.GetLead(pb.GetLeadRequest(lead_id=lead_id), metadata=as_owner(stranger))
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND
        assert reason_of(raised.value) == "LEAD_NOT_FOUND"
    listed = await stub.ListLeads(pb.ListLeadsRequest(), metadata=as_owner(stranger))
    assert listed.total_size == 0
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.ListLeads(pb.ListLeadsRequest())
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_label_on_another_owners_lead_has_no_effect(
    stub: Stub, book: Book, engine: AsyncEngine
) -> None:
    stranger = str(uuid.uuid4())
    lead_id = book.lead_ids["warm_en"]
    before = await stub.GetLead(
        pb.GetLeadRequest(lead_id=lead_id), metadata=as_owner(book.owner_id)
    )
    for paths, lead in [
        (("owner_label",), lead_pb2.Lead(owner_label=lead_pb2.OWNER_LABEL_NOT_A_LEAD)),
        (("stage", "notes"), lead_pb2.Lead(stage=lead_pb2.LEAD_STAGE_LOST, notes="mine now")),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.UpdateLead(
                pb.UpdateLeadRequest(lead_id=lead_id, lead=lead, update_mask=mask(*paths)),
                metadata=as_owner(stranger),
            )
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    after = await stub.GetLead(pb.GetLeadRequest(lead_id=lead_id), metadata=as_owner(book.owner_id))
    assert after == before
    async with engine.connect() as conn:
        models = await conn.execute(
            sa.text("SELECT count(*) FROM owner_models WHERE owner_id = :o"), {"o": stranger}
        )
        assert models.scalar_one() == 0


async def test_update_rejects_bad_masks_and_values(stub: Stub, book: Book) -> None:
    lead_id = book.lead_ids["cold_en"]
    for paths in [(), ("score",), ("notes", "display_name")]:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.UpdateLead(
                pb.UpdateLeadRequest(
                    lead_id=lead_id, lead=lead_pb2.Lead(), update_mask=mask(*paths)
                ),
                metadata=as_owner(book.owner_id),
            )
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert reason_of(raised.value) == "FIELD_NOT_UPDATABLE"
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.UpdateLead(
            pb.UpdateLeadRequest(
                lead_id=lead_id, lead=lead_pb2.Lead(notes="x" * 4001), update_mask=mask("notes")
            ),
            metadata=as_owner(book.owner_id),
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(raised.value)  # type: ignore[arg-type]
    assert status is not None
    bad_request = error_details_pb2.BadRequest()
    assert any(detail.Unpack(bad_request) for detail in status.details)
    assert bad_request.field_violations[0].field == "lead.notes"


async def test_owner_stage_sticks_until_cleared(stub: Stub, bus: EventBus, book: Book) -> None:
    lead_id = book.lead_ids["warm_ru"]
    won = await stub.UpdateLead(
        pb.UpdateLeadRequest(
            lead_id=lead_id,
            lead=lead_pb2.Lead(stage=lead_pb2.LEAD_STAGE_WON, notes="Paid by card", score=1),
            update_mask=mask("stage", "notes"),
        ),
        metadata=as_owner(book.owner_id),
    )
    assert won.lead.stage == lead_pb2.LEAD_STAGE_WON
    assert won.lead.stage_overridden
    assert won.lead.notes == "Paid by card"
    assert won.lead.score != 1  # output only: ignored
    assert len(won.lead.factors) == 5

    conversation = book.conversations["warm_ru"]
    conversation.events.clear()
    message = conversation.says("Хотим купить ещё и заказать встречу на завтра, срочно")
    conversation.assessed(message, 0.9, "purchase", "meeting", "urgency")
    await publish(bus, conversation.events)
    await settle(bus)
    got = await stub.GetLead(pb.GetLeadRequest(lead_id=lead_id), metadata=as_owner(book.owner_id))
    assert got.lead.score > won.lead.score  # still scored...
    assert got.lead.stage == lead_pb2.LEAD_STAGE_WON  # ...but the owner's stage stays
    assert got.score_history[-1].cause == lead_pb2.LEAD_CHANGE_CAUSE_CONVERSATION
    owner_points = [
        p for p in got.score_history if p.cause == lead_pb2.LEAD_CHANGE_CAUSE_OWNER_UPDATE
    ]
    assert [p.stage for p in owner_points] == [lead_pb2.LEAD_STAGE_WON]
    assert all(p.stage == lead_pb2.LEAD_STAGE_WON for p in got.score_history[-2:])

    cleared = await stub.UpdateLead(
        pb.UpdateLeadRequest(lead_id=lead_id, lead=lead_pb2.Lead(), update_mask=mask("stage")),
        metadata=as_owner(book.owner_id),
    )
    assert not cleared.lead.stage_overridden
    assert cleared.lead.stage == lead_pb2.LEAD_STAGE_HOT  # automatic again, from its new score
    assert cleared.lead.notes == "Paid by card"  # not in the mask: unchanged


async def test_notes_and_label_are_the_owners(stub: Stub, book: Book) -> None:
    lead_id = book.lead_ids["cold_ru"]
    updated = await stub.UpdateLead(
        pb.UpdateLeadRequest(
            lead_id=lead_id,
            lead=lead_pb2.Lead(
                notes="Перезвонить в пятницу", owner_label=lead_pb2.OWNER_LABEL_GOOD_LEAD
            ),
            update_mask=mask("notes", "owner_label"),
        ),
        metadata=as_owner(book.owner_id),
    )
    assert updated.lead.owner_label == lead_pb2.OWNER_LABEL_GOOD_LEAD
    assert updated.lead.stage == lead_pb2.LEAD_STAGE_NEW
    assert not updated.lead.stage_overridden
    found = await list_all(stub, book.owner_id, query="пятниц")
    assert [lead.id for lead in found] == [lead_id]
    same = await stub.UpdateLead(
        pb.UpdateLeadRequest(
            lead_id=lead_id,
            lead=lead_pb2.Lead(notes="Перезвонить в пятницу"),
            update_mask=mask("notes"),
        ),
        metadata=as_owner(book.owner_id),
    )
    assert same.lead.update_time == updated.lead.update_time  # nothing changed, nothing written
