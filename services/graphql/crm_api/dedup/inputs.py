"""Deduplication inputs."""

from __future__ import annotations

import enum

import strawberry
from strawberry import UNSET

from crm_api.dedup.types import DuplicateKind, DuplicateStatus


@strawberry.input
class DuplicateCandidateFilter:
    kind: DuplicateKind | None = None
    status: DuplicateStatus | None = strawberry.field(
        default=DuplicateStatus.OPEN, description="OPEN by default; null for every status."
    )
    min_score: float | None = None
    record_id: strawberry.ID | None = strawberry.field(
        default=None, description="Pairs with this customer, contact or lead on either side."
    )


@strawberry.enum
class MergeSide(enum.Enum):
    SURVIVOR = "survivor"
    MERGED = "merged"


@strawberry.input(description="Take one field (group) from the survivor or the merged customer.")
class MergeChoice:
    field: str = strawberry.field(
        description="name, kind, industry, grade, source, phone, email, website, address, taxId, "
        "bankAccount, notes, tags, preferredProducts, importantDates, doNotVisit, lifecycleStage, "
        "owner, creditRating, paymentHabit, purchaseFrequency, preferredServiceMode, gender, "
        "birthDate, areaType, incomeBand, distanceKm"
    )
    from_: MergeSide = strawberry.field(name="from")


@strawberry.input
class DedupSettingsInput:
    auto_merge_threshold: float | None = strawberry.field(
        default=UNSET, description="0.5–1, or null to never merge without review."
    )
    undo_window_days: int | None = UNSET
    min_score: float | None = UNSET


@strawberry.input(
    description="The fields of a customer about to be created or updated (as in "
    "CreateCustomerInput); those that identify a party are compared."
)
class CustomerDuplicatesInput:
    name: str | None = None
    kind: str | None = strawberry.field(default=None, description="company (default) or individual")
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    address_line: str | None = None
    city: str | None = None
    district: str | None = None
    street: str | None = None
