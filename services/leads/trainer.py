"""The background trainer: refits an owner's model after their labels change, then rescores
that owner's leads (and nobody else's).

Work is found in the database (`owner_models` rows whose labels moved on, or whose rescoring did
not finish), so it survives restarts and spreads over instances: an owner's row is claimed with
`FOR UPDATE SKIP LOCKED`. `notify()` wakes the local loop right after an owner's update.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.outbox import OutboxRelay
from services.leads import repository
from services.leads.changes import Cause, apply_change, current_model, owner_stage, scored_values
from services.leads.features import FeatureSet
from services.leads.scoring import DEFAULT_MODEL, ScoringModel
from services.leads.stages import Stage
from services.leads.training import Example, TrainingPolicy, fit, label_of

log = logging.getLogger("inbetwin.leads.trainer")

RESCORE_BATCH = 100


class ModelTrainer:
    def __init__(
        self,
        engine: AsyncEngine,
        relay: OutboxRelay,
        *,
        policy: TrainingPolicy,
        poll_interval: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._engine = engine
        self._relay = relay
        self._policy = policy
        self._poll_interval = poll_interval
        self._clock = clock
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def notify(self) -> None:
        self._wakeup.set()

    async def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while not self._stopping:
            self._wakeup.clear()
            try:
                await self.run_once()
            except Exception:
                log.exception("training failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._poll_interval)

    async def run_once(self) -> int:
        """Train and rescore every owner that needs it; returns how many owners were handled."""
        async with self._engine.connect() as conn:
            owners = await repository.owners_needing_training(conn, limit=50)
        handled = 0
        for owner_id in owners:
            if self._stopping:
                break
            if await self.train(owner_id):
                handled += 1
                await self.rescore(owner_id)
        return handled

    async def train(self, owner_id: str) -> bool:
        """Refit the owner's model if their labels changed; False when another instance has it."""
        async with self._engine.begin() as conn:
            row = await repository.claim_owner_model(conn, owner_id=owner_id)
            if row is None:
                return False
            if row.trained_label_version >= row.label_version:
                return True  # only rescoring is left
            examples = [
                Example(FeatureSet.from_json(lead.features).values(), label)
                for lead in await repository.labelled_leads(conn, owner_id=owner_id)
                if (
                    label := label_of(
                        stage=Stage(lead.stage),
                        stage_overridden=lead.stage_overridden,
                        owner_label=lead.owner_label,
                    )
                )
                is not None
            ]
            previous = ScoringModel.from_json(row.model)
            fits = row.fits
            if self._policy.enough(examples):
                fits += 1
                model = fit(
                    examples,
                    regularisation=self._policy.regularisation,
                    version=f"owner-{fits}",
                    now=self._clock(),
                )
            else:
                model = DEFAULT_MODEL
            await repository.store_owner_model(
                conn,
                owner_id=owner_id,
                model=model.to_json(),
                fits=fits,
                trained_label_version=row.label_version,
                rescore_pending=row.rescore_pending or model.version != previous.version,
                now=self._clock(),
            )
        log.info(
            "owner model trained",
            extra={"owner": owner_id, "version": model.version, "labels": len(examples)},
        )
        return True

    async def rescore(self, owner_id: str) -> int:
        """Rescore the owner's leads scored by any other model than the current one."""
        rescored = 0
        while not self._stopping:
            async with self._engine.connect() as conn:
                model = await current_model(conn, owner_id=owner_id)
                batch = await repository.leads_scored_by_other_models(
                    conn, owner_id=owner_id, version=model.version, limit=RESCORE_BATCH
                )
            if not batch:
                async with self._engine.begin() as conn:
                    await repository.finish_rescoring(
                        conn, owner_id=owner_id, version=model.version
                    )
                return rescored
            for row in batch:
                rescored += await self._rescore_lead(owner_id, row.contact_id)
            self._relay.notify()
        return rescored

    async def _rescore_lead(self, owner_id: str, contact_id: str) -> int:
        async with self._engine.begin() as conn:
            await repository.lock_contact(conn, owner_id=owner_id, contact_id=contact_id)
            lead = await repository.lead_by_contact(
                conn, owner_id=owner_id, contact_id=contact_id, lock=True
            )
            if lead is None:
                return 0
            model = await current_model(conn, owner_id=owner_id)
            values = scored_values(
                FeatureSet.from_json(lead.features), model, owner_stage=owner_stage(lead)
            )
            change = await apply_change(
                conn,
                existing=lead,
                owner_id=owner_id,
                contact_id=contact_id,
                values=values,
                cause=Cause.MODEL_UPDATED,
                now=self._clock(),
            )
        return 0 if change is None else 1
