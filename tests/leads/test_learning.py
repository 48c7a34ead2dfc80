"""Owner labels tune that owner's model, and only theirs; below the threshold, defaults stay."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from google.protobuf import field_mask_pb2
from inbetwin.leads.v1 import lead_pb2
from inbetwin.leads.v1 import leads_service_pb2 as pb
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.bus import EventBus
from tests.leads.conftest import Stub, as_owner, eventually, lead_of, publish, settle
from tests.leads.conversations import (
    Conversation,
    cold_en,
    cold_ru,
    hot_en,
    hot_ru,
    warm_en,
    warm_ru,
)

# This owner's buyers turn out to be the quiet ones who ask about prices; the loud "hot" ones
# never pay, and the cold ones are not leads at all.
LABELS = [
    (warm_en, lead_pb2.Lead(stage=lead_pb2.LEAD_STAGE_WON), "stage"),
    (warm_ru, lead_pb2.Lead(stage=lead_pb2.LEAD_STAGE_WON), "stage"),
    (hot_en, lead_pb2.Lead(stage=lead_pb2.LEAD_STAGE_LOST), "stage"),
    (hot_ru, lead_pb2.Lead(stage=lead_pb2.LEAD_STAGE_LOST), "stage"),
    (cold_en, lead_pb2.Lead(owner_label=lead_pb2.OWNER_LABEL_NOT_A_LEAD), "owner_label"),
    (cold_ru, lead_pb2.Lead(owner_label=lead_pb2.OWNER_LABEL_NOT_A_LEAD), "owner_label"),
    (warm_en, lead_pb2.Lead(owner_label=lead_pb2.OWNER_LABEL_GOOD_LEAD), "owner_label"),
    (warm_ru, lead_pb2.Lead(stage=lead_pb2.LEAD_STAGE_QUALIFIED), "stage"),
    (hot_en, lead_pb2.Lead(stage=lead_pb2.LEAD_STAGE_ENGAGED), "stage"),
    (hot_ru, lead_pb2.Lead(stage=lead_pb2.LEAD_STAGE_LOST), "stage"),
    (cold_en, lead_pb2.Lead(stage=lead_pb2.LEAD_STAGE_LOST), "stage"),
]


async def lead_id(stub: Stub, bus: EventBus, conversation: Conversation) -> str:
    await publish(bus, conversation.events)
    await settle(bus)
    found = await lead_of(stub, conversation.owner_id, conversation.contact_id)
    assert found is not None
    return found.lead.id


async def trained(engine: AsyncEngine, owner_id: str) -> bool:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.text(
                    "SELECT label_version, trained_label_version, rescore_pending "
                    "FROM owner_models WHERE owner_id = :o"
                ),
                {"o": owner_id},
            )
        ).first()
    return row is not None and row[1] == row[0] and not row[2]


async def test_labels_tune_that_owners_model_only(
    stub: Stub, bus: EventBus, engine: AsyncEngine
) -> None:
    tuning, bystander = str(uuid.uuid4()), str(uuid.uuid4())
    labelled = [
        (await lead_id(stub, bus, build(Conversation(owner_id=tuning))), lead, path)
        for build, lead, path in LABELS
    ]
    watched = hot_en(Conversation(owner_id=tuning))
    twin = hot_en(Conversation(owner_id=bystander))
    watched_id = await lead_id(stub, bus, watched)
    twin_id = await lead_id(stub, bus, twin)

    async def label(index: int) -> None:
        target, lead, path = labelled[index]
        await stub.UpdateLead(
            pb.UpdateLeadRequest(
                lead_id=target, lead=lead, update_mask=field_mask_pb2.FieldMask(paths=[path])
            ),
            metadata=as_owner(tuning),
        )

    for index in range(9):  # one short of the threshold: still the defaults
        await label(index)
    await eventually(lambda: trained(engine, tuning), "the trainer to look at 9 labels")
    still_default = await stub.GetLead(
        pb.GetLeadRequest(lead_id=watched_id), metadata=as_owner(tuning)
    )
    assert still_default.lead.model.kind == lead_pb2.SCORING_MODEL_KIND_DEFAULT_WEIGHTS
    assert still_default.lead.score == 88

    await label(9)

    async def tuned() -> bool:
        got = await stub.GetLead(pb.GetLeadRequest(lead_id=watched_id), metadata=as_owner(tuning))
        return bool(got.lead.model.kind == lead_pb2.SCORING_MODEL_KIND_OWNER_TUNED)

    await eventually(tuned, "the owner's model to score their leads")
    await eventually(lambda: trained(engine, tuning), "rescoring to finish")
    mine = await stub.GetLead(pb.GetLeadRequest(lead_id=watched_id), metadata=as_owner(tuning))
    assert mine.lead.model.version == "owner-1"
    assert mine.lead.model.trained_on_labels == 10
    assert mine.lead.model.HasField("train_time")
    assert mine.lead.score < 60  # this owner's "hot" leads never buy
    assert mine.lead.stage == lead_pb2.LEAD_STAGE_QUALIFIED  # no longer HOT, still qualified
    assert mine.score_history[-1].cause == lead_pb2.LEAD_CHANGE_CAUSE_MODEL_UPDATED
    weights = {f.kind: f.weight for f in mine.lead.factors}
    # Handoffs and loud intent marked this owner's losers: the fit learned to distrust them.
    assert weights[lead_pb2.SCORE_FACTOR_KIND_HANDOFF] < 0
    assert (
        weights[lead_pb2.SCORE_FACTOR_KIND_INTENT] < weights[lead_pb2.SCORE_FACTOR_KIND_ENGAGEMENT]
    )
    total = mine.lead.model.baseline + sum(f.contribution for f in mine.lead.factors)
    assert mine.lead.score == round(total)

    labelled_lost = await stub.GetLead(
        pb.GetLeadRequest(lead_id=labelled[2][0]), metadata=as_owner(tuning)
    )
    assert labelled_lost.lead.stage == lead_pb2.LEAD_STAGE_LOST  # the owner's stage stays
    assert labelled_lost.lead.model.version == "owner-1"

    theirs = await stub.GetLead(pb.GetLeadRequest(lead_id=twin_id), metadata=as_owner(bystander))
    assert theirs.lead.model.kind == lead_pb2.SCORING_MODEL_KIND_DEFAULT_WEIGHTS
    assert theirs.lead.score == 88
    assert theirs.lead.stage == lead_pb2.LEAD_STAGE_HOT
    assert theirs.score_history[-1].cause != lead_pb2.LEAD_CHANGE_CAUSE_MODEL_UPDATED

    await label(10)  # an eleventh label refits

    async def refitted() -> bool:
        got = await stub.GetLead(pb.GetLeadRequest(lead_id=watched_id), metadata=as_owner(tuning))
        return bool(got.lead.model.version == "owner-2")

    await eventually(refitted, "a second fit")
    again = await stub.GetLead(pb.GetLeadRequest(lead_id=watched_id), metadata=as_owner(tuning))
    assert again.lead.model.trained_on_labels == 11
