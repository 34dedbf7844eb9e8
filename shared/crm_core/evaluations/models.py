"""Relationship evaluation (客户关系评估表): tenant-defined weighted criteria, an evaluation of a
customer with a score per criterion, the weighted total and a recommendation (domain.md)."""

from __future__ import annotations

import enum
import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    column,
)
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import AuditedMixin, IdMixin, TenantBase, str_enum


class Recommendation(enum.StrEnum):
    develop = "develop"
    maintain = "maintain"
    end = "end"


class EvaluationCriterion(IdMixin, AuditedMixin, TenantBase):
    __tablename__ = "evaluation_criteria"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    __table_args__ = (
        CheckConstraint("weight > 0", name="weight_positive"),
        # Names are unique among live criteria (a deleted one may be re-created by name); the
        # service answers DUPLICATE on "name" before the database has to.
        Index(
            "uq_evaluation_criteria_live_name",
            "name",
            unique=True,
            postgresql_where=column("deleted_at").is_(None),
        ),
        # The default list order (position, then name).
        Index("ix_evaluation_criteria_position_id", "position", "id"),
        Index("ix_evaluation_criteria_created_at_id", "created_at", "id"),
    )


class RelationshipEvaluation(IdMixin, AuditedMixin, TenantBase):
    __tablename__ = "relationship_evaluations"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    evaluated_on: Mapped[date] = mapped_column(Date, nullable=False)
    # A member of the tenant (core.users; no foreign key across schemas, as customers.owner_id).
    evaluator_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    # The weighted mean of the scores, kept by the service with the scores it summarises.
    total_score: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    recommendation: Mapped[Recommendation] = mapped_column(
        str_enum(Recommendation, "evaluation_recommendation"), nullable=False
    )
    # True when a person chose the recommendation; otherwise it follows the total and the
    # company's thresholds on every change of the scores.
    recommendation_manual: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    notes: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("total_score BETWEEN 0 AND 100", name="total_score_range"),
        # A customer's evaluations, latest first (Customer.evaluations / latestEvaluation).
        Index(
            "ix_relationship_evaluations_customer_id_evaluated_on",
            "customer_id",
            "evaluated_on",
            "id",
        ),
        # The default list order, and "created" orderings.
        Index("ix_relationship_evaluations_evaluated_on_id", "evaluated_on", "id"),
        Index("ix_relationship_evaluations_created_at_id", "created_at", "id"),
        # "My evaluations" lists.
        Index("ix_relationship_evaluations_evaluator_id", "evaluator_id", "evaluated_on"),
    )


class EvaluationScore(IdMixin, TenantBase):
    """One criterion's score in an evaluation; replaced as a whole list with the evaluation, so it
    has no lifecycle of its own (the evaluation's audit entry carries the scores)."""

    __tablename__ = "evaluation_scores"

    evaluation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("relationship_evaluations.id", ondelete="CASCADE"), nullable=False
    )
    # RESTRICT: a criterion that was used is deactivated or soft-deleted, never destroyed
    # under the scores it explains.
    criterion_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("evaluation_criteria.id", ondelete="RESTRICT"), nullable=False
    )
    score: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    # The criterion's weight when the score was given: the total stays explainable after the
    # company reweights its criteria.
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2), nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("score BETWEEN 0 AND 100", name="score_range"),
        CheckConstraint("weight > 0", name="weight_positive"),
        # One score per criterion and evaluation; also the scores of an evaluation (loader).
        UniqueConstraint("evaluation_id", "criterion_id"),
        # "Is this criterion used?" (destroy check).
        Index("ix_evaluation_scores_criterion_id", "criterion_id"),
    )
