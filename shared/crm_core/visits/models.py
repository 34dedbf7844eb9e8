"""Visit plans (客户联络计划表) and visit records (客户拜访记录表, 拜访日报): who goes to see
which customer, when and why; and what came of a visit, graded A–E, with its expenses."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    Uuid,
    column,
)
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import AuditedMixin, IdMixin, TenantBase, str_enum


class VisitPlanStatus(enum.StrEnum):
    planned = "planned"
    done = "done"
    cancelled = "cancelled"


# planned → done | cancelled; both are final (a new visit is a new plan).
TRANSITIONS: dict[VisitPlanStatus, frozenset[VisitPlanStatus]] = {
    VisitPlanStatus.planned: frozenset({VisitPlanStatus.done, VisitPlanStatus.cancelled}),
    VisitPlanStatus.done: frozenset(),
    VisitPlanStatus.cancelled: frozenset(),
}


class VisitOutcome(enum.StrEnum):
    """The grade a visit report gives (拜访结果), with its meaning in ``OUTCOME_LABELS``."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"


OUTCOME_LABELS: dict[VisitOutcome, str] = {
    VisitOutcome.A: "deal done",  # 成交
    VisitOutcome.B: "promising",  # 有希望
    VisitOutcome.C: "visit again",  # 需再次拜访
    VisitOutcome.D: "no hope",  # 无希望
    VisitOutcome.E: "keep watching",  # 继续观察
}


class VisitPlan(IdMixin, AuditedMixin, TenantBase):
    __tablename__ = "visit_plans"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    # Whom to see; destroying the contact keeps the plan.
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("contacts.id", ondelete="SET NULL")
    )
    planned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    purpose: Mapped[str] = mapped_column(String(1000), nullable=False)
    place: Mapped[str | None] = mapped_column(String(300))
    # A member of the tenant (core.users; no foreign key across schemas, as customers.owner_id).
    visitor_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    status: Mapped[VisitPlanStatus] = mapped_column(
        str_enum(VisitPlanStatus, "visit_plan_status"),
        nullable=False,
        default=VisitPlanStatus.planned,
    )
    notes: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")

    __table_args__ = (
        # Customer.visitPlans and the customerId filter.
        Index("ix_visit_plans_customer_id_planned_at", "customer_id", "planned_at", "id"),
        # The default list order (next visits first) and plannedAt ranges.
        Index("ix_visit_plans_planned_at_id", "planned_at", "id"),
        Index("ix_visit_plans_created_at_id", "created_at", "id"),
        Index("ix_visit_plans_contact_id", "contact_id"),
        # "My visit plans" (a rep's agenda): live plans still to do, by time.
        Index(
            "ix_visit_plans_visitor_id_planned",
            "visitor_id",
            "planned_at",
            postgresql_where=(column("status") == "planned") & column("deleted_at").is_(None),
        ),
        Index(
            "ix_visit_plans_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )


class VisitRecord(IdMixin, AuditedMixin, TenantBase):
    __tablename__ = "visit_records"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("contacts.id", ondelete="SET NULL")
    )
    # The plan this visit carried out (same customer); destroying the plan keeps the report.
    plan_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("visit_plans.id", ondelete="SET NULL")
    )
    visited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    visitor_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    outcome: Mapped[VisitOutcome] = mapped_column(
        str_enum(VisitOutcome, "visit_outcome"), nullable=False
    )
    content: Mapped[str | None] = mapped_column(Text)
    problems_solved: Mapped[str | None] = mapped_column(Text)
    watch_next_time: Mapped[str | None] = mapped_column(Text)
    expenses: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    next_visit_on: Mapped[date | None] = mapped_column(Date)
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")

    __table_args__ = (
        # The service checks these with field errors; the database holds them whatever the writer.
        CheckConstraint("expenses >= 0", name="expenses_not_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
        # Customer.visitRecords and the customerId filter.
        Index("ix_visit_records_customer_id_visited_at", "customer_id", "visited_at", "id"),
        # The default list order (latest first) and visitedAt ranges (the daily report, 拜访日报).
        Index("ix_visit_records_visited_at_id", "visited_at", "id"),
        Index("ix_visit_records_created_at_id", "created_at", "id"),
        Index("ix_visit_records_contact_id", "contact_id"),
        # "My visits" of a rep, by time.
        Index("ix_visit_records_visitor_id_visited_at", "visitor_id", "visited_at"),
        # One report per plan (VisitPlan.record), soft-deleted ones included so a restore never
        # collides; also the lookup of VisitPlan.record.
        Index(
            "uq_visit_records_plan_id",
            "plan_id",
            unique=True,
            postgresql_where=column("plan_id").is_not(None),
        ),
        # Visits due again soon (reminders, "to visit this week").
        Index(
            "ix_visit_records_next_visit_on",
            "next_visit_on",
            postgresql_where=column("next_visit_on").is_not(None) & column("deleted_at").is_(None),
        ),
        Index(
            "ix_visit_records_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )
