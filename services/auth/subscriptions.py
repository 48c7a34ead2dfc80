"""Plan changes: the subscription row, its version, and the SubscriptionUpdated event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from inbetwin.auth.v1 import auth_service_pb2 as pb
from inbetwin.events.v1 import auth_events_pb2
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from services.auth import plans, repository
from services.auth.plans import PlanSpec
from services.kit.errors import ServiceError, not_found
from services.kit.events import deterministic_id, new_event
from services.kit.outbox import add_event

BILLING_PERIOD = timedelta(days=30)


async def change_plan(conn: AsyncConnection, *, user_id: str, plan: PlanSpec) -> Row[Any]:
    """Move the owner to `plan` now; the event and the row commit together."""
    current = await repository.lock_subscription(conn, user_id=user_id)
    if current is None:
        raise not_found("USER_NOT_FOUND", "user")
    if current.plan == plan.code:
        raise ServiceError(
            grpc.StatusCode.FAILED_PRECONDITION, "PLAN_UNCHANGED", f"already on {plan.display_name}"
        )
    # Payment seam: a paid plan would be applied here only once the payment provider confirmed
    # the charge (its webhook or a checked payment intent id carried by the request); a
    # downgrade would take effect at `renews_at`. Payment is out of scope, so it applies now.
    renews_at = datetime.now(UTC) + BILLING_PERIOD if plan.monthly_price_minor else None
    row = await repository.change_subscription(
        conn, user_id=user_id, plan=plan.code, renews_at=renews_at
    )
    await add_event(
        conn,
        new_event(
            auth_events_pb2.SubscriptionUpdated,
            owner_id=user_id,
            # One event per subscription version: a retried commit cannot publish two.
            event_id=deterministic_id("subscription.updated", user_id, str(row.version)),
            plan=plan.code,
            max_agents=plan.max_agents,
            max_integrations=plan.max_integrations,
            max_messages_per_month=plan.max_messages_per_month,
            max_knowledge_base_bytes=plan.max_knowledge_base_bytes,
            version=row.version,
        ),
    )
    return row


def subscription_proto(row: Row[Any]) -> pb.Subscription:
    subscription = pb.Subscription(plan=plans.to_proto(plans.BY_CODE[row.plan]))
    subscription.start_time.FromDatetime(row.started_at)
    if row.renews_at is not None:
        subscription.renew_time.FromDatetime(row.renews_at)
    return subscription
