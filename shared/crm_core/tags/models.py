"""Tag catalogue (客户分类表): the tags customers carry, with a colour, a category and a
description. Membership stays in ``customers.tags`` (text[]), by name: a tag's rename and destroy
rewrite those arrays in the same transaction."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Index, String, Text, column, func
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.db.base import AuditedMixin, IdMixin, TenantBase


class Tag(IdMixin, AuditedMixin, TenantBase):
    __tablename__ = "tags"

    # The same bound as one element of customers.tags.
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    color: Mapped[str | None] = mapped_column(String(7))  # "#RRGGBB", stored upper-case
    category: Mapped[str | None] = mapped_column(String(60))
    description: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("color IS NULL OR color ~ '^#[0-9A-F]{6}$'", name="color_hex"),
        # One live tag per name, whatever the case ("VIP" and "vip" would split the customers);
        # a deleted tag keeps its name until restored (restore checks it again).
        Index(
            "uq_tags_live_name",
            func.lower(column("name")),
            unique=True,
            postgresql_where=column("deleted_at").is_(None),
        ),
        # The default list order (by name) and "created" orderings.
        Index("ix_tags_name_id", "name", "id"),
        Index("ix_tags_created_at_id", "created_at", "id"),
        Index("ix_tags_category", "category"),
    )
