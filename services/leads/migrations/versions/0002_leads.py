"""leads: signal state per contact, leads, score history, owner models.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _uuid(name: str, *args: object, **kwargs: object) -> sa.Column[str]:
    return sa.Column(name, UUID(as_uuid=False), *args, **kwargs)  # type: ignore[arg-type]


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "lead_contacts",
        _uuid("owner_id", primary_key=True),
        _uuid("contact_id", primary_key=True),
        sa.Column("integration_id", sa.Text, nullable=False, server_default=""),
        sa.Column("platform", sa.Text, nullable=False, server_default=""),
        sa.Column("display_name", sa.Text, nullable=False, server_default=""),
        _time("profile_at"),
    )
    op.create_table(
        "lead_messages",
        _uuid("owner_id", primary_key=True),
        _uuid("message_id", primary_key=True),
        _uuid("contact_id", nullable=False),
        sa.Column("integration_id", sa.Text, nullable=False, server_default=""),
        sa.Column("inbound", sa.Boolean, nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        _time("sent_at"),
        _time("revised_at"),
    )
    op.create_index("lead_messages_contact", "lead_messages", ["owner_id", "contact_id"])
    op.create_table(
        "lead_assessments",
        _uuid("owner_id", primary_key=True),
        _uuid("message_id", primary_key=True),
        _uuid("contact_id", nullable=False),
        sa.Column("sentiment", sa.Float, nullable=False),
        sa.Column("intents", ARRAY(sa.Text), nullable=False),
        _time("assessed_at"),
    )
    op.create_index("lead_assessments_contact", "lead_assessments", ["owner_id", "contact_id"])
    op.create_table(
        "lead_fact_snapshots",
        _uuid("owner_id", primary_key=True),
        _uuid("event_id", primary_key=True),
        _uuid("contact_id", nullable=False),
        sa.Column("facts", JSONB, nullable=False),
        sa.Column("source_message_id", sa.Text, nullable=False, server_default=""),
        _time("saved_at"),
    )
    op.create_index(
        "lead_fact_snapshots_contact", "lead_fact_snapshots", ["owner_id", "contact_id"]
    )
    op.create_table(
        "lead_handoffs",
        _uuid("owner_id", primary_key=True),
        _uuid("handoff_id", primary_key=True),
        _uuid("contact_id", nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        _time("opened_at"),
        _time("resolved_at", nullable=True),
    )
    op.create_index("lead_handoffs_contact", "lead_handoffs", ["owner_id", "contact_id"])
    op.create_table(
        "leads",
        _uuid("id", primary_key=True),
        _uuid("owner_id", nullable=False),
        _uuid("contact_id", nullable=False),
        sa.Column("integration_id", sa.Text, nullable=False, server_default=""),
        sa.Column("platform", sa.Text, nullable=False, server_default=""),
        sa.Column("display_name", sa.Text, nullable=False, server_default=""),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("stage_overridden", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("owner_label", sa.Text, nullable=False, server_default=""),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        sa.Column("search_text", sa.Text, nullable=False, server_default=""),
        sa.Column("features", JSONB, nullable=False),
        sa.Column("model", JSONB, nullable=False),
        sa.Column("model_version", sa.Text, nullable=False),
        _time("last_activity_at"),
        _time("first_activity_at"),
        _time("updated_at"),
        sa.Column("last_cause", sa.Text, nullable=False),
        _time("recency_check_at", nullable=True),
        sa.Column("version", sa.BigInteger, nullable=False, server_default="1"),
        sa.UniqueConstraint("owner_id", "contact_id", name="leads_contact_unique"),
        sa.CheckConstraint(
            "stage IN ('new', 'engaged', 'qualified', 'hot', 'won', 'lost')", name="stage_valid"
        ),
        sa.CheckConstraint(
            "owner_label IN ('', 'good_lead', 'not_a_lead')", name="owner_label_valid"
        ),
    )
    op.create_index("leads_by_score", "leads", ["owner_id", "score", "id"])
    op.create_index("leads_by_activity", "leads", ["owner_id", "last_activity_at", "id"])
    op.create_index("leads_by_creation", "leads", ["owner_id", "first_activity_at", "id"])
    op.create_index("leads_by_update", "leads", ["owner_id", "updated_at"])
    op.create_index("leads_by_model", "leads", ["owner_id", "model_version"])
    op.create_index(
        "leads_recency_due",
        "leads",
        ["recency_check_at"],
        postgresql_where=sa.text("recency_check_at IS NOT NULL"),
    )
    op.create_table(
        "lead_score_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _uuid("lead_id", sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("cause", sa.Text, nullable=False),
        _time("at"),
    )
    op.create_index("lead_score_history_lead", "lead_score_history", ["lead_id", "id"])
    op.create_table(
        "owner_models",
        _uuid("owner_id", primary_key=True),
        sa.Column("model", JSONB, nullable=False),
        sa.Column("fits", sa.Integer, nullable=False, server_default="0"),
        sa.Column("label_version", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("trained_label_version", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rescore_pending", sa.Boolean, nullable=False, server_default=sa.false()),
        _time("updated_at"),
    )


def downgrade() -> None:
    for table in (
        "owner_models",
        "lead_score_history",
        "leads",
        "lead_handoffs",
        "lead_fact_snapshots",
        "lead_assessments",
        "lead_messages",
        "lead_contacts",
    ):
        op.drop_table(table)
