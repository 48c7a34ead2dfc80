"""The plans on offer and their limits: the one place they are defined."""

from __future__ import annotations

from dataclasses import dataclass

from inbetwin.auth.v1 import auth_service_pb2 as pb

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class PlanSpec:
    tier: int
    code: str
    display_name: str
    monthly_price_minor: int
    max_agents: int
    max_integrations: int
    max_messages_per_month: int
    max_knowledge_base_bytes: int


PLANS: tuple[PlanSpec, ...] = (
    PlanSpec(pb.PLAN_TIER_FREE, "free", "Free", 0, 1, 1, 300, 10 * MIB),
    PlanSpec(pb.PLAN_TIER_PRO, "pro", "Pro", 99000, 3, 5, 5000, 200 * MIB),
    PlanSpec(pb.PLAN_TIER_BUSINESS, "business", "Business", 399000, 20, 30, 50000, 2048 * MIB),
)
CURRENCY = "RUB"
BY_CODE = {plan.code: plan for plan in PLANS}
BY_TIER = {plan.tier: plan for plan in PLANS}


def to_proto(plan: PlanSpec) -> pb.Plan:
    return pb.Plan(
        tier=plan.tier,  # type: ignore[arg-type]
        display_name=plan.display_name,
        monthly_price_minor=plan.monthly_price_minor,
        currency=CURRENCY,
        limits=limits_proto(plan),
    )


def limits_proto(plan: PlanSpec) -> pb.PlanLimits:
    return pb.PlanLimits(
        max_agents=plan.max_agents,
        max_integrations=plan.max_integrations,
        max_messages_per_month=plan.max_messages_per_month,
        max_knowledge_base_bytes=plan.max_knowledge_base_bytes,
    )
