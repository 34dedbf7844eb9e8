"""Contract table (合同管理表) and its deliveries (domain.md §8): what was signed with a customer,
for how long and how much, and what must be delivered and accepted under it."""

from __future__ import annotations

import enum
import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    Sequence,
    String,
    Text,
    Uuid,
    column,
)
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import AuditedMixin, IdMixin, TenantBase, str_enum

# Numbers given to contracts created without one (CT-000001…); per tenant schema.
contract_number_seq = Sequence("contract_number_seq", metadata=TenantBase.metadata)


class ContractStatus(enum.StrEnum):
    draft = "draft"
    active = "active"
    completed = "completed"
    terminated = "terminated"
    expired = "expired"


# The workflow, in one place: draft → active → completed | terminated | expired. A contract also
# expires by date (``service.expire_ended``); completed, terminated and expired are final.
TRANSITIONS: dict[ContractStatus, frozenset[ContractStatus]] = {
    ContractStatus.draft: frozenset({ContractStatus.active}),
    ContractStatus.active: frozenset(
        {ContractStatus.completed, ContractStatus.terminated, ContractStatus.expired}
    ),
    ContractStatus.completed: frozenset(),
    ContractStatus.terminated: frozenset(),
    ContractStatus.expired: frozenset(),
}


class AcceptanceStatus(enum.StrEnum):
    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"


class Contract(IdMixin, AuditedMixin, TenantBase):
    __tablename__ = "contracts"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    # The opportunity it closes (of the same customer); destroying the opportunity keeps the
    # contract.
    opportunity_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("opportunities.id", ondelete="SET NULL")
    )
    number: Mapped[str] = mapped_column(String(60), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    signed_on: Mapped[date | None] = mapped_column(Date)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=Decimal("0.00"))
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[ContractStatus] = mapped_column(
        str_enum(ContractStatus, "contract_status"), nullable=False, default=ContractStatus.draft
    )
    # A member of the tenant (core.users; no foreign key across schemas, as customers.owner_id).
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    terms: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")

    __table_args__ = (
        # The service checks these with field errors; the database holds them whatever the writer.
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
        CheckConstraint("ends_on > starts_on", name="ends_after_start"),
        CheckConstraint("signed_on IS NULL OR signed_on <= ends_on", name="signed_not_after_end"),
        # Numbers are unique among live contracts: a deleted contract's number can be reused
        # (restoring it then needs a free number).
        Index(
            "uq_contracts_number_live",
            "number",
            unique=True,
            postgresql_where=column("deleted_at").is_(None),
        ),
        # A customer's contracts (Customer.contracts, filters on customerId).
        Index("ix_contracts_customer_id_starts_on", "customer_id", "starts_on", "id"),
        # The default list order, and "created" orderings.
        Index("ix_contracts_starts_on_id", "starts_on", "id"),
        Index("ix_contracts_created_at_id", "created_at", "id"),
        Index("ix_contracts_opportunity_id", "opportunity_id"),
        # "My contracts" lists.
        Index("ix_contracts_owner_id_starts_on", "owner_id", "starts_on"),
        # What the expiry sweep and "contracts ending soon" reminders scan: live active ones.
        Index(
            "ix_contracts_active_ends_on",
            "ends_on",
            postgresql_where=(column("status") == "active") & column("deleted_at").is_(None),
        ),
        Index(
            "ix_contracts_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )


class ContractDelivery(IdMixin, AuditedMixin, TenantBase):
    """One delivery due under a contract, and its acceptance (验收) by the customer."""

    __tablename__ = "contract_deliveries"

    contract_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("contracts.id", ondelete="CASCADE"), nullable=False
    )
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    delivered_on: Mapped[date | None] = mapped_column(Date)
    acceptance_status: Mapped[AcceptanceStatus] = mapped_column(
        str_enum(AcceptanceStatus, "acceptance_status"),
        nullable=False,
        default=AcceptanceStatus.pending,
    )
    accepted_on: Mapped[date | None] = mapped_column(Date)
    acceptance_notes: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(
            "(acceptance_status = 'accepted') = (accepted_on IS NOT NULL)",
            name="accepted_on_matches_status",
        ),
        CheckConstraint(
            "acceptance_status = 'pending' OR delivered_on IS NOT NULL",
            name="judged_after_delivery",
        ),
        CheckConstraint(
            "accepted_on IS NULL OR accepted_on >= delivered_on", name="accepted_after_delivery"
        ),
        # A contract's deliveries (Contract.deliveries, and the date check when a contract's
        # validity changes).
        Index("ix_contract_deliveries_contract_id_due_on", "contract_id", "due_on", "id"),
        # The default list order, and "created" orderings.
        Index("ix_contract_deliveries_due_on_id", "due_on", "id"),
        Index("ix_contract_deliveries_created_at_id", "created_at", "id"),
        # Delivery reminders: live deliveries not yet made, by due date.
        Index(
            "ix_contract_deliveries_undelivered_due_on",
            "due_on",
            postgresql_where=column("delivered_on").is_(None) & column("deleted_at").is_(None),
        ),
    )
