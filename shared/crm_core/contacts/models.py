"""Contact table: people at a customer (domain.md §2)."""

from __future__ import annotations

import enum
import uuid
from datetime import date
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import AuditedMixin, IdMixin, TenantBase, str_enum


class ContactChannel(enum.StrEnum):
    phone = "phone"
    mobile = "mobile"
    email = "email"
    wechat = "wechat"
    sms = "sms"
    visit = "visit"
    other = "other"


class Contact(IdMixin, AuditedMixin, TenantBase):
    __tablename__ = "contacts"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    title: Mapped[str | None] = mapped_column(String(120))  # 职位
    department: Mapped[str | None] = mapped_column(String(120))
    # [{"label": "mobile", "e164": "+8613812345678", "raw": "138 1234 5678"}, …]
    phones: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    # [{"label": "work", "address": "li@example.com"}, …]
    emails: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    # [{"network": "wechat", "handle": "li_wei_88"}, …]
    social_accounts: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, default=list
    )
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    preferred_channel: Mapped[ContactChannel | None] = mapped_column(
        str_enum(ContactChannel, "contact_channel")
    )
    preferred_time: Mapped[str | None] = mapped_column(String(120))
    birthday: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    search_public: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")

    __table_args__ = (
        Index("ix_contacts_customer_id_created_at", "customer_id", "created_at", "id"),
        Index("ix_contacts_created_at_id", "created_at", "id"),
        Index(
            "ix_contacts_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        Index(
            "ix_contacts_search_public_trgm",
            "search_public",
            postgresql_using="gin",
            postgresql_ops={"search_public": "gin_trgm_ops"},
        ),
    )
