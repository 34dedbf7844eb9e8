"""Writing the audit log: every write of a tenant record adds one entry in the same transaction,
so an entry exists exactly when the change does."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_core.audit.models import AuditEntry
from crm_core.identity.principal import Principal

SKIP = frozenset({"tax_id_encrypted", "tax_id_index", "bank_account_encrypted"}) | frozenset(
    {"version", "updated_at", "updated_by", "search_text", "search_public", "created_at"}
)


def plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "(binary)"
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def snapshot(record: Any, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The record's column values, JSON-safe, without bookkeeping columns."""
    names = fields if fields is not None else [c.key for c in record.__table__.columns]
    return {n: plain(getattr(record, n)) for n in names if n not in SKIP}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def _actor(principal: Principal) -> tuple[uuid.UUID | None, str]:
    if principal.client_id is not None:
        return principal.user_id, "client"
    if principal.user_id.int == 0:
        return None, "system"
    return principal.user_id, "user"


def record(
    session: AsyncSession,
    principal: Principal,
    action: str,
    entity: str,
    entity_id: uuid.UUID,
    changes: dict[str, Any],
) -> None:
    actor_id, kind = _actor(principal)
    session.add(
        AuditEntry(
            actor_id=actor_id,
            actor_kind=kind,
            action=action,
            entity=entity,
            entity_id=entity_id,
            changes=changes,
        )
    )
