"""LeadsService handlers: validate (done by the pipeline), call the domain, map to proto."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import grpc
from inbetwin.leads.v1 import lead_pb2, leads_service_pb2_grpc
from inbetwin.leads.v1 import leads_service_pb2 as pb
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.identity import current_caller
from services.kit.outbox import OutboxRelay
from services.leads import errors, page_tokens, repository
from services.leads.changes import Cause, apply_change
from services.leads.features import FeatureSet
from services.leads.mapping import (
    LABEL_FROM_PROTO,
    STAGE_FROM_PROTO,
    history_to_proto,
    lead_to_proto,
)
from services.leads.repository import LeadFilter, Order
from services.leads.scoring import DEFAULT_MODEL
from services.leads.stages import automatic_stage
from services.leads.trainer import ModelTrainer
from services.leads.watch import Watcher, WatchFilter, WatchHub, WatchStream, WatchTiming
from services.leads.watch_slots import WatchSlots

UPDATABLE_FIELDS = ("stage", "notes", "owner_label")
DEFAULT_PAGE_SIZE = 50
DEFAULT_HISTORY = 100
ORDERS = {
    "": Order("score", descending=True),
    "score desc": Order("score", descending=True),
    "score asc": Order("score", descending=False),
    "last_activity_time desc": Order("last_activity_at", descending=True),
    "last_activity_time asc": Order("last_activity_at", descending=False),
    "create_time desc": Order("first_activity_at", descending=True),
}


class LeadsServicer(leads_service_pb2_grpc.LeadsServiceServicer):
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        relay: OutboxRelay,
        trainer: ModelTrainer,
        hub: WatchHub,
        slots: WatchSlots,
        timing: WatchTiming,
        replay_window: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._trainer = trainer
        self._hub = hub
        self._slots = slots
        self._timing = timing
        self._replay_window = replay_window
        self._clock = clock

    async def ListLeads(
        self, request: pb.ListLeadsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListLeadsResponse:
        owner_id = current_caller().user_id
        order = ORDERS[request.order_by]
        where = LeadFilter(
            owner_id=owner_id,
            stages=tuple(sorted(STAGE_FROM_PROTO[s].value for s in request.stages)),
            integration_id=request.integration_id.lower(),
            contact_id=request.contact_id.lower(),
            min_score=request.min_score,
            query=request.query.strip(),
        )
        scope = json.dumps(
            [
                where.owner_id,
                where.stages,
                where.integration_id,
                where.contact_id,
                where.min_score,
                where.query,
                request.order_by,
            ]
        )
        after = page_tokens.decode(
            request.page_token, scope=scope, time_key=order.column != "score"
        )
        size = request.page_size or DEFAULT_PAGE_SIZE
        async with self._engine.connect() as conn:
            rows = await repository.list_leads(
                conn, where=where, order=order, after=after, limit=size + 1
            )
            total = await repository.count_leads(conn, where=where)
        response = pb.ListLeadsResponse(
            leads=[
                lead_to_proto(row, full=request.view == pb.LEAD_VIEW_FULL) for row in rows[:size]
            ],
            total_size=total,
        )
        if len(rows) > size:
            last = rows[size - 1]
            response.next_page_token = page_tokens.encode(
                scope=scope, key=last._mapping[order.column], row_id=last.id
            )
        return response

    async def GetLead(
        self, request: pb.GetLeadRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetLeadResponse:
        owner_id = current_caller().user_id
        async with self._engine.connect() as conn:
            row = await repository.lead_by_id(conn, owner_id=owner_id, lead_id=request.lead_id)
            if row is None:
                raise errors.lead_not_found()
            history = await repository.score_history(
                conn, lead_id=row.id, limit=request.score_history_limit or DEFAULT_HISTORY
            )
        return pb.GetLeadResponse(
            lead=lead_to_proto(row, full=True),
            score_history=[history_to_proto(point) for point in history],
        )

    async def UpdateLead(
        self, request: pb.UpdateLeadRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateLeadResponse:
        paths = list(dict.fromkeys(request.update_mask.paths))
        unknown = [p for p in paths if p not in UPDATABLE_FIELDS]
        if unknown or not paths:
            raise errors.field_not_updatable(
                f"update_mask must name some of {', '.join(UPDATABLE_FIELDS)}", unknown
            )
        owner_id = current_caller().user_id
        now = self._clock()
        async with self._engine.begin() as conn:
            found = await repository.lead_by_id(conn, owner_id=owner_id, lead_id=request.lead_id)
            if found is None:
                raise errors.lead_not_found()
            await repository.lock_contact(conn, owner_id=owner_id, contact_id=found.contact_id)
            lead = await repository.lead_by_id(conn, owner_id=owner_id, lead_id=found.id, lock=True)
            assert lead is not None  # leads are never deleted
            values: dict[str, object] = {}
            if "stage" in paths:
                if request.lead.stage == lead_pb2.LEAD_STAGE_UNSPECIFIED:
                    features = FeatureSet.from_json(lead.features)
                    values["stage"] = automatic_stage(features, lead.score).value
                    values["stage_overridden"] = False
                else:
                    values["stage"] = STAGE_FROM_PROTO[request.lead.stage].value
                    values["stage_overridden"] = True
            if "owner_label" in paths:
                values["owner_label"] = LABEL_FROM_PROTO[request.lead.owner_label]
            if "notes" in paths:
                values["notes"] = request.lead.notes
            labels_changed = any(
                values[k] != lead._mapping[k]
                for k in ("stage", "stage_overridden", "owner_label")
                if k in values
            )
            change = await apply_change(
                conn,
                existing=lead,
                owner_id=owner_id,
                contact_id=lead.contact_id,
                values=values,
                cause=Cause.OWNER_UPDATE,
                now=now,
            )
            if labels_changed:
                await repository.note_label_change(
                    conn, owner_id=owner_id, default_model=DEFAULT_MODEL.to_json(), now=now
                )
        if change is not None:
            self._relay.notify()
        if labels_changed:
            self._trainer.notify()
        return pb.UpdateLeadResponse(lead=lead_to_proto(change.lead if change else lead, full=True))

    async def WatchLeads(
        self, request: pb.WatchLeadsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchLeadsResponse]:
        owner_id = current_caller().user_id
        since = (
            request.since_time.ToDatetime(tzinfo=UTC) if request.HasField("since_time") else None
        )
        if since is not None and since < self._clock() - self._replay_window:
            raise errors.resync_required(self._replay_window.total_seconds() / 3600)
        try:
            slot = await self._slots.acquire(owner_id)
        except RedisError as error:
            raise errors.unavailable("the watch registry") from error
        if slot is None:
            raise errors.watch_limit_reached(self._slots.limit)
        watcher = Watcher(
            owner_id=owner_id,
            filter=WatchFilter(
                stages=frozenset(STAGE_FROM_PROTO[s].value for s in request.stages),
                min_score=request.min_score,
                integration_id=request.integration_id.lower(),
            ),
            full=request.view == pb.LEAD_VIEW_FULL,
        )

        async def renew() -> None:
            await self._slots.renew(owner_id, slot)

        stream = WatchStream(hub=self._hub, engine=self._engine, timing=self._timing, renew=renew)
        try:
            # Headers now, not with the first change: REST clients see their 200 at once.
            await context.send_initial_metadata(())
            async for message in stream.run(watcher, since):
                yield message
        finally:
            with contextlib.suppress(RedisError):  # the lease expires on its own
                await self._slots.release(owner_id, slot)
