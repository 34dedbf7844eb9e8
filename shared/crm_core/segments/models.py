"""Saved customer segments (客户分类表: saved filters by industry, region, spend, needs, lifecycle…).
A segment stores a customer filter, never a list of customers: it is evaluated live, for each
viewer within that viewer's data scope."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Boolean, Index, String, Text, Uuid, column
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import AuditedMixin, IdMixin, TenantBase


class Segment(IdMixin, AuditedMixin, TenantBase):
    __tablename__ = "segments"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    # The normalised filter spec of the customers list ({"and": [...], "<field>": {"<op>": v}}),
    # JSON-safe (ids, dates and times as text); checked by compiling it when saved.
    filter: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    # Shared: every member of the company sees it; otherwise only its owner does.
    shared: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Who saved it (a member, or the API client's record id); no foreign key across schemas.
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)

    __table_args__ = (
        # "My segments" and the visibility rule (owner_id = me OR shared).
        Index("ix_segments_owner_id_name", "owner_id", "name"),
        Index(
            "ix_segments_shared_name",
            "name",
            postgresql_where=column("shared").is_(True) & column("deleted_at").is_(None),
        ),
        # The default list order, and "created" orderings.
        Index("ix_segments_name_id", "name", "id"),
        Index("ix_segments_created_at_id", "created_at", "id"),
    )
