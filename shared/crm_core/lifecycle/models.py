"""Customer lifecycle history (客户生命周期表): one row per change of a customer's stage.

Rows are written by the customer service in the same transaction as the change and never edited:
the history is a record of what happened, so it has no version, soft delete or update.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Text, Uuid, func
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.customers.models import LifecycleStage
from crm_core.db.base import IdMixin, TenantBase, str_enum


class CustomerLifecycleEvent(IdMixin, TenantBase):
    __tablename__ = "customer_lifecycle_events"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    # Null on the event that records the stage a customer was created with.
    from_stage: Mapped[LifecycleStage | None] = mapped_column(
        str_enum(LifecycleStage, "lifecycle_event_from_stage")
    )
    to_stage: Mapped[LifecycleStage] = mapped_column(
        str_enum(LifecycleStage, "lifecycle_event_to_stage"), nullable=False
    )
    changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    # Who changed it (a member, an API client's record id; null for the system).
    changed_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # Customer.lifecycleHistory (per customer, latest first) and the customerId filter.
        Index(
            "ix_customer_lifecycle_events_customer_id_changed_at",
            "customer_id",
            "changed_at",
            "id",
        ),
        # The default order of customerLifecycleEvents and changedAt ranges ("who churned in May").
        Index("ix_customer_lifecycle_events_changed_at_id", "changed_at", "id"),
        # "Which customers moved into this stage" (the report on churn, on loyalty).
        Index("ix_customer_lifecycle_events_to_stage_changed_at", "to_stage", "changed_at"),
    )
