"""leads's settings (env prefix INBETWIN_LEADS_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.kit.config import ServiceSettings


class LeadsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INBETWIN_LEADS_", extra="ignore", frozen=True)

    # An owner's model is fitted once they labelled this many leads, with this many of each class.
    model_min_labels: int = Field(default=10, ge=2)
    model_min_labels_per_class: int = Field(default=3, ge=1)
    # Pull of the default weights on a fitted model (L2 towards the prior); higher is stiffer.
    model_regularisation: float = Field(default=1.0, gt=0)
    # How often the trainer looks for work another instance queued (its own is picked up at once).
    trainer_poll_seconds: float = Field(default=5.0, gt=0)
    # How often leads whose recency decays are recomputed.
    recency_sweep_seconds: float = Field(default=300.0, gt=0)
    watch_heartbeat_seconds: float = Field(default=15.0, gt=0)
    watch_max_seconds: float = Field(default=3600.0, gt=0)
    watch_limit_per_owner: int = Field(default=10, ge=1)
    watch_replay_max_hours: float = Field(default=24.0, gt=0)
    # Added to a heartbeat's resume time to cover the bus's delivery delay between instances.
    watch_resume_margin_seconds: float = Field(default=5.0, ge=0)
