"""leads's tables (its own database). Every row carries `owner_id` and every query filters on it.

Signal tables hold the per-signal state a lead is computed from, each under its natural key:
a message id, an assessed message id, a fact snapshot's event id, a handoff id.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = sa.MetaData()

STAGES = ("new", "engaged", "qualified", "hot", "won", "lost")
OWNER_LABELS = ("", "good_lead", "not_a_lead")

lead_contacts = sa.Table(
    "lead_contacts",
    metadata,
    sa.Column("owner_id", UUID(as_uuid=False), primary_key=True),
    sa.Column("contact_id", UUID(as_uuid=False), primary_key=True),
    sa.Column("integration_id", sa.Text, nullable=False, server_default=""),
    sa.Column("platform", sa.Text, nullable=False, server_default=""),
    sa.Column("display_name", sa.Text, nullable=False, server_default=""),
    # The time of the event that carried this profile: a later profile wins, an older one is ignored.
    sa.Column("profile_at", sa.DateTime(timezone=True), nullable=False),
)

lead_messages = sa.Table(
    "lead_messages",
    metadata,
    sa.Column("owner_id", UUID(as_uuid=False), primary_key=True),
    sa.Column("message_id", UUID(as_uuid=False), primary_key=True),
    sa.Column("contact_id", UUID(as_uuid=False), nullable=False),
    sa.Column("integration_id", sa.Text, nullable=False, server_default=""),
    sa.Column("inbound", sa.Boolean, nullable=False),
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False, server_default=""),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    # The edit time of the stored text (or `sent_at`): a later edit wins, an older one is ignored.
    sa.Column("revised_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("lead_messages_contact", "owner_id", "contact_id"),
)

lead_assessments = sa.Table(
    "lead_assessments",
    metadata,
    sa.Column("owner_id", UUID(as_uuid=False), primary_key=True),
    sa.Column("message_id", UUID(as_uuid=False), primary_key=True),
    sa.Column("contact_id", UUID(as_uuid=False), nullable=False),
    sa.Column("sentiment", sa.Float, nullable=False),
    sa.Column("intents", ARRAY(sa.Text), nullable=False),
    sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("lead_assessments_contact", "owner_id", "contact_id"),
)

lead_fact_snapshots = sa.Table(
    "lead_fact_snapshots",
    metadata,
    sa.Column("owner_id", UUID(as_uuid=False), primary_key=True),
    sa.Column("event_id", UUID(as_uuid=False), primary_key=True),
    sa.Column("contact_id", UUID(as_uuid=False), nullable=False),
    sa.Column("facts", JSONB, nullable=False),
    sa.Column("source_message_id", sa.Text, nullable=False, server_default=""),
    sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("lead_fact_snapshots_contact", "owner_id", "contact_id"),
)

lead_handoffs = sa.Table(
    "lead_handoffs",
    metadata,
    sa.Column("owner_id", UUID(as_uuid=False), primary_key=True),
    sa.Column("handoff_id", UUID(as_uuid=False), primary_key=True),
    sa.Column("contact_id", UUID(as_uuid=False), nullable=False),
    sa.Column("requested_by", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("lead_handoffs_contact", "owner_id", "contact_id"),
)

leads = sa.Table(
    "leads",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column("owner_id", UUID(as_uuid=False), nullable=False),
    sa.Column("contact_id", UUID(as_uuid=False), nullable=False),
    sa.Column("integration_id", sa.Text, nullable=False, server_default=""),
    sa.Column("platform", sa.Text, nullable=False, server_default=""),
    sa.Column("display_name", sa.Text, nullable=False, server_default=""),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("stage_overridden", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("owner_label", sa.Text, nullable=False, server_default=""),
    sa.Column("notes", sa.Text, nullable=False, server_default=""),
    # display_name and notes case-folded in Python: ListLeads' text filter must ignore case in
    # every script, whatever the database's locale (with C, ILIKE folds ASCII only).
    sa.Column("search_text", sa.Text, nullable=False, server_default=""),
    # services.leads.features.FeatureSet and services.leads.scoring.ScoringModel as JSON: the
    # breakdown is the model applied to the features.
    sa.Column("features", JSONB, nullable=False),
    sa.Column("model", JSONB, nullable=False),
    sa.Column("model_version", sa.Text, nullable=False),
    sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("first_activity_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_cause", sa.Text, nullable=False),
    # When time alone will next change the engagement value (recency); NULL: it no longer will.
    sa.Column("recency_check_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("version", sa.BigInteger, nullable=False, server_default="1"),
    sa.UniqueConstraint("owner_id", "contact_id", name="leads_contact_unique"),
    sa.CheckConstraint(f"stage IN ({', '.join(repr(s) for s in STAGES)})", name="stage_valid"),
    sa.CheckConstraint(
        f"owner_label IN ({', '.join(repr(s) for s in OWNER_LABELS)})", name="owner_label_valid"
    ),
    sa.Index("leads_by_score", "owner_id", "score", "id"),
    sa.Index("leads_by_activity", "owner_id", "last_activity_at", "id"),
    sa.Index("leads_by_creation", "owner_id", "first_activity_at", "id"),
    sa.Index("leads_by_update", "owner_id", "updated_at"),
    sa.Index("leads_by_model", "owner_id", "model_version"),
    sa.Index(
        "leads_recency_due",
        "recency_check_at",
        postgresql_where=sa.text("recency_check_at IS NOT NULL"),
    ),
)

lead_score_history = sa.Table(
    "lead_score_history",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column(
        "lead_id",
        UUID(as_uuid=False),
        sa.ForeignKey("leads.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("cause", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("lead_score_history_lead", "lead_id", "id"),
)

# One row per owner who ever labelled a lead. `label_version` moves with every label change;
# the trainer refits while `trained_label_version` lags behind it, then rescores the owner's
# leads while `rescore_pending`.
owner_models = sa.Table(
    "owner_models",
    metadata,
    sa.Column("owner_id", UUID(as_uuid=False), primary_key=True),
    sa.Column("model", JSONB, nullable=False),
    sa.Column("fits", sa.Integer, nullable=False, server_default="0"),
    sa.Column("label_version", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("trained_label_version", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("rescore_pending", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
