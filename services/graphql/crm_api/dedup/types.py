"""Deduplication types: a candidate pair with its explained score, a merge, the settings."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry

from crm_api.contacts.types import Contact
from crm_api.context import Info
from crm_api.customers.types import Customer
from crm_api.leads.types import Lead
from crm_api.related import customer_of
from crm_api.relay import to_global_id
from crm_core.dedup.models import CustomerMerge as MergeRow
from crm_core.dedup.models import DuplicateCandidate as CandidateRow
from crm_core.dedup.schemas import DedupSettings as SettingsModel
from crm_core.dedup.scoring import Evidence


@strawberry.enum
class DuplicateKind(enum.Enum):
    CUSTOMER = "customer"
    CONTACT = "contact"
    LEAD = "lead"


@strawberry.enum
class DuplicateStatus(enum.Enum):
    OPEN = "open"
    DISMISSED = "dismissed"
    MERGED = "merged"


@strawberry.type(description="One field's part in a score: how alike, and how much it weighed.")
class DuplicateEvidence:
    field: str = strawberry.field(description="name, phone, email, tax_id, website, city, …")
    similarity: float = strawberry.field(description="0 (different) to 1 (the same).")
    weight: float = strawberry.field(
        description="Its contribution to the score in log-odds: positive for, negative against."
    )
    how: str = strawberry.field(
        description="exact, core name, pinyin, transliteration, word order, abbreviation, …"
    )

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> DuplicateEvidence:
        return cls(
            field=str(item["field"]),
            similarity=float(item["similarity"]),
            weight=float(item["weight"]),
            how=str(item["how"]),
        )

    @classmethod
    def from_evidence(cls, e: Evidence) -> DuplicateEvidence:
        return cls.from_json(e.as_dict())


_TYPES = {"customer": ("Customer", "Customer"), "contact": ("Contact", "Contact"),
          "lead": ("Lead", "Customer")}  # fmt: skip


@strawberry.type(description="A likely duplicate pair in the review queue.")
class DuplicateCandidate:
    id: strawberry.ID
    kind: DuplicateKind
    score: float = strawberry.field(description="0–1: how likely the two are one party.")
    status: DuplicateStatus
    found_at: datetime
    decided_at: datetime | None
    left_id: strawberry.ID = strawberry.field(description="A Customer, Contact or Lead id.")
    right_id: strawberry.ID = strawberry.field(description="A Customer or Contact id.")
    evidence: list[DuplicateEvidence]
    blocked_on: list[str] = strawberry.field(
        description="The keys the pair shares (phone, email, name, company…): how it was found."
    )
    merge_id: strawberry.ID | None
    _row: strawberry.Private[CandidateRow]

    @classmethod
    def from_model(cls, row: CandidateRow) -> DuplicateCandidate:
        kind = row.kind.value
        left_type, right_type = _TYPES[kind]
        evidence = row.evidence or {}
        return cls(
            id=strawberry.ID(to_global_id("DuplicateCandidate", row.id)),
            kind=DuplicateKind(kind),
            score=row.score,
            status=DuplicateStatus(row.status.value),
            found_at=row.found_at,
            decided_at=row.decided_at,
            left_id=strawberry.ID(to_global_id(left_type, row.left_id)),
            right_id=strawberry.ID(to_global_id(right_type, row.right_id)),
            evidence=[DuplicateEvidence.from_json(e) for e in evidence.get("fields", [])],
            blocked_on=list(evidence.get("blockedOn", [])),
            merge_id=strawberry.ID(to_global_id("CustomerMerge", row.merge_id))
            if row.merge_id
            else None,
            _row=row,
        )

    @strawberry.field(description="The two customers (kind CUSTOMER), or the one a lead matches.")
    async def customers(self, info: Info) -> list[Customer]:
        ids = {"customer": [self._row.left_id, self._row.right_id], "lead": [self._row.right_id]}
        keys = ids.get(self._row.kind.value, [])
        rows = await info.context.loaders.customer_by_id.load_many(keys)
        mask = info.context.mask_personal
        return [Customer.from_model(r, mask) for r in rows if r is not None]

    @strawberry.field(description="The two contacts (kind CONTACT).")
    async def contacts(self, info: Info) -> list[Contact]:
        if self._row.kind.value != "contact":
            return []
        loader = info.context.loaders.contact_by_id
        rows = await loader.load_many([self._row.left_id, self._row.right_id])
        mask = info.context.mask_personal
        return [Contact.from_model(r, mask) for r in rows if r is not None]

    @strawberry.field(description="The lead (kind LEAD).")
    async def lead(self, info: Info) -> Lead | None:
        if self._row.kind.value != "lead":
            return None
        row = await info.context.loaders.lead_by_id.load(self._row.left_id)
        return Lead.from_model(row, info.context.mask_personal) if row is not None else None


@strawberry.type(description="A likely existing customer for the data about to be written.")
class DuplicateMatch:
    customer: Customer
    score: float
    evidence: list[DuplicateEvidence]
    blocked_on: list[str]


@strawberry.type(description="A merge of two customers; undoable within the company's window.")
class CustomerMerge:
    id: strawberry.ID
    survivor_id: strawberry.ID
    merged_id: strawberry.ID = strawberry.field(
        description="The merged customer: a tombstone now; `node`/`customer` on it answer null."
    )
    merged_at: datetime
    automatic: bool
    score: float | None
    undone_at: datetime | None
    moved: list[MovedRows]
    _survivor: strawberry.Private[Any]

    @classmethod
    def from_model(cls, row: MergeRow) -> CustomerMerge:
        return cls(
            id=strawberry.ID(to_global_id("CustomerMerge", row.id)),
            survivor_id=strawberry.ID(to_global_id("Customer", row.survivor_id)),
            merged_id=strawberry.ID(to_global_id("Customer", row.merged_id)),
            merged_at=row.merged_at,
            automatic=row.automatic,
            score=row.score,
            undone_at=row.undone_at,
            moved=[MovedRows(table=k, count=len(v)) for k, v in sorted(row.moved.items())],
            _survivor=row.survivor_id,
        )

    @strawberry.field
    async def survivor(self, info: Info) -> Customer | None:
        return await customer_of(info, self._survivor)


@strawberry.type(description="How many rows of one table (and column) a merge moved.")
class MovedRows:
    table: str
    count: int


@strawberry.type
class DedupSettings:
    auto_merge_threshold: float | None = strawberry.field(
        description="Pairs scored at or above it merge without review; null: never."
    )
    undo_window_days: int
    min_score: float = strawberry.field(description="Pairs below it stay out of the queue.")

    @classmethod
    def from_settings(cls, s: SettingsModel) -> DedupSettings:
        return cls(
            auto_merge_threshold=s.auto_merge_threshold,
            undo_window_days=s.undo_window_days,
            min_score=s.min_score,
        )
