"""Customer table (客户基本信息表): every field of domain.md §1."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ARRAY,
    Date,
    DateTime,
    Index,
    LargeBinary,
    Numeric,
    Sequence,
    String,
    Text,
    Uuid,
    column,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import AuditedMixin, IdMixin, TenantBase, str_enum
from crm_core.pool.models import PoolReason


class CustomerKind(enum.StrEnum):
    company = "company"
    individual = "individual"


class CustomerGrade(enum.StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"


class LifecycleStage(enum.StrEnum):
    lead = "lead"
    new = "new"
    repeat = "repeat"
    loyal = "loyal"
    at_risk = "at_risk"
    churned = "churned"


class CustomerSource(enum.StrEnum):
    referral = "referral"
    website = "website"
    exhibition = "exhibition"
    cold_call = "cold_call"
    advertising = "advertising"
    partner = "partner"
    social_media = "social_media"
    walk_in = "walk_in"
    other = "other"


class CreditRating(enum.StrEnum):
    AAA = "AAA"
    AA = "AA"
    A = "A"
    B = "B"
    C = "C"


class PaymentHabit(enum.StrEnum):
    prepaid = "prepaid"
    on_time = "on_time"
    sometimes_late = "sometimes_late"
    often_late = "often_late"


class ServiceMode(enum.StrEnum):
    onsite = "onsite"
    remote = "remote"
    phone = "phone"
    email = "email"
    self_service = "self_service"


class Gender(enum.StrEnum):
    female = "female"
    male = "male"
    other = "other"


class AreaType(enum.StrEnum):
    urban = "urban"
    rural = "rural"


class IncomeBand(enum.StrEnum):
    low = "low"
    lower_middle = "lower_middle"
    middle = "middle"
    upper_middle = "upper_middle"
    high = "high"


# Numbers customer codes (C-000001) in each tenant when the user gives none.
customer_code_seq = Sequence("customer_code_seq", metadata=TenantBase.metadata)


class Customer(IdMixin, AuditedMixin, TenantBase):
    __tablename__ = "customers"

    code: Mapped[str] = mapped_column(String(40), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[CustomerKind] = mapped_column(
        str_enum(CustomerKind, "customer_kind"), nullable=False
    )
    industry: Mapped[str | None] = mapped_column(String(100))
    grade: Mapped[CustomerGrade | None] = mapped_column(str_enum(CustomerGrade, "customer_grade"))
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(50)), nullable=False, default=list)
    lifecycle_stage: Mapped[LifecycleStage] = mapped_column(
        str_enum(LifecycleStage, "lifecycle_stage"), nullable=False, default=LifecycleStage.new
    )
    source: Mapped[CustomerSource | None] = mapped_column(
        str_enum(CustomerSource, "customer_source")
    )
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # The shared pool (公海, crm_core.pool): how an ownerless customer got there, from whom, and
    # when the current owner claimed it (the reclaim clock starts there).
    pool_entered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pool_reason: Mapped[PoolReason | None] = mapped_column(str_enum(PoolReason, "pool_reason"))
    previous_owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # Reachability: phone stored E.164, the text as typed kept beside it.
    phone: Mapped[str | None] = mapped_column(String(20))
    phone_raw: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(300))

    # Address, split (the one-line text is kept when it was given that way).
    address_line: Mapped[str | None] = mapped_column(String(300))
    country: Mapped[str | None] = mapped_column(String(2))
    province: Mapped[str | None] = mapped_column(String(60))
    city: Mapped[str | None] = mapped_column(String(60))
    district: Mapped[str | None] = mapped_column(String(60))
    street: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(12))

    # Credit and habits.
    credit_rating: Mapped[CreditRating | None] = mapped_column(
        str_enum(CreditRating, "credit_rating")
    )
    payment_habit: Mapped[PaymentHabit | None] = mapped_column(
        str_enum(PaymentHabit, "payment_habit")
    )

    # Preferences.
    preferred_products: Mapped[list[str]] = mapped_column(
        ARRAY(String(100)), nullable=False, default=list
    )
    purchase_frequency: Mapped[str | None] = mapped_column(String(60))
    preferred_service_mode: Mapped[ServiceMode | None] = mapped_column(
        str_enum(ServiceMode, "service_mode")
    )

    # For individuals and for the distribution reports.
    gender: Mapped[Gender | None] = mapped_column(str_enum(Gender, "gender"))
    birth_date: Mapped[date | None] = mapped_column(Date)
    area_type: Mapped[AreaType | None] = mapped_column(str_enum(AreaType, "area_type"))
    income_band: Mapped[IncomeBand | None] = mapped_column(str_enum(IncomeBand, "income_band"))

    # [{"label": "founded", "date": "2010-05-01"}, …]
    important_dates: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, default=list
    )
    # [{"weekday": 1..7 | null, "start": "12:00", "end": "14:00", "note": "lunch"}, …]
    do_not_visit: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    distance_km: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))

    # Sensitive identifiers, encrypted with the tenant's data key; the tax id also has a blind
    # index so it can be found by exact value (统一社会信用代码 / national id / VAT number).
    tax_id_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    tax_id_index: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    bank_account_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    notes: Mapped[str | None] = mapped_column(Text)

    # Cleansing: what could not be fixed, for a person to review; when it last ran.
    review_flags: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    cleansed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Search text (names, pinyin, phone digits, e-mail), kept by the service on every write, and
    # the same without personal data, for roles that see phones and e-mails masked.
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    search_public: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    # Deduplication (crm_core.dedup): blocking keys (phone, e-mail, name and company keys), kept
    # by the service on every write and by the scan; a merged record is a soft-deleted tombstone
    # that points at the customer it was merged into.
    dedup_keys: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, default=list, server_default="{}"
    )
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    merged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # Unique in the tenant, soft-deleted rows included, so a restore never collides.
        Index("uq_customers_code", "code", unique=True),
        Index("ix_customers_name", "name"),
        Index("ix_customers_owner_id", "owner_id"),
        # The pool list (customerPool): live ownerless customers, latest entered first.
        Index(
            "ix_customers_pool_entered_at_id",
            "pool_entered_at",
            "id",
            postgresql_where=column("owner_id").is_(None) & column("deleted_at").is_(None),
        ),
        Index("ix_customers_created_at_id", "created_at", "id"),
        # The live customers' ids, read index-only: a child's list, aggregate or grouping keeps
        # only rows whose customer is not deleted (a hash join on this instead of the table),
        # and the customer list's totalCount (which also leaves out merged ones) counts it.
        Index(
            "ix_customers_live_id",
            "id",
            postgresql_include=["merged_into_id"],
            postgresql_where=column("deleted_at").is_(None),
        ),
        Index("ix_customers_phone", "phone"),
        Index("ix_customers_email", "email"),
        Index("ix_customers_tax_id_index", "tax_id_index"),
        Index(
            "ix_customers_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        Index(
            "ix_customers_search_public_trgm",
            "search_public",
            postgresql_using="gin",
            postgresql_ops={"search_public": "gin_trgm_ops"},
        ),
        # Duplicate look-ups (customerDuplicates, the scan) and a survivor's merged records.
        Index("ix_customers_dedup_keys", "dedup_keys", postgresql_using="gin"),
        Index(
            "ix_customers_merged_into_id",
            "merged_into_id",
            postgresql_where=column("merged_into_id").is_not(None),
        ),
        # The default list order over live rows.
        Index(
            "ix_customers_live_created_at_id",
            "created_at",
            "id",
            postgresql_where=column("deleted_at").is_(None),
        ),
    )
