"""The review queue of likely duplicates and the record of every customer merge (for undo)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Uuid,
    column,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import IdMixin, TenantBase, str_enum


class DuplicateKind(enum.StrEnum):
    customer = "customer"  # left and right are customers
    contact = "contact"  # left and right are contacts
    lead = "lead"  # left is a lead, right the customer it seems to be


class CandidateStatus(enum.StrEnum):
    open = "open"
    dismissed = "dismissed"
    merged = "merged"


class DuplicateCandidate(IdMixin, TenantBase):
    """A pair found by the scan (or the auto-merge), waiting for a person's decision.

    Pairs are ordered (``left_id < right_id`` for customers and contacts), so one pair has one row
    whichever side the scan met first. No foreign keys: a candidate names records of three tables;
    the queue shows only pairs whose records are still live.
    """

    __tablename__ = "duplicate_candidates"

    kind: Mapped[DuplicateKind] = mapped_column(
        str_enum(DuplicateKind, "duplicate_kind"), nullable=False
    )
    left_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    right_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    # {"fields": [{"field", "similarity", "weight", "how"}…], "prior": …, "keys": […]}: no values.
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    status: Mapped[CandidateStatus] = mapped_column(
        str_enum(CandidateStatus, "candidate_status"), nullable=False, default=CandidateStatus.open
    )
    found_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    decided_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    merge_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    __table_args__ = (
        CheckConstraint("left_id <> right_id", name="distinct_sides"),
        CheckConstraint("score >= 0 AND score <= 1", name="score_range"),
        Index("uq_duplicate_candidates_pair", "kind", "left_id", "right_id", unique=True),
        # The queue: open pairs, best first.
        Index("ix_duplicate_candidates_status_score", "status", "score", "id"),
        Index("ix_duplicate_candidates_right_id", "right_id"),
    )


class CustomerMerge(IdMixin, TenantBase):
    """One merge: what the merged record was, which rows moved from it (per table and column),
    what the survivor's fields were before, and the adjustments made to avoid unique clashes —
    everything undo needs to put the two records back exactly."""

    __tablename__ = "customer_merges"

    survivor_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    merged_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    merged_snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    # {"survivor field": [before, after]} for the fields the merge changed.
    survivor_changes: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    # {"table.column": [row ids]}
    moved: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    # {"demoted_primary_contacts": [ids], "removed_attendees": [row snapshots]}
    adjustments: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    # [{"field": "phone", "from": "merged"}]
    choices: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    score: Mapped[float | None] = mapped_column(Float)
    automatic: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    merged_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    merged_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    undone_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("survivor_id <> merged_id", name="distinct_customers"),
        Index("ix_customer_merges_survivor_id_merged_at", "survivor_id", "merged_at"),
        # At most one standing (not undone) merge per merged record.
        Index(
            "uq_customer_merges_live_merged_id",
            "merged_id",
            unique=True,
            postgresql_where=column("undone_at").is_(None),
        ),
        Index("ix_customer_merges_merged_at_id", "merged_at", "id"),
    )
