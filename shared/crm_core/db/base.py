"""Declarative bases: ``CoreBase`` for the control plane, ``TenantBase`` for per-tenant tables.

Tenant tables carry no schema: a session bound to a tenant maps ``None`` to that tenant's
schema through ``schema_translate_map``, so a query can never reach another tenant by accident.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, Enum, Integer, MetaData, Uuid, func
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CORE_SCHEMA = "core"


class CoreBase(DeclarativeBase):
    metadata = MetaData(schema=CORE_SCHEMA, naming_convention=NAMING)


class TenantBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


E = TypeVar("E", bound=enum.Enum)


def str_enum(enum_cls: type[E], name: str) -> Enum:
    """Enums as checked VARCHARs: native PostgreSQL enums would have to exist in every schema."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


class AuditedMixin(TimestampMixin):
    """Who made and last changed a tenant record; soft delete; optimistic concurrency."""

    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        # SQLAlchemy bumps ``version`` on every UPDATE and adds ``WHERE version = :old``.
        # eager_defaults: fetch server-set columns (updated_at) with RETURNING, so a record can
        # still be read after its session has closed.
        return {
            "version_id_col": cls.__dict__.get("version") or cls.version,
            "eager_defaults": True,
        }
